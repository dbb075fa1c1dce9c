"""Regression losses: mean squared error, mean absolute error, Huber.

Each function takes `y_true` and `y_pred` of the same shape `(batch, ..., d)` and returns the per-sample
loss of shape `(batch, ...)`, the mean over the last axis (Keras' convention).
"""

from keras import ops

from kerasloss.base import Loss, check_positive, register
from kerasloss.inputs import same_shape


def mean_squared_error(y_true, y_pred):
    """Mean squared error over the last axis.

    Formula: `loss = mean((y_pred - y_true) ** 2, axis=-1)`; its gradient is `2 (y_pred - y_true) / d`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean absolute error over the last axis: `loss = mean(|y_pred - y_true|, axis=-1)`.

    Robust to outlying targets: every error pulls with the same force, `sign(y_pred - y_true) / d`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def huber(y_true, y_pred, *, delta=1.0):
    """Huber loss (Huber 1964): quadratic for errors up to `delta`, linear beyond.

    Formula, with `e = y_pred - y_true`:
        loss = mean(0.5 e^2                      if |e| <= delta
                    delta (|e| - 0.5 delta)      otherwise, axis=-1)

    Args:
        delta: where the quadratic turns linear, > 0. Defaults to 1.0 (Keras, PyTorch's smooth L1).
    """
    delta = check_positive("delta", delta)
    y_true, y_pred = same_shape(y_true, y_pred, "huber")
    abs_error = ops.abs(y_pred - y_true)
    # Split |e| into the part inside delta and the part beyond it (optax's form): no branch, and no
    # large e^2 computed for errors that only count linearly (it would overflow in float16).
    quadratic = ops.minimum(abs_error, delta)
    linear = abs_error - quadratic
    return ops.mean(0.5 * ops.square(quadratic) + delta * linear, axis=-1)


@register("mse")
class MeanSquaredError(Loss):
    """Mean squared error; see `kerasloss.regression.mean_squared_error`."""

    function = staticmethod(mean_squared_error)

    def __init__(self, *, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@register("mae")
class MeanAbsoluteError(Loss):
    """Mean absolute error; see `kerasloss.regression.mean_absolute_error`."""

    function = staticmethod(mean_absolute_error)

    def __init__(self, *, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@register("huber_loss")
class Huber(Loss):
    """Huber loss; see `kerasloss.regression.huber`. `Huber(delta=1.0)`."""

    function = staticmethod(huber)

    def __init__(self, delta=1.0, *, reduction="sum_over_batch_size", name="huber", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, delta=check_positive("delta", delta))
