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

from keras import ops

from kerasloss.base import (
    Loss,
    check_alpha,
    check_axis,
    check_bool,
    check_ignore_class,
    check_label_smoothing,
    check_non_negative,
    register,
)
from kerasloss.classification import log_probabilities, sparse_scores
from kerasloss.inputs import check_last_axis, class_axis_last, drop_ignored, same_shape
from kerasloss.numerics import (
    clip_probability,
    focal_modulation,
    logit_crossentropy,
    normalize_probabilities,
    one_minus_exp,
    sigmoid_pair,
)


def _alpha_tensor(alpha, y_pred, loss_name):
    """alpha as a scalar or a (classes,) tensor in y_pred's dtype, its length checked."""
    if isinstance(alpha, tuple):
        check_last_axis(alpha, y_pred, "alpha", loss_name)
    return ops.convert_to_tensor(alpha, dtype=y_pred.dtype)


def binary_focal_loss(y_true, y_pred, *, gamma=2.0, alpha=0.25, from_logits=False, label_smoothing=0.0, axis=-1):
    """Sigmoid focal loss for binary and multi-label targets, averaged over the last axis.

    Formula, per label with hard label y, smoothed target t = y (1 - s) + s / 2, p = sigmoid(logit):
        ce      = -(t log p + (1 - t) log(1 - p))
        1 - p_t = t (1 - p) + (1 - t) p
        alpha_t = alpha y + (1 - alpha)(1 - y)          (follows the hard label, even when smoothed)
        loss    = mean(alpha_t (1 - p_t)^gamma ce, axis=-1)
    With s = 0 this is torchvision's `sigmoid_focal_loss` (whose mean reduction equals this loss's
    default `sum_over_batch_size`).

    Args:
        gamma: focusing parameter >= 0. Defaults to 2.0 (the paper's choice).
        alpha: weight of the positive class in [0, 1] (negatives get 1 - alpha), a per-label list, or
            None for no weighting. Defaults to 0.25 (the paper's choice with gamma = 2).
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.
        axis: the label axis the mean runs over (a per-label alpha follows it). Defaults to -1.
    """
    gamma = check_non_negative("gamma", gamma)
    alpha = check_alpha(alpha)
    label_smoothing = check_label_smoothing(label_smoothing)
    y_true, y_pred = same_shape(y_true, y_pred, "binary_focal_loss")
    y_true, y_pred = class_axis_last(y_pred, check_axis(axis), "binary_focal_loss", y_true)
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


def categorical_focal_loss(y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False, label_smoothing=0.0, axis=-1):
    """Softmax focal loss against one-hot (or soft) targets, summed over the classes.

    Formula, with K classes, t = y (1 - s) + s / K and p = softmax(logits):
        loss = -sum_k alpha_k t_k (1 - p_k)^gamma log p_k
    For one-hot targets only the true class counts: -alpha_y (1 - p_y)^gamma log p_y. This is Keras'
    `CategoricalFocalCrossentropy` (except its default alpha = 0.25 rescales every class alike;
    here the default is no weighting, so gamma = 0 gives plain cross-entropy).

    Args:
        gamma: focusing parameter >= 0. Defaults to 2.0.
        alpha: None, a float in [0, 1] applied to every class, or a per-class list. Defaults to None.
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.
        axis: the class axis. Defaults to -1.
    """
    gamma = check_non_negative("gamma", gamma)
    alpha = check_alpha(alpha)
    label_smoothing = check_label_smoothing(label_smoothing)
    y_true, y_pred = same_shape(y_true, y_pred, "categorical_focal_loss")
    y_true, y_pred = class_axis_last(y_pred, check_axis(axis), "categorical_focal_loss", y_true)
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


def sparse_categorical_focal_loss(
    y_true, y_pred, *, gamma=2.0, alpha=None, from_logits=False, ignore_class=None, axis=-1
):
    """Softmax focal loss against integer class ids, without building a one-hot tensor.

    Formula, with id y and log p_y = x_y - logsumexp(x) (x: logits, or clipped log-probabilities):
        loss = -alpha_y (1 - p_y)^gamma log p_y

    Out-of-range ids raise (eagerly and in `tf.function`) or give NaN under XLA; see `kerasloss.inputs`.

    Args:
        gamma: focusing parameter >= 0. Defaults to 2.0.
        alpha: None, a float in [0, 1], or a per-class list. Defaults to None.
        from_logits: `y_pred` holds logits. Defaults to False.
        ignore_class: a class id whose entries contribute nothing: 0 and masked out of Keras' mean, as
            Keras' `SparseCategoricalCrossentropy(ignore_class=...)`. Defaults to None.
        axis: the class axis of `y_pred`. Defaults to -1.
    """
    gamma = check_non_negative("gamma", gamma)
    alpha = check_alpha(alpha)
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
    """Binary / multi-label sigmoid focal loss; see `kerasloss.focal.binary_focal_loss`.

    `FocalLoss(gamma=2.0, alpha=0.25, from_logits=False, label_smoothing=0.0)`
    """

    function = staticmethod(binary_focal_loss)

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
            gamma=check_non_negative("gamma", gamma),
            alpha=check_alpha(alpha),
            from_logits=check_bool("from_logits", from_logits),
            label_smoothing=check_label_smoothing(label_smoothing),
            axis=check_axis(axis),
        )


@register("categorical_focal")
class CategoricalFocalLoss(Loss):
    """Softmax focal loss on one-hot targets; see `kerasloss.focal.categorical_focal_loss`."""

    function = staticmethod(categorical_focal_loss)

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
            gamma=check_non_negative("gamma", gamma),
            alpha=check_alpha(alpha),
            from_logits=check_bool("from_logits", from_logits),
            label_smoothing=check_label_smoothing(label_smoothing),
            axis=check_axis(axis),
        )


@register("sparse_focal", "sparse_categorical_focal")
class SparseCategoricalFocalLoss(Loss):
    """Softmax focal loss on integer targets; see `kerasloss.focal.sparse_categorical_focal_loss`."""

    function = staticmethod(sparse_categorical_focal_loss)
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
            gamma=check_non_negative("gamma", gamma),
            alpha=check_alpha(alpha),
            from_logits=check_bool("from_logits", from_logits),
            ignore_class=check_ignore_class(ignore_class),
            axis=check_axis(axis),
        )
