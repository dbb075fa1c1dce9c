"""What every loss is built on, one module per concern:

    loss.py             the `Loss` base class, and `INPUTS`: what a loss can declare it takes
    registry.py         registration (Keras serialization and `kerasloss.get` by name)
    hyperparameters.py  `@hyperparameters(...)`: each loss argument declared once with its check
    inputs.py           checks on `y_true` / `y_pred`: shapes, class ids, empty batches
    numerics.py         numerically careful pieces: float32 compute, clipped probabilities, stable logs
    errors.py           the one message for a refused argument (imports nothing: the CLI uses it)
    keras_private.py    the Keras internals reached, behind one import with the versions tested

The package imports none of them itself, so `kerasloss.core.errors` loads without Keras.
"""
