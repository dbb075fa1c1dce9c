"""Kullback-Leibler divergence and knowledge distillation (Hinton et al. 2015, "Distilling the
Knowledge in a Neural Network").

Shapes: `y_true`, `y_pred` of shape `(batch, ..., classes)`; the loss sums over the last axis and
returns `(batch, ...)`.
"""

import keras
from keras import ops

from kerasloss.core.hyperparameters import boolean, hyperparameters, positive
from kerasloss.core.inputs import same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32, smallest_probability
from kerasloss.core.registry import register

__all__ = ["DistillationLoss", "KLDivergence", "distillation_loss", "kl_divergence"]


def _kl_from_logs(p, log_p, log_q):
    """sum p (log p - log q), with 0 log 0 = 0 (a zero target probability contributes nothing)."""
    positive = p > 0
    return ops.sum(ops.where(positive, p * (log_p - log_q), 0.0), axis=-1)


@hyperparameters(from_logits=boolean)
def kl_divergence(y_true, y_pred, *, from_logits: bool = False):
    r"""KL(y_true || y_pred) over the last axis: Keras' `kl_divergence`, plus a logits path.

    Formula, with $p$ = y_true and $q$ = y_pred, the sums over the last axis. On probabilities (the default),
    $p$ and $q$ clipped to $[\varepsilon, 1]$ ($\varepsilon$ = 1e-7):

    $$
    \mathrm{loss} = \sum_k p_k \log \frac{p_k}{q_k}
    $$

    With from_logits=True, $\hat y$ = y_pred the logits and $0 \log 0 = 0$:

    $$
    \mathrm{loss} = \sum_k p_k \left( \log p_k - \log \operatorname{softmax}(\hat y)_k \right)
    $$

    The probability path is Keras' `KLDivergence` on inputs of the same shape: neither input is
    renormalized ($q$ need not sum to 1, and a last axis of size 1 is a sum of one term), and a zero entry
    of $p$ contributes $\varepsilon \log(\varepsilon / q)$ as Keras' clip makes it. The logits path is the
    exact divergence from softmax(y_pred); for one-hot $p$ it is the cross-entropy $-\log q_y$, with the
    same gradient.

    Args:
        from_logits: `y_pred` holds logits. Defaults to False (probabilities).

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
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


@hyperparameters(temperature=positive)
@computed_in_float32
def distillation_loss(y_true, y_pred, *, temperature: float = 4.0):
    r"""Knowledge distillation: match the student's softened distribution to the teacher's.

    Formula, with teacher logits $z_t$ = y_true, student logits $z_s$ = y_pred, temperature $T$:

    $$
    \mathrm{loss} = T^2\, \mathrm{KL}\!\left( \operatorname{softmax}(z_t / T)
    \,\Vert\, \operatorname{softmax}(z_s / T) \right)
    $$

    The $T^2$ keeps gradient magnitudes comparable across temperatures (Hinton et al. 2015, sec. 2).

    Args:
        temperature: T > 0; higher exposes more of the teacher's "dark knowledge". Defaults to 4.0
            (Hinton et al. used 2 to 20).

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.

    References:
        Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015.
        https://arxiv.org/abs/1503.02531
    """
    y_true, y_pred = same_shape(y_true, y_pred, "distillation_loss")
    log_teacher = ops.log_softmax(y_true / temperature, axis=-1)
    log_student = ops.log_softmax(y_pred / temperature, axis=-1)
    # The teacher is a target: no gradient flows into it.
    log_teacher = ops.stop_gradient(log_teacher)
    return temperature**2 * _kl_from_logs(ops.exp(log_teacher), log_teacher, log_student)


@register("kld", "kl", "kullback_leibler_divergence")
class KLDivergence(Loss):
    r"""Computes the Kullback-Leibler divergence KL(y_true || y_pred) over the last axis.

    Formula, per sample, with $p$ = `y_true` and $q$ = `y_pred`, the sums over the last axis. On
    probabilities (the default), $p$ and $q$ clipped to $[\varepsilon, 1]$:

    $$
    \mathrm{loss} = \sum_k p_k \log \frac{p_k}{q_k}
    $$

    With `from_logits=True`, $\hat y$ = `y_pred` the logits and $0 \log 0 = 0$:

    $$
    \mathrm{loss} = \sum_k p_k \left( \log p_k - \log \operatorname{softmax}(\hat y)_k \right)
    $$

    On probabilities this is `keras.losses.KLDivergence` on inputs of the same shape: $\varepsilon$ is 1e-7
    ($2^{-14}$ in float16), neither input is renormalized ($q$ need not sum to 1), and a zero entry of $p$
    contributes $\varepsilon \log(\varepsilon / q)$ as Keras' clip makes it. On logits it is the exact
    divergence from `softmax(y_pred)`; for a one-hot $p$ it is the cross-entropy $-\log q_y$, with the same
    gradient.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"kl_divergence"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: The target distribution p, shape `(batch, ..., classes)`.
        y_pred: The predicted distribution q (probabilities), or logits with `from_logits=True`, of the
            same shape.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the sum over the last axis) with `reduction=None`.

    References:
        Kullback & Leibler, "On Information and Sufficiency", Annals of Mathematical Statistics, 1951.
        Keras' probabilistic losses: https://keras.io/api/losses/probabilistic_losses/

    Example:

    >>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.array([[0.6, 0.4], [0.4, 0.6]])
    >>> round(float(kerasloss.KLDivergence()(y_true, y_pred)), 4)
    0.4581
    >>> round(float(keras.losses.KLDivergence()(y_true, y_pred)), 4)
    0.4581
    >>> loss = kerasloss.KLDivergence(from_logits=True)
    >>> round(float(loss(np.array([[0.2, 0.8]]), np.array([[0.0, 1.0]]))), 4)
    0.0129

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.KLDivergence(from_logits=True))
    """

    function = staticmethod(kl_divergence)
    inputs = "targets"

    def __init__(self, from_logits=False, *, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, from_logits=from_logits)


@register("distillation")
class DistillationLoss(Loss):
    r"""Computes the knowledge-distillation loss between a teacher's logits and a student's.

    The student learns to match the teacher's softened class distribution. Formula, per sample, with
    teacher logits $z_t$ = `y_true`, student logits $z_s$ = `y_pred` and temperature $T$ (`temperature`):

    $$
    \mathrm{loss} = T^2\, \mathrm{KL}\!\left( \operatorname{softmax}(z_t / T)
    \,\Vert\, \operatorname{softmax}(z_s / T) \right)
    $$

    The $T^2$ keeps gradient magnitudes comparable across temperatures (Hinton et al. 2015, section 2).
    The teacher is a target: no gradient flows into `y_true`. In float16 and bfloat16 the loss is
    computed in float32 (a KL at a high temperature vanishes in float16's 11 bits) and returned in the
    loss's dtype. To train, fit the student on the teacher's logits: `model.fit(x, teacher.predict(x))`.

    Args:
        temperature: T, a float > 0; a higher T exposes more of the teacher's relative probabilities
            of the wrong classes. Defaults to `4.0`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"distillation_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: The teacher's logits, shape `(batch, ..., classes)`.
        y_pred: The student's logits, of the same shape.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the sum over the last axis) with `reduction=None`.

    References:
        Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015.
        https://arxiv.org/abs/1503.02531

    Example:

    >>> teacher_logits = np.array([[2.0, 1.0, 0.0]])
    >>> loss = kerasloss.DistillationLoss(temperature=2.0)
    >>> round(float(loss(teacher_logits, np.array([[0.0, 0.0, 0.0]]))), 4)
    0.3137
    >>> round(float(loss(teacher_logits, teacher_logits)), 4)
    0.0

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])  # the student
    >>> model.compile(optimizer="adam", loss=kerasloss.DistillationLoss(temperature=4.0))
    """

    function = staticmethod(distillation_loss)
    inputs = "teacher_logits"

    def __init__(self, temperature=4.0, *, reduction="sum_over_batch_size", name="distillation_loss", dtype=None):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            temperature=temperature,
        )
