"""The asymmetric loss for multi-label classification (Ridnik et al. 2021, "Asymmetric Loss For
Multi-Label Classification"): focusing of different strengths for positive and negative labels, and a
probability margin that discards easy negatives altogether.

Multi-label data is imbalanced label by label: an image holds a few of many labels, so negatives
dominate each label's gradient. ASL focuses the negatives harder (gamma_negative > gamma_positive) and
shifts their probability down by `clip`, so a negative predicted below `clip` contributes nothing.
"""

from keras import ops

from kerasloss.core.hyperparameters import boolean, half_open_unit_interval, hyperparameters, non_negative
from kerasloss.core.inputs import same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32, focal_modulation
from kerasloss.core.registry import register

__all__ = ["AsymmetricLoss", "asymmetric_loss"]

# The official code clamps each probability at 1e-8 before its log: a label predicted wrong by more than
# log(1e-8) ~ -18.4 nats contributes a constant, with zero gradient. 1e-8 is below float16's smallest number
# (6e-8), where the clamp would be at 0 and the log -inf: half precision computes in float32.
_LOG_FLOOR = 1e-8


@hyperparameters(
    gamma_positive=non_negative,
    gamma_negative=non_negative,
    clip=half_open_unit_interval,
    from_logits=boolean,
    focusing_gradient=boolean,
)
@computed_in_float32
def asymmetric_loss(
    y_true,
    y_pred,
    *,
    gamma_positive: float = 0.0,
    gamma_negative: float = 4.0,
    clip: float = 0.05,
    from_logits: bool = True,
    focusing_gradient: bool = True,
):
    r"""Asymmetric loss, summed over the labels (the last axis), as the official `AsymmetricLoss` class
    computes it. Per label, with $p = \sigma(x)$, the shifted probability $p_m = \max(p - m, 0)$ ($m$ = clip),
    $\gamma_+$ = gamma_positive and $\gamma_-$ = gamma_negative, for a positive ($y = 1$) and a negative
    ($y = 0$) label:

    $$
    \mathrm{loss} =
    \begin{cases}
    -(1 - p)^{\gamma_+} \log \max(p, 10^{-8}) & y = 1 \\
    -p_m^{\gamma_-} \log \max(1 - p_m, 10^{-8}) & y = 0
    \end{cases}
    $$

    Args:
        gamma_positive: Focusing of the positive labels, >= 0. Defaults to 0.0.
        gamma_negative: Focusing of the negative labels, >= 0. Defaults to 4.0.
        clip: The probability margin m in [0, 1) of the negatives. Defaults to 0.05.
        from_logits: `y_pred` holds logits. Defaults to True.
        focusing_gradient: Whether the gradient flows through the focusing weights (the loss's exact
            gradient). The official training detaches them (`disable_torch_grad_focal_loss=True`):
            `False` reproduces it. Defaults to True.

    Returns:
        The per-example loss: `y_pred`'s shape without the last axis.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "asymmetric_loss")
    if from_logits:
        p, q = ops.sigmoid(y_pred), ops.sigmoid(-y_pred)  # q exact where 1 - p rounds to 0 (logits of +37)
    else:
        p, q = y_pred, 1.0 - y_pred
    positive = _focused(ops.log(ops.maximum(p, _LOG_FLOOR)), q, gamma_positive, focusing_gradient)
    if clip:
        # p_m = max(p - clip, 0) = 1 - min(q + clip, 1), each side without the other's rounding
        p, q = ops.maximum(p - clip, 0.0), ops.minimum(q + clip, 1.0)
    negative = _focused(ops.log(ops.maximum(q, _LOG_FLOOR)), p, gamma_negative, focusing_gradient)
    return -ops.sum(negative + y_true * (positive - negative), axis=-1)


def _focused(log_probability, other, gamma, gradient):
    """(1 - p_t) ** gamma * log p_t, the weight detached unless `gradient`; gamma = 0 multiplies by nothing."""
    if not gamma:
        return log_probability
    weight = focal_modulation(other, gamma)
    return (weight if gradient else ops.stop_gradient(weight)) * log_probability


@register("asymmetric", "asl")
class AsymmetricLoss(Loss):
    r"""Computes the asymmetric loss (ASL) between multi-hot labels and predictions.

    A binary cross-entropy per label with focusing of different strengths for positives and negatives,
    and a probability margin `clip` that discards easy negatives (Ridnik et al. 2021), as the official
    `AsymmetricLoss` class computes it. Per label $l$, with $p = \sigma(\hat y)$ (the sigmoid of `y_pred`)
    when `from_logits=True`, the shifted probability $p_m = \max(p - m, 0)$ ($m$ = `clip`),
    $\gamma_+$ = `gamma_positive` and $\gamma_-$ = `gamma_negative`, then the sum over the labels (the last
    axis):

    $$
    \mathrm{loss} = \sum_{l}
    \begin{cases}
    -(1 - p_l)^{\gamma_+} \log \max(p_l, 10^{-8}) & y_l = 1 \\
    -p_{m,l}^{\gamma_-} \log \max(1 - p_{m,l}, 10^{-8}) & y_l = 0
    \end{cases}
    $$

    A negative predicted below `clip` costs nothing; `gamma_negative > gamma_positive` lets the many
    easy negatives of multi-label data fade faster than the few positives. With `gamma_positive=0`,
    `gamma_negative=0` and `clip=0` it is the binary cross-entropy summed over the labels (its logs
    clamped at `log(1e-8)`, as the official code does). Negatives' probability is `sigmoid(-y_pred)`, exact
    at logits of +50, where `1 - sigmoid(y_pred)` is 0.

    The official training detaches the focusing weights from the gradient
    (`disable_torch_grad_focal_loss=True`): `focusing_gradient=False` does the same. The default, `True`,
    differentiates the loss as written.

    Args:
        gamma_positive: Focusing of the positive labels, a float >= 0. Defaults to `0.0`.
        gamma_negative: Focusing of the negative labels, a float >= 0. Defaults to `4.0`.
        clip: The negatives' probability margin, a float in `[0, 1)`; 0 turns it off. Defaults to `0.05`.
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `True` (the
            official class takes logits).
        focusing_gradient: Whether the gradient flows through the focusing weights. Defaults to `True`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. The official class returns the sum over the batch
            (`reduction="sum"`). Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"asymmetric_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Multi-hot labels in {0, 1}, shape `(batch, labels)`.
        y_pred: Logits (or probabilities with `from_logits=False`), of the same shape.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` (summed over the labels) with `reduction=None`.

    References:
        Ridnik, Ben-Baruch, Zamir, Noy, Friedman, Protter & Zelnik-Manor, "Asymmetric Loss For Multi-Label
        Classification", ICCV 2021. https://arxiv.org/abs/2009.14119

    Example:

    >>> y_true = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    >>> logits = np.array([[1.5, -2.0, 0.3, -0.5], [-3.0, 2.5, 0.8, -1.0]])
    >>> round(float(kerasloss.AsymmetricLoss()(y_true, logits)), 4)
    1.4068
    >>> plain = kerasloss.AsymmetricLoss(gamma_positive=0.0, gamma_negative=0.0, clip=0.0)
    >>> round(float(plain(y_true, logits)), 4)  # the BCE summed over the 4 labels
    2.7343

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="adam", loss=kerasloss.AsymmetricLoss(gamma_negative=4.0, clip=0.05))
    """

    function = staticmethod(asymmetric_loss)
    inputs = "targets"

    def __init__(
        self,
        gamma_positive=0.0,
        gamma_negative=4.0,
        clip=0.05,
        from_logits=True,
        focusing_gradient=True,
        *,
        reduction="sum_over_batch_size",
        name="asymmetric_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma_positive=gamma_positive,
            gamma_negative=gamma_negative,
            clip=clip,
            from_logits=from_logits,
            focusing_gradient=focusing_gradient,
        )
