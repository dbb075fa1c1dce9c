"""Trainable pieces of a loss. A variable created inside a `keras.losses.Loss` is not a model weight,
so `model.fit` never updates it; parameters that must learn live in layers, owned by the model."""

import keras
from keras import ops

from kerasloss.core.hyperparameters import one_of
from kerasloss.core.registry import PACKAGE

__all__ = ["UncertaintyWeighting"]

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
        self.likelihoods = tuple(one_of(*_LIKELIHOOD_SCALE)("likelihoods", x) for x in likelihoods)
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
