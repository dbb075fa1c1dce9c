"""Trainable pieces of a loss. A variable created inside a `keras.losses.Loss` is not a model weight,
so `model.fit` never updates it; parameters that must learn live in layers, owned by the model."""

import math

import keras
from keras import ops

from kerasloss.base import PACKAGE, check_choice, check_positive
from kerasloss.pairwise import l2_normalize

# Kendall et al.'s per-task scale of the precision term: a Gaussian likelihood (regression) gives
# 1 / (2 sigma^2), a softmax / Bernoulli one (classification) gives 1 / sigma^2.
_LIKELIHOOD_SCALE = {"gaussian": 0.5, "softmax": 1.0}


@keras.saving.register_keras_serializable(package=PACKAGE)
class UncertaintyWeighting(keras.layers.Layer):
    """Learns task weights from homoscedastic uncertainty, for a multi-task loss (Kendall et al. 2018).

    A loss cannot hold trainable weights (`fit` does not update a variable created inside a
    `keras.losses.Loss`), so the learned weights live in this layer, owned by the model (see
    `UncertaintyWeightedModel`). Formula, with one trainable `s_i = log(sigma_i ** 2)` per task,
    initialised to 0:

        total = sum_i c_i * exp(-s_i) * L_i + s_i / 2,   c_i = 1/2 (gaussian) or 1 (softmax)

    A noisy task raises its s_i and so lowers its own weight; the `s_i / 2` term stops every sigma from
    growing without bound.

    Args:
        likelihoods: One of `"gaussian"` (a regression task) or `"softmax"` (a classification task) per
            task. Defaults to `("softmax", "gaussian")`.
        **kwargs: Other `keras.layers.Layer` arguments, e.g. `name`, `dtype`.

    Call arguments:
        task_losses: The per-task losses, shape `(tasks,)`.

    Returns:
        The weighted total, a scalar. `task_weights` is the current effective weight `c_i * exp(-s_i)`
        of each task.

    References:
        Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry
        and Semantics", CVPR 2018. https://arxiv.org/abs/1705.07115

    Example:

    >>> weighting = kerasloss.UncertaintyWeighting(("softmax", "gaussian"))
    >>> print(keras.ops.convert_to_numpy(weighting.task_weights))
    [1.  0.5]
    >>> total = weighting(np.array([0.7, 2.0]))  # 1 * 0.7 + 0.5 * 2.0 + 0
    >>> print(keras.ops.convert_to_numpy(total).round(4))
    1.7
    """

    def __init__(self, likelihoods=("softmax", "gaussian"), **kwargs):
        super().__init__(**kwargs)
        self.likelihoods = tuple(check_choice("likelihoods", x, tuple(_LIKELIHOOD_SCALE)) for x in likelihoods)
        self.log_variances = self.add_weight(shape=(len(self.likelihoods),), initializer="zeros", name="log_variances")
        self.built = True

    @property
    def task_weights(self):
        """The current effective weight c_i exp(-s_i) of each task."""
        return self._scales() * ops.exp(-ops.convert_to_tensor(self.log_variances))

    def _scales(self):
        return ops.convert_to_tensor([_LIKELIHOOD_SCALE[x] for x in self.likelihoods], dtype=self.dtype)

    def call(self, task_losses):
        log_variances = ops.cast(self.log_variances, task_losses.dtype)
        scales = ops.cast(self._scales(), task_losses.dtype)
        return ops.sum(scales * ops.exp(-log_variances) * task_losses + 0.5 * log_variances)

    def get_config(self):
        return {**super().get_config(), "likelihoods": list(self.likelihoods)}


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
        self.initial_temperature = check_positive("initial_temperature", initial_temperature)
        self.max_scale = check_positive("max_scale", max_scale)
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
