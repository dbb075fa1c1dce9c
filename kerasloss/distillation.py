"""Kullback-Leibler divergence and knowledge distillation (Hinton et al. 2015, "Distilling the
Knowledge in a Neural Network").

Shapes: `y_true`, `y_pred` of shape `(batch, ..., classes)`; the loss sums over the last axis and
returns `(batch, ...)`.
"""

import keras
from keras import ops

from kerasloss.base import Loss, check_bool, check_positive, register
from kerasloss.inputs import same_shape
from kerasloss.numerics import computed_in_float32, smallest_probability


def _kl_from_logs(p, log_p, log_q):
    """sum p (log p - log q), with 0 log 0 = 0 (a zero target probability contributes nothing)."""
    positive = p > 0
    return ops.sum(ops.where(positive, p * (log_p - log_q), 0.0), axis=-1)


def kl_divergence(y_true, y_pred, *, from_logits=False):
    """KL(y_true || y_pred) over the last axis: Keras' `kl_divergence`, plus a logits path.

    Formula, with p = y_true and q = y_pred:
        probabilities (default): p and q clipped to [eps, 1] (eps = 1e-7), loss = sum(p log(p / q), axis=-1)
        from_logits=True:        loss = sum(p (log p - log_softmax(y_pred)), axis=-1), with 0 log 0 = 0
    The probability path is Keras' `KLDivergence` exactly: neither input is renormalized (q need not sum
    to 1, and a last axis of size 1 is a sum of one term), and a zero entry of p contributes
    eps log(eps / q) as Keras' clip makes it. The logits path is the exact divergence from softmax(y_pred);
    for one-hot p it is the cross-entropy -log q_y, with the same gradient.

    Args:
        from_logits: `y_pred` holds logits. Defaults to False (probabilities).
    """
    y_true, y_pred = same_shape(y_true, y_pred, "kl_divergence")
    if not from_logits:
        smallest = smallest_probability(keras.backend.standardize_dtype(y_pred.dtype))
        p, q = ops.clip(y_true, smallest, 1.0), ops.clip(y_pred, smallest, 1.0)
        # log p - log q, not log(p / q): the quotient's gradient p / q^2 overflows float16 where q is tiny.
        return ops.sum(p * (ops.log(p) - ops.log(q)), axis=-1)
    # log(p) only where p > 0: the other branch must stay finite, or its NaN gradient leaks through where.
    log_p = ops.log(ops.where(y_true > 0, y_true, 1.0))
    return _kl_from_logs(y_true, log_p, ops.log_softmax(y_pred, axis=-1))


@computed_in_float32
def distillation_loss(y_true, y_pred, *, temperature=4.0):
    """Knowledge distillation: match the student's softened distribution to the teacher's.

    Formula, with teacher logits z_t = y_true, student logits z_s = y_pred, temperature T:
        loss = T^2 KL(softmax(z_t / T) || softmax(z_s / T))
    The T^2 keeps gradient magnitudes comparable across temperatures (Hinton et al. 2015, sec. 2).

    Args:
        temperature: T > 0; higher exposes more of the teacher's "dark knowledge". Defaults to 4.0
            (Hinton et al. used 2 to 20).
    """
    temperature = check_positive("temperature", temperature)
    y_true, y_pred = same_shape(y_true, y_pred, "distillation_loss")
    log_teacher = ops.log_softmax(y_true / temperature, axis=-1)
    log_student = ops.log_softmax(y_pred / temperature, axis=-1)
    # The teacher is a target: no gradient flows into it.
    log_teacher = ops.stop_gradient(log_teacher)
    return temperature**2 * _kl_from_logs(ops.exp(log_teacher), log_teacher, log_student)


@register("kld", "kl", "kullback_leibler_divergence")
class KLDivergence(Loss):
    """KL divergence, Keras' `KLDivergence` (no renormalization); see `kerasloss.distillation.kl_divergence`."""

    function = staticmethod(kl_divergence)

    def __init__(self, from_logits=False, *, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(
            name=name, reduction=reduction, dtype=dtype, from_logits=check_bool("from_logits", from_logits)
        )


@register("distillation")
class DistillationLoss(Loss):
    """Temperature distillation; `y_true` holds the teacher's logits. See
    `kerasloss.distillation.distillation_loss`."""

    function = staticmethod(distillation_loss)

    def __init__(self, temperature=4.0, *, reduction="sum_over_batch_size", name="distillation_loss", dtype=None):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            temperature=check_positive("temperature", temperature),
        )
