"""Trainable pieces of a loss. A variable created inside a `keras.losses.Loss` is not a model weight,
so `model.fit` never updates it; parameters that must learn live in layers, owned by the model."""

import math

import keras
from keras import ops

from kerasloss.core.hyperparameters import positive
from kerasloss.core.registry import PACKAGE
from kerasloss.metric_learning.pairwise import l2_normalize

__all__ = ["LearnableTemperature"]

# Kendall et al.'s per-task scale of the precision term: a Gaussian likelihood (regression) gives
# 1 / (2 sigma^2), a softmax / Bernoulli one (classification) gives 1 / sigma^2.
_LIKELIHOOD_SCALE = {"gaussian": 0.5, "softmax": 1.0}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LearnableTemperature(keras.layers.Layer):
    """A learned temperature for contrastive losses, as CLIP learns it (Radford et al. 2021).

    A loss cannot hold trainable weights (`fit` does not update a variable created inside a
    `keras.losses.Loss`), so the temperature lives in this layer, last in the embedding model. It
    L2-normalizes each embedding and scales it by `sqrt(s)`, `s = exp(log_scale) = 1 / T`, so that the
    dot product of two outputs is `s * cosine`: train with a contrastive loss given `distance="dot"`
    and `temperature=1.0`. `log_scale` is trainable (the log keeps s positive and its steps relative)
    and clamped to `log(max_scale)`, as CLIP clamps s at 100.

    Args:
        initial_temperature: T at the start, a float > 0. Defaults to `0.07` (CLIP's).
        max_scale: The clamp on `1 / T`, a float > 0. Defaults to `100.0` (CLIP's).
        **kwargs: Other `keras.layers.Layer` arguments, e.g. `name`, `dtype`.

    Call arguments:
        embeddings: Shape `(..., dim)`, e.g. `(batch, 2, dim)` for `NTXent`.

    Returns:
        The normalized, scaled embeddings, of the same shape. `temperature` is the current T.

    References:
        Radford et al., "Learning Transferable Visual Models From Natural Language Supervision", ICML 2021.
        https://arxiv.org/abs/2103.00020

    Example:

    >>> layer = kerasloss.LearnableTemperature(initial_temperature=0.5)
    >>> print(keras.ops.convert_to_numpy(layer.temperature).round(4))
    0.5
    >>> print(keras.ops.convert_to_numpy(layer(np.array([[3.0, 4.0]]))).round(4))  # (0.6, 0.8) * sqrt(2)
    [[0.8485 1.1314]]

    With the `compile()` API:

    >>> inputs = keras.Input(shape=(2, 8))  # two views
    >>> outputs = kerasloss.LearnableTemperature()(keras.layers.Dense(4)(inputs))
    >>> model = keras.Model(inputs, outputs)
    >>> model.compile(optimizer="adam", loss=kerasloss.NTXent(temperature=1.0, distance="dot"))
    """

    def __init__(self, initial_temperature=0.07, max_scale=100.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_temperature = positive("initial_temperature", initial_temperature)
        self.max_scale = positive("max_scale", max_scale)
        self.log_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(1.0 / self.initial_temperature)),
            name="log_scale",
        )
        self.built = True

    def scale(self):
        return ops.exp(ops.minimum(ops.convert_to_tensor(self.log_scale), math.log(self.max_scale)))

    @property
    def temperature(self):
        """The current temperature T = 1 / s."""
        return 1.0 / self.scale()

    def call(self, embeddings):
        return l2_normalize(embeddings) * ops.cast(ops.sqrt(self.scale()), embeddings.dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_temperature": self.initial_temperature,
            "max_scale": self.max_scale,
        }
