"""Regression losses: mean squared error, mean absolute error, Huber.

Each function takes `y_true` and `y_pred` of the same shape `(batch, ..., d)` and returns the per-sample
loss of shape `(batch, ...)`, the mean over the last axis (Keras' convention).
"""

from keras import ops

from kerasloss.core.hyperparameters import hyperparameters, positive
from kerasloss.core.inputs import same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.registry import register

__all__ = ["Huber", "MeanAbsoluteError", "MeanSquaredError", "huber", "mean_absolute_error", "mean_squared_error"]


@hyperparameters()
def mean_squared_error(y_true, y_pred):
    r"""Mean squared error over the last axis.

    Formula, with $\hat y$ = y_pred, $y$ = y_true and $d$ the size of the last axis, and its gradient:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d} (\hat y_j - y_j)^2,
    \qquad
    \frac{\partial\, \mathrm{loss}}{\partial \hat y_j} = \frac{2 (\hat y_j - y_j)}{d}
    $$

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(y_pred - y_true), axis=-1)


@hyperparameters()
def mean_absolute_error(y_true, y_pred):
    r"""Mean absolute error over the last axis.

    Formula, with $\hat y$ = y_pred, $y$ = y_true and $d$ the size of the last axis:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d} \lvert \hat y_j - y_j \rvert
    $$

    Robust to outlying targets: every error pulls with the same force, $\operatorname{sign}(\hat y_j - y_j) / d$.

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


@hyperparameters(delta=positive)
def huber(y_true, y_pred, *, delta: float = 1.0):
    r"""Huber loss (Huber 1964): quadratic for errors up to `delta`, linear beyond.

    Formula, with $e = \hat y - y$ (y_pred - y_true), $\delta$ = delta and the mean over the $d$ entries of
    the last axis:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d}
    \begin{cases}
    \tfrac{1}{2} e_j^2 & \lvert e_j \rvert \le \delta \\
    \delta \left( \lvert e_j \rvert - \tfrac{1}{2} \delta \right) & \text{otherwise}
    \end{cases}
    $$

    Args:
        delta: where the quadratic turns linear, > 0. Defaults to 1.0 (Keras, PyTorch's smooth L1).

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "huber")
    abs_error = ops.abs(y_pred - y_true)
    # Split |e| into the part inside delta and the part beyond it (optax's form): no branch, and no
    # large e^2 computed for errors that only count linearly (it would overflow in float16).
    quadratic = ops.minimum(abs_error, delta)
    linear = abs_error - quadratic
    return ops.mean(0.5 * ops.square(quadratic) + delta * linear, axis=-1)


@register("mse")
class MeanSquaredError(Loss):
    r"""Computes the mean of squares of errors between targets and predictions.

    Formula, per sample, with $\hat y$ = `y_pred`, $y$ = `y_true` and the mean over the last axis, of size
    $d$:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d} (\hat y_j - y_j)^2
    $$

    The same loss as `keras.losses.MeanSquaredError`, registered as `"mse"` for `kerasloss.get`. Its
    gradient, $2 (\hat y_j - y_j) / d$, grows with the error, so a few outlying targets dominate
    training; `Huber` bounds their pull.

    Args:
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"mean_squared_error"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Targets, shape `(batch, ..., d)`.
        y_pred: Predictions of the same shape. `(batch,)` against `(batch, 1)` is aligned as Keras does;
            any other mismatch raises a `ValueError` instead of broadcasting.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the mean over the last axis) with `reduction=None`.

    References:
        Keras' regression losses: https://keras.io/api/losses/regression_losses/

    Example:

    >>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.array([[1.0, 1.0], [1.0, 0.0]])
    >>> loss = kerasloss.MeanSquaredError()
    >>> round(float(loss(y_true, y_pred)), 4)
    0.5
    >>> print(keras.ops.convert_to_numpy(kerasloss.MeanSquaredError(reduction=None)(y_true, y_pred)))
    [0.5 0.5]

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss=kerasloss.MeanSquaredError())
    """

    function = staticmethod(mean_squared_error)
    inputs = "targets"

    def __init__(self, *, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@register("mae")
class MeanAbsoluteError(Loss):
    r"""Computes the mean of absolute errors between targets and predictions.

    Formula, per sample, with $\hat y$ = `y_pred`, $y$ = `y_true` and the mean over the last axis, of size
    $d$:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d} \lvert \hat y_j - y_j \rvert
    $$

    The same loss as `keras.losses.MeanAbsoluteError`, registered as `"mae"` for `kerasloss.get`. Every
    error pulls with the same force, $\operatorname{sign}(\hat y_j - y_j) / d$, so outlying targets do not dominate;
    the fitted value is a median rather than a mean.

    Args:
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"mean_absolute_error"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Targets, shape `(batch, ..., d)`.
        y_pred: Predictions of the same shape. `(batch,)` against `(batch, 1)` is aligned as Keras does;
            any other mismatch raises a `ValueError` instead of broadcasting.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the mean over the last axis) with `reduction=None`.

    References:
        Keras' regression losses: https://keras.io/api/losses/regression_losses/

    Example:

    >>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.array([[1.0, 1.0], [1.0, 0.0]])
    >>> loss = kerasloss.MeanAbsoluteError()
    >>> round(float(loss(y_true, y_pred)), 4)
    0.5

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss=kerasloss.MeanAbsoluteError())
    """

    function = staticmethod(mean_absolute_error)
    inputs = "targets"

    def __init__(self, *, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@register("huber_loss")
class Huber(Loss):
    r"""Computes the Huber loss: quadratic for small errors, linear for large ones.

    Formula, per sample, with $e$ = `y_pred - y_true`, $\delta$ = `delta` and the mean over the $d$ entries
    of the last axis:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d}
    \begin{cases}
    \tfrac{1}{2} e_j^2 & \lvert e_j \rvert \le \delta \\
    \delta \left( \lvert e_j \rvert - \tfrac{1}{2} \delta \right) & \text{otherwise}
    \end{cases}
    $$

    The same loss as `keras.losses.Huber` (and PyTorch's `HuberLoss`). Errors beyond `delta` pull with
    the constant force `delta`, so outlying targets do not dominate training as they do under
    `MeanSquaredError`. The form used (`min(|e|, delta)` split off) never squares a large error, so it
    stays finite in float16.

    Args:
        delta: Where the quadratic turns linear, a float > 0. A `delta` whose square would overflow the
            compute dtype (e.g. 1000 in float16) is refused. Defaults to `1.0` (Keras' and PyTorch's).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"huber"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Targets, shape `(batch, ..., d)`.
        y_pred: Predictions of the same shape. `(batch,)` against `(batch, 1)` is aligned as Keras does;
            any other mismatch raises a `ValueError` instead of broadcasting.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the mean over the last axis) with `reduction=None`.

    References:
        Huber, "Robust Estimation of a Location Parameter", Annals of Mathematical Statistics 35(1), 1964.
        https://doi.org/10.1214/aoms/1177703732

    Example:

    >>> y_true = np.array([[0.0], [0.0]])
    >>> y_pred = np.array([[0.2], [3.0]])
    >>> loss = kerasloss.Huber(delta=1.0, reduction=None)
    >>> print(keras.ops.convert_to_numpy(loss(y_true, y_pred)).round(4))
    [0.02 2.5 ]
    >>> round(float(kerasloss.Huber()(y_true, y_pred)), 4)
    1.26

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss=kerasloss.Huber(delta=1.0))
    """

    function = staticmethod(huber)
    inputs = "targets"

    def __init__(self, delta=1.0, *, reduction="sum_over_batch_size", name="huber", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, delta=delta)
