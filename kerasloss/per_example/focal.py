"""Focal losses (Lin et al. 2017, "Focal Loss for Dense Object Detection"): binary / multi-label,
categorical (one-hot targets) and sparse (integer targets).

The cross-entropy of each example is scaled by (1 - p_t)^gamma, p_t being the probability given to the
true class, so easy examples (p_t near 1) fade and training concentrates on the hard ones; alpha
re-weights classes. With gamma = 0 and alpha = None each equals its cross-entropy exactly.

Unlike naive forms, gamma < 1 (and gamma = 0) give finite gradients where p_t = 1, logits of any size
are exact, and alpha is validated to [0, 1] (Keras' BinaryFocalCrossentropy accepts alpha = 10 and
returns negative losses).
"""

import math
from collections.abc import Sequence

from keras import ops

from kerasloss.core.hyperparameters import (
    alpha_weights,
    boolean,
    class_alpha,
    hyperparameters,
    integer,
    non_negative,
    optional_integer,
    smoothing,
)
from kerasloss.core.inputs import check_last_axis, class_axis_last, drop_ignored, same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import (
    clip_probability,
    focal_modulation,
    logit_crossentropy,
    normalize_probabilities,
    one_minus_exp,
    sigmoid_pair,
)
from kerasloss.core.registry import register
from kerasloss.per_example.classification import log_probabilities, sparse_scores

__all__ = [
    "CategoricalFocalLoss",
    "FocalLoss",
    "SparseCategoricalFocalLoss",
    "binary_focal_loss",
    "categorical_focal_loss",
    "sparse_categorical_focal_loss",
]


def _alpha_tensor(alpha, y_pred, loss_name):
    """alpha as a scalar or a (classes,) tensor in y_pred's dtype, its length checked."""
    if isinstance(alpha, tuple):
        check_last_axis(alpha, y_pred, "alpha", loss_name)
    return ops.convert_to_tensor(alpha, dtype=y_pred.dtype)


@hyperparameters(gamma=non_negative, alpha=alpha_weights, from_logits=boolean, label_smoothing=smoothing, axis=integer)
def binary_focal_loss(
    y_true,
    y_pred,
    *,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | None = 0.25,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
):
    r"""Sigmoid focal loss for binary and multi-label targets, averaged over the last axis.

    Formula, per label with hard label $y$, smoothed target $t = y (1 - s) + s / 2$ and $p = \sigma(\text{logit})$,
    then the mean over the $L$ labels ($\alpha_t$ follows the hard label, even when smoothed):

    $$
    \begin{split}
    \mathrm{CE} &= -\left[ t \log p + (1 - t) \log (1 - p) \right] \\
    1 - p_t &= t (1 - p) + (1 - t)\, p \\
    \alpha_t &= \alpha\, y + (1 - \alpha)(1 - y) \\
    \mathrm{loss} &= \frac{1}{L} \sum_{l=1}^{L} \alpha_t (1 - p_t)^\gamma\, \mathrm{CE}
    \end{split}
    $$

    With s = 0 this is torchvision's `sigmoid_focal_loss` (whose mean reduction equals this loss's
    default `sum_over_batch_size`).

    Args:
        gamma: focusing parameter >= 0. Defaults to 2.0 (the paper's choice).
        alpha: weight of the positive class in [0, 1] (negatives get 1 - alpha), a per-label list, or
            None for no weighting. Defaults to 0.25 (the paper's choice with gamma = 2).
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.
        axis: the label axis the mean runs over (a per-label alpha follows it). Defaults to -1.

    Returns:
        The per-sample loss: `y_pred`'s shape without `axis`.

    References:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017. https://arxiv.org/abs/1708.02002
    """
    y_true, y_pred = same_shape(y_true, y_pred, "binary_focal_loss")
    y_true, y_pred = class_axis_last(y_pred, axis, "binary_focal_loss", y_true)
    targets = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true
    weights = None
    if alpha is not None:
        alpha = _alpha_tensor(alpha, y_pred, "binary_focal_loss")
        weights = alpha * y_true + (1.0 - alpha) * (1.0 - y_true)
    if from_logits:
        loss = _focal_from_logits(y_pred, targets, weights, gamma)
    else:
        p = clip_probability(y_pred)
        one_minus_p = 1.0 - p
        ce = -(targets * ops.log(p) + (1.0 - targets) * ops.log(one_minus_p))
        # A sum of two non-negative terms: no cancellation for any target.
        loss = focal_modulation(targets * one_minus_p + (1.0 - targets) * p, gamma) * ce
        loss = loss if weights is None else weights * loss
    return ops.mean(loss, axis=-1)


def _focal_from_logits(logits, targets, weights, gamma):
    """Elementwise w (1 - p_t)^gamma ce from logits, with its gradient in closed form.

    With p = sigmoid(x), q = sigmoid(-x), u = 1 - p_t = t q + (1 - t) p and m = u^gamma:
        d/dx [w m ce] = w m ((1 - t) p - t q + gamma (1 - 2t) ce p q / u)
    The closed form is exact where autodiff through u^gamma is not (0 * inf at u = 0 for gamma < 1),
    and it is one short expression instead of the derivative of every select and power above.
    """

    @ops.custom_gradient
    def focal(x):
        ce = logit_crossentropy(targets, x)
        p, q = sigmoid_pair(x)  # q = 1 - p without cancellation
        u = targets * q + (1.0 - targets) * p  # two non-negative terms: no cancellation
        m = focal_modulation(u, gamma)
        loss = m * ce if weights is None else weights * m * ce

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            slope = m * ((1.0 - targets) * p - targets * q)  # m (p - t), exact in both tails
            if gamma:
                slope = slope + _modulation_slope_times(p * q, u, m, gamma) * (1.0 - 2.0 * targets) * ce
            slope = slope if weights is None else weights * slope
            return upstream * slope

        return loss, grad

    return focal(logits)


def _modulation_slope_times(pq, u, m, gamma):
    """gamma u^(gamma - 1) * pq, finite everywhere, where pq = p q = du/dx up to sign.

    Integer gamma: by products, no division. Otherwise gamma m (pq / u): for hard labels pq / u is p
    or q, bounded, whereas u^(gamma - 1) alone overflows for tiny u; where u underflows to 0, so does
    the whole term.
    """
    if float(gamma).is_integer():
        return gamma * focal_modulation(u, gamma - 1.0) * pq
    positive = u > 0
    return gamma * m * ops.where(positive, pq / ops.where(positive, u, 1.0), 0.0)


@hyperparameters(gamma=non_negative, alpha=class_alpha, from_logits=boolean, label_smoothing=smoothing, axis=integer)
def categorical_focal_loss(
    y_true,
    y_pred,
    *,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | None = None,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
):
    r"""Softmax focal loss against one-hot (or soft) targets, summed over the classes.

    Formula, with $K$ classes, $t = y (1 - s) + s / K$ and $p = \operatorname{softmax}(\text{logits})$:

    $$
    \mathrm{loss} = -\sum_{k=1}^{K} \alpha_k\, t_k (1 - p_k)^\gamma \log p_k
    $$

    For one-hot targets only the true class counts: $-\alpha_y (1 - p_y)^\gamma \log p_y$. This is Keras'
    `CategoricalFocalCrossentropy` (except its default alpha = 0.25 rescales every class alike;
    here the default is no weighting, so gamma = 0 gives plain cross-entropy).

    Args:
        gamma: focusing parameter >= 0. Defaults to 2.0.
        alpha: None, a float in [0, 1] applied to every class, or a per-class list of weights >= 0.
            Defaults to None.
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.
        axis: the class axis. Defaults to -1.

    Returns:
        The per-sample loss: `y_pred`'s shape without `axis`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "categorical_focal_loss")
    y_true, y_pred = class_axis_last(y_pred, axis, "categorical_focal_loss", y_true)
    num_classes = ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
    targets = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        log_p = log_probabilities(y_pred, from_logits=True)
        one_minus_p = one_minus_exp(log_p)  # exact where p rounds to 1
    else:
        p = clip_probability(normalize_probabilities(y_pred))
        log_p, one_minus_p = ops.log(p), 1.0 - p
    loss = -targets * focal_modulation(one_minus_p, gamma) * log_p
    if alpha is not None:
        loss = _alpha_tensor(alpha, y_pred, "categorical_focal_loss") * loss
    return ops.sum(loss, axis=-1)


@hyperparameters(
    gamma=non_negative, alpha=class_alpha, from_logits=boolean, ignore_class=optional_integer, axis=integer
)
def sparse_categorical_focal_loss(
    y_true,
    y_pred,
    *,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | None = None,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
):
    r"""Softmax focal loss against integer class ids, without building a one-hot tensor.

    Formula, with id $y$ and $\log p_y = x_y - \operatorname{logsumexp}(x)$ ($x$: logits, or clipped
    log-probabilities):

    $$
    \mathrm{loss} = -\alpha_y (1 - p_y)^\gamma \log p_y
    $$

    Out-of-range ids raise (eagerly and in `tf.function`) or give NaN under XLA; see `kerasloss.core.inputs`.

    Args:
        gamma: focusing parameter >= 0. Defaults to 2.0.
        alpha: None, a float in [0, 1], or a per-class list of weights >= 0. Defaults to None.
        from_logits: `y_pred` holds logits. Defaults to False.
        ignore_class: a class id whose entries contribute nothing: 0 and masked out of Keras' mean, as
            Keras' `SparseCategoricalCrossentropy(ignore_class=...)`. Defaults to None.
        axis: the class axis of `y_pred`. Defaults to -1.

    Returns:
        The per-sample loss, of `y_true`'s shape: `y_pred`'s without `axis`.
    """
    name = "sparse_categorical_focal_loss"
    parts = sparse_scores(y_true, y_pred, from_logits, name, ignore_class=ignore_class, axis=axis)
    # The backend's fused kernel (TensorFlow's and PyTorch's build no one-hot tensor); everything after
    # it is per row: log p_y = -ce.
    ce = ops.sparse_categorical_crossentropy(parts.ids, parts.scores, from_logits=True)
    loss = focal_modulation(one_minus_exp(-ce), gamma) * ce
    if alpha is not None:
        alpha_tensor = _alpha_tensor(alpha, parts.scores, name)
        loss = (ops.take(alpha_tensor, parts.ids) if isinstance(alpha, tuple) else alpha_tensor) * loss
    return drop_ignored(ops.where(parts.in_range, loss, math.nan), parts.kept)


@register("focal", "binary_focal", "sigmoid_focal")
class FocalLoss(Loss):
    r"""Computes the sigmoid focal loss between binary (or multi-label) labels and predictions.

    Binary cross-entropy with each label's term scaled by $(1 - p_t)^\gamma$, $p_t$ being the
    probability given to the true label: well-classified labels ($p_t$ near 1) fade, so training
    concentrates on the hard ones; `alpha` ($\alpha$) weighs positives against negatives. Formula, per
    label with hard label $y$, smoothed target $t = y (1 - s) + s / 2$ and $p = \sigma(\hat y)$ (the
    sigmoid of `y_pred`) when `from_logits=True`, then the mean over the $L$ labels of the label axis
    (`axis`); $\alpha_t$ follows the hard label, also when smoothed:

    $$
    \begin{split}
    \mathrm{CE} &= -\left[ t \log p + (1 - t) \log (1 - p) \right] \\
    1 - p_t &= t (1 - p) + (1 - t)\, p \\
    \alpha_t &= \alpha\, y + (1 - \alpha)(1 - y) \\
    \mathrm{loss} &= \frac{1}{L} \sum_{l=1}^{L} \alpha_t (1 - p_t)^\gamma\, \mathrm{CE}
    \end{split}
    $$

    With `label_smoothing=0` this is torchvision's `sigmoid_focal_loss` (its `"mean"` reduction is this
    loss's default `"sum_over_batch_size"`). With `gamma=0` and `alpha=None` it equals
    `BinaryCrossentropy` exactly. Logits of any size are exact, and the gradient is finite everywhere,
    `gamma < 1` included (where p_t = 1 other focal losses return NaN).

    Args:
        gamma: The focusing parameter, a float >= 0; 0 turns focusing off. Defaults to `2.0` (the
            paper's choice).
        alpha: The weight of the positive label in `[0, 1]` (negatives get `1 - alpha`), a list of
            them (one per label), or `None` for no weighting. `0.25` gives positives less weight than
            negatives: the paper's choice together with `gamma=2`. Defaults to `0.25`.
        from_logits: Whether `y_pred` holds logits rather than probabilities. Probabilities are clipped
            to `[1e-7, 1 - 1e-7]`, as Keras does. Defaults to `False`.
        label_smoothing: `s` in `[0, 1)`: pulls every target toward 1/2. Defaults to `0.0`.
        axis: The label axis, over which the mean runs (a per-label `alpha` follows it). Defaults to
            `-1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"focal_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Labels in {0, 1}, shape `(batch, ..., labels)`, the label axis at `axis`.
        y_pred: Probabilities, or logits with `from_logits=True`, of the same shape.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the label axis averaged away) with `reduction=None`.

    References:
        Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
        https://arxiv.org/abs/1708.02002

    Example:

    >>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> logits = np.array([[-18.6, 0.51], [2.94, -12.8]])
    >>> loss = kerasloss.FocalLoss(gamma=2.0, alpha=0.25, from_logits=True)
    >>> round(float(loss(y_true, logits)), 4)
    0.5101
    >>> loss = kerasloss.FocalLoss(gamma=0.0, alpha=None, from_logits=True)  # cross-entropy
    >>> round(float(loss(y_true, logits)), 4)
    0.8655

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss=kerasloss.FocalLoss(gamma=2.0, alpha=0.75, from_logits=True))
    """

    function = staticmethod(binary_focal_loss)
    inputs = "targets"

    def __init__(
        self,
        gamma=2.0,
        alpha=0.25,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        *,
        reduction="sum_over_batch_size",
        name="focal_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            alpha=alpha,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


@register("categorical_focal")
class CategoricalFocalLoss(Loss):
    r"""Computes the softmax focal loss between one-hot (or soft) labels and predictions.

    Categorical cross-entropy with each class's term scaled by $(1 - p_k)^\gamma$, so confidently
    right examples fade. Formula, per sample with $K$ classes, smoothed targets $t = y (1 - s) + s / K$
    and $p = \operatorname{softmax}(\hat y)$ when `from_logits=True`, the sum running over the class
    axis (`axis`):

    $$
    \mathrm{loss} = -\sum_{k=1}^{K} \alpha_k\, t_k (1 - p_k)^\gamma \log p_k
    $$

    For a one-hot label only the true class $y$ counts: $-\alpha_y (1 - p_y)^\gamma \log p_y$. This
    is Keras' `CategoricalFocalCrossentropy` given the same `alpha`; its default `alpha=0.25` scales every
    class alike, whereas here the default is no weighting, so `gamma=0` gives `CategoricalCrossentropy`
    exactly. Probabilities are rescaled to sum to 1, then clipped to `[1e-7, 1 - 1e-7]`.

    Args:
        gamma: The focusing parameter, a float >= 0. Defaults to `2.0` (the paper's choice).
        alpha: `None` (no weighting), one float in `[0, 1]` for every class, or a list of K weights
            >= 0, one per class: e.g. `kerasloss.class_balanced_weights(counts)` for the class-balanced
            focal loss of Cui et al. 2019 (those sum to K, so exceed 1). Defaults to `None`.
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        label_smoothing: `s` in `[0, 1)`. Defaults to `0.0`.
        axis: The class axis, over which the sum runs (a per-class `alpha` follows it). Defaults to
            `-1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"categorical_focal_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: One-hot (or soft) labels, shape `(batch, ..., classes)`, the class axis at `axis`.
        y_pred: Class probabilities, or logits with `from_logits=True`, of the same shape.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the class axis summed away) with `reduction=None`.

    References:
        Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
        https://arxiv.org/abs/1708.02002

    Example:

    >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> round(float(kerasloss.CategoricalFocalLoss(gamma=2.0)(y_true, y_pred)), 4)
    0.9326
    >>> round(float(kerasloss.CategoricalFocalLoss(alpha=[0.25, 0.25, 0.5])(y_true, y_pred)), 4)
    0.4663

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.CategoricalFocalLoss(gamma=2.0, from_logits=True))
    """

    function = staticmethod(categorical_focal_loss)
    inputs = "targets"

    def __init__(
        self,
        gamma=2.0,
        alpha=None,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        *,
        reduction="sum_over_batch_size",
        name="categorical_focal_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            alpha=alpha,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


@register("sparse_focal", "sparse_categorical_focal")
class SparseCategoricalFocalLoss(Loss):
    r"""Computes the softmax focal loss between integer class ids and predictions.

    `CategoricalFocalLoss` for labels given as class ids, without building a one-hot tensor. Formula, per
    sample with class id $y$, $x$ the logits (the clipped log-probabilities when `from_logits=False`) and
    $\log p_y = x_y - \operatorname{logsumexp}(x)$:

    $$
    \mathrm{loss} = -\alpha_y (1 - p_y)^\gamma \log p_y
    $$

    With `gamma=0` and `alpha=None` it equals `SparseCategoricalCrossentropy` exactly.

    Class ids keep their own dtype (never cast to the loss dtype). An id outside `[0, K)`, or a float
    label with a fractional part, raises a `ValueError` eagerly and an `InvalidArgumentError` in
    `tf.function` / `model.fit`; under XLA, where nothing can raise, that sample's loss is NaN.

    Args:
        gamma: The focusing parameter, a float >= 0. Defaults to `2.0` (the paper's choice).
        alpha: `None` (no weighting), one float in `[0, 1]` for every class, or a list of K weights
            >= 0, one per class: e.g. `kerasloss.class_balanced_weights(counts)` for the class-balanced
            focal loss of Cui et al. 2019 (those sum to K, so exceed 1). Defaults to `None`.
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        ignore_class: A class id whose entries contribute nothing (e.g. the "void" label of a
            segmentation map): their loss is 0 and masked, so the mean runs over the other entries
            only, as with Keras' `SparseCategoricalCrossentropy(ignore_class=...)`. `None` ignores
            nothing. Defaults to `None`.
        axis: The class axis of `y_pred`; e.g. `1` for channels-first outputs `(batch, classes, h, w)`
            against labels `(batch, h, w)`. Defaults to `-1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"sparse_categorical_focal_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class ids in `[0, K)` (or `ignore_class`), shape `(batch, ...)`: the shape of
            `y_pred` without its class axis (or with it of size 1).
        y_pred: Class probabilities, or logits with `from_logits=True`, shape `(batch, ..., K)`, the
            class axis at `axis`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default (the mean over the entries not
        ignored), the per-sample loss of shape `(batch, ...)` with `reduction=None`.

    References:
        Lin, Goyal, Girshick, He & Dollár, "Focal Loss for Dense Object Detection", ICCV 2017.
        https://arxiv.org/abs/1708.02002

    Example:

    >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> round(float(kerasloss.SparseCategoricalFocalLoss(gamma=2.0)(np.array([1, 2]), y_pred)), 4)
    0.9326
    >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> loss = kerasloss.SparseCategoricalFocalLoss(gamma=2.0, from_logits=True)
    >>> round(float(loss(np.array([0, 1]), logits)), 4)
    0.0285

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.SparseCategoricalFocalLoss(from_logits=True))
    """

    function = staticmethod(sparse_categorical_focal_loss)
    inputs = "class_ids"
    labels_are_ids = True

    def __init__(
        self,
        gamma=2.0,
        alpha=None,
        from_logits=False,
        ignore_class=None,
        axis=-1,
        *,
        reduction="sum_over_batch_size",
        name="sparse_categorical_focal_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            alpha=alpha,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
