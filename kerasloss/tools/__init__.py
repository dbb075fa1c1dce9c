"""What helps choose and watch a loss: training callbacks, keras-tuner search spaces over the losses'
hyperparameters (`search.py`), and the loss selector behind `kerasloss.recommend` (`selector.py`)."""
