"""The networks a sweep trains: the built-in MLPs (a head per task, an encoder for embeddings), or the
user's own, from a function `build(input_shape=..., outputs=...)` returning an uncompiled Keras model; and
the wrappers some embedding losses train it in (two views in, class proxies out)."""

import keras

import kerasloss

DEFAULTS = {"hidden": [32, 32], "embedding_dim": 16, "normalize": True}


def mlp(inputs, hidden, name):
    x = keras.layers.Flatten(name=f"{name}_flatten")(inputs) if len(inputs.shape) > 2 else inputs
    for i, width in enumerate(hidden):
        x = keras.layers.Dense(width, activation="relu", name=f"{name}_dense_{i}")(x)
    return x


def head(task, input_shape, outputs, config):
    """A model from `input_shape` to `outputs` logits (binary: 1, multiclass: classes) or estimates."""
    config = {**DEFAULTS, **config}
    inputs = keras.Input(input_shape, name="x")
    outputs = keras.layers.Dense(outputs, name="output")(mlp(inputs, config["hidden"], task))
    return keras.Model(inputs, outputs, name=f"{task}_mlp")


def encoder(input_shape, config):
    """An embedding network `input_shape` -> (embedding_dim,), L2-normalized if `normalize`."""
    config = {**DEFAULTS, **config}
    inputs = keras.Input(input_shape, name="x")
    z = keras.layers.Dense(config["embedding_dim"], name="embedding")(mlp(inputs, config["hidden"], "encoder"))
    if config["normalize"]:
        z = keras.layers.UnitNormalization(name="unit_norm")(z)
    return keras.Model(inputs, z, name="encoder")


SQUASHING = ("sigmoid", "softmax", "log_softmax")


def _squashing(model):
    """The name of a sigmoid or softmax that the model's output comes out of last (a layer, a layer's
    activation, or a `keras.ops` call), or None."""
    outputs = getattr(model, "outputs", None) or []
    operation = outputs[0]._keras_history.operation if outputs and hasattr(outputs[0], "_keras_history") else None
    if operation is None:
        operation = model.layers[-1] if model.layers else None
    while isinstance(operation, keras.Model) and operation.layers:  # a nested model: its own last layer
        operation = operation.layers[-1]
    if isinstance(operation, keras.layers.Softmax):
        return "softmax"
    if getattr(operation, "name", "").split("_")[0] in ("sigmoid", "softmax") and not isinstance(
        operation, keras.layers.Layer
    ):
        return operation.name.split("_")[0]  # keras.ops.sigmoid / softmax in a functional model
    name = getattr(getattr(operation, "activation", None), "__name__", None)
    return name if name in SQUASHING else None


def from_function(function, input_shape, outputs, where, logits=True):
    """The user's model: `function(input_shape=..., outputs=...)`, checked to be a Keras model that takes
    `input_shape` and returns (batch, outputs). A classifier (`logits`) whose output layer applies a sigmoid
    or softmax is refused: every loss the harness builds is told `from_logits=True`, and would train the
    squashed values as logits (a model that predicts every row positive)."""
    try:
        model = function(input_shape=tuple(input_shape), outputs=int(outputs))
    except TypeError as error:
        if "argument" not in str(error):
            raise
        raise TypeError(
            f"model {where}: calling it as {getattr(function, '__name__', 'function')}(input_shape="
            f"{tuple(input_shape)}, outputs={outputs}) failed: {error}. A model function takes the keywords "
            "input_shape and outputs: def build(input_shape, outputs): ..."
        ) from None
    if not isinstance(model, keras.Model):
        raise TypeError(f"model {where}: returned {type(model).__name__}, not a keras.Model")
    produced = model.compute_output_spec(keras.KerasTensor((2, *input_shape))).shape
    if tuple(produced) != (2, outputs):
        raise ValueError(
            f"model {where}: for input_shape={tuple(input_shape)} and outputs={outputs} it returns shape "
            f"{tuple(produced[1:])} per example, not ({outputs},)"
        )
    squashing = _squashing(model) if logits else None
    if squashing:
        raise ValueError(
            f"model {where}: its output layer applies a {squashing}; the harness trains on logits (each loss "
            f"with from_logits=True), so end with a plain Dense({outputs}) and no activation"
        )
    return model


def two_view(encoder_model, input_shape):
    """The encoder applied to each of two views: (2, *input_shape) -> (2, embedding_dim), for NT-Xent / SupCon."""
    inputs = keras.Input((2, *input_shape), name="views")
    return keras.Model(inputs, keras.layers.TimeDistributed(encoder_model, name="per_view")(inputs), name="two_view")


def with_proxies(encoder_model, input_shape, classes):
    """The encoder followed by trainable class proxies: input_shape -> (classes,) cosines, for ArcFace,
    CosFace, ProxyAnchor and ProxyNCA. The proxies are the last layer's weights; the encoder is unchanged."""
    inputs = keras.Input(tuple(input_shape), name="x")
    cosines = kerasloss.CosineProxies(classes, name="proxies")(encoder_model(inputs))
    return keras.Model(inputs, cosines, name="with_proxies")
