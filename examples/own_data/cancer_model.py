"""The model for the breast cancer sweep: the sweep calls build(input_shape=..., outputs=...) once per
trial and compiles the uncompiled model it returns with the trial's loss."""

import keras


def build(input_shape, outputs):
    inputs = keras.Input(input_shape)
    x = keras.layers.BatchNormalization()(inputs)  # the 30 features span five orders of magnitude
    x = keras.layers.Dense(16, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(outputs)(x))  # logits: the losses get from_logits=True
