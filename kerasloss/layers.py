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
    """Learned task weights from homoscedastic uncertainty (Kendall, Gal & Cipolla 2018,
    "Multi-Task Learning Using Uncertainty to Weigh Losses").

    Formula, with one trainable s_i = log sigma_i^2 per task (initialised to 0):
        total = sum_i c_i exp(-s_i) L_i + s_i / 2,   c_i = 1/2 (gaussian) or 1 (softmax)
    A noisy task raises its s_i and so lowers its own weight; the s_i / 2 term stops every sigma from
    growing without bound.

    Args:
        likelihoods: one of "gaussian" (regression) or "softmax" (classification) per task.
    Call: a (tasks,) tensor of per-task losses; returns the scalar total.
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
    """A learned temperature for contrastive losses, CLIP's way (Radford et al. 2021).

    Normalizes each embedding and scales it by sqrt(s), s = exp(log_scale) = 1 / T, so that dot
    products of the outputs are s * cosine. log_scale is trainable (the log parametrization keeps s
    positive and its steps relative) and clamped to log(max_scale), as CLIP clamps at 100. Put it last
    in the embedding model and train with a contrastive loss using `similarity="dot"` and
    `temperature=1.0`:

        outputs = kerasloss.LearnableTemperature()(embeddings)
        model.compile(loss=kerasloss.NTXent(temperature=1.0, similarity="dot"))

    Args:
        initial_temperature: T at the start, > 0. Defaults to 0.07 (CLIP's).
        max_scale: the clamp on 1 / T, > 0. Defaults to 100.
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
