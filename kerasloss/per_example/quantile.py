"""Quantile regression: the pinball loss, for one quantile or several at once (one output per quantile).

Shapes: one quantile: y_true and y_pred alike, (batch, d) -> (batch,), the mean over the last axis;
Q quantiles: y_pred (batch, Q), y_true (batch, 1) or (batch,) -> (batch,), the mean over the Q.
"""

from keras import ops

from kerasloss.core.hyperparameters import hyperparameters, unit_values
from kerasloss.core.inputs import same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register

__all__ = ["Pinball", "pinball"]


@hyperparameters(quantiles=unit_values)
@computed_in_float32
def pinball(y_true, y_pred, *, quantiles: "float | tuple[float, ...]" = 0.5):
    r"""Pinball (quantile) loss (Koenker & Bassett 1978), with $\delta$ = y_true - y_pred and $\tau$ the quantile,
    averaged over the last axis:

    $$
    \mathrm{loss} =
    \begin{cases}
    \tau\, \delta & \delta \ge 0 \\
    (\tau - 1)\, \delta & \delta < 0
    \end{cases}
    $$

    TensorFlow Addons' `pinball_loss` for one quantile. With Q quantiles, column q of y_pred (batch, Q)
    estimates quantile q of the one target y_true (batch, 1) or (batch,), and the mean runs over the Q.
    tau = 0.5 is half the absolute error.

    Args:
        quantiles: tau in [0, 1], or a list of Q of them (one per column of y_pred). Defaults to 0.5.

    Returns:
        The per-example loss, shape `(batch,)`.

    References:
        Koenker & Bassett, "Regression Quantiles", Econometrica 46(1), 1978. https://doi.org/10.2307/1913643
    """
    if isinstance(quantiles, tuple):
        count = len(quantiles)
        if len(y_pred.shape) != 2 or y_pred.shape[-1] != count:
            raise ValueError(
                f"pinball with {count} quantiles expects y_pred of shape (batch, {count}), one column per quantile. "
                f"Received: y_pred.shape={tuple(y_pred.shape)}"
            )
        if len(y_true.shape) == 1:
            y_true = ops.expand_dims(y_true, -1)
        if len(y_true.shape) != 2 or y_true.shape[-1] != 1:
            raise ValueError(
                f"pinball with {count} quantiles expects one target per example, y_true of shape (batch,) or "
                f"(batch, 1). Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
            )
        y_true = ops.cast(y_true, y_pred.dtype)
        tau = ops.convert_to_tensor(quantiles, dtype=y_pred.dtype)
    else:
        y_true, y_pred = same_shape(y_true, y_pred, "pinball")
        tau = quantiles
    delta = y_true - y_pred
    return ops.mean(ops.maximum(tau * delta, (tau - 1.0) * delta), axis=-1)


@register("pinball", "quantile")
class Pinball(Loss):
    r"""Computes the pinball loss of quantile regression, for one quantile or several at once.

    A model that minimizes it predicts the $\tau$-quantile of the target ($\tau$ from `quantiles`):
    under-predictions cost $\tau$ per unit, over-predictions $1 - \tau$. Formula, with
    $\delta$ = `y_true - y_pred`:

    $$
    \mathrm{loss} =
    \begin{cases}
    \tau\, \delta & \delta \ge 0 \\
    (\tau - 1)\, \delta & \delta < 0
    \end{cases}
    $$

    averaged over the last axis, as TensorFlow Addons' `PinballLoss(tau)` computes it (for users of TFA,
    which no longer imports). With `quantiles=[0.1, 0.5, 0.9]` the model outputs one column per quantile,
    `y_pred` of shape `(batch, 3)`, against one target per example, `y_true` of shape `(batch,)` or
    `(batch, 1)`: each column is scored against its own tau and the mean runs over the columns (a
    prediction interval and the median in one model). tau = 0.5 is half the absolute error. Nothing here
    keeps the predicted quantiles from crossing; sort the outputs if the order matters. In float16 and
    bfloat16 the loss is computed in float32.

    Args:
        quantiles: tau, a float in [0, 1], or a list of Q of them. Defaults to `0.5`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"pinball"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Targets: y_pred's shape for one quantile; `(batch,)` or `(batch, 1)` for a list.
        y_pred: Estimates: any shape `(batch, ...)` for one quantile; `(batch, Q)` for a list of Q.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Koenker & Bassett, "Regression Quantiles", Econometrica 46(1), 1978. https://doi.org/10.2307/1913643

    Example:

    >>> y_true, y_pred = np.array([[1.0], [2.0]]), np.array([[1.5], [1.0]])
    >>> round(float(kerasloss.Pinball(quantiles=0.9)(y_true, y_pred)), 4)  # (0.1 * 0.5 + 0.9 * 1) / 2
    0.475
    >>> three = np.array([[0.5, 1.0, 2.0], [1.0, 2.5, 3.0]])  # quantiles 0.1, 0.5, 0.9 of each target
    >>> round(float(kerasloss.Pinball(quantiles=[0.1, 0.5, 0.9])(np.array([1.0, 2.0]), three)), 4)
    0.1

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.Pinball(quantiles=[0.1, 0.5, 0.9]))
    """

    function = staticmethod(pinball)
    inputs = "targets"

    def __init__(self, quantiles=0.5, *, reduction="sum_over_batch_size", name="pinball", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, quantiles=quantiles)
