"""Cross-entropies (binary, categorical, sparse, with label smoothing), hinge, and cost-sensitive
binary cross-entropy.

Shapes: binary losses take `y_true`, `y_pred` of shape `(batch, ..., labels)` and average over the last
axis; categorical losses take `(batch, ..., classes)` and sum over it; sparse losses take integer
`y_true` of shape `(batch, ...)` against `(batch, ..., classes)`. Each returns `(batch, ...)`.
With `from_logits=False` inputs are probabilities, clipped to [1e-7, 1 - 1e-7] as in Keras.
"""

import math
from typing import NamedTuple

from keras import ops

from kerasloss.base import (
    Loss,
    check_axis,
    check_bool,
    check_ignore_class,
    check_label_smoothing,
    check_open_unit_interval,
    check_positive,
    register,
)
from kerasloss.inputs import (
    class_axis_last,
    drop_ignored,
    ignored_entries,
    same_shape,
    sparse_class_axis_last,
    sparse_ids,
    valid_class_ids,
)
from kerasloss.numerics import clip_probability, logit_crossentropy, normalize_probabilities


def elementwise_binary_crossentropy(targets, y_pred, from_logits):
    """-(t log p + (1 - t) log(1 - p)) per element; from logits without ever forming p."""
    if from_logits:
        return logit_crossentropy(targets, y_pred)
    p = clip_probability(y_pred)
    return -(targets * ops.log(p) + (1.0 - targets) * ops.log(1.0 - p))


def log_probabilities(y_pred, from_logits):
    """log p over the last axis: log_softmax of logits, or the log of normalized, clipped probabilities."""
    if from_logits:
        return ops.log_softmax(y_pred, axis=-1)
    return ops.log(clip_probability(normalize_probabilities(y_pred)))


def binary_crossentropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, averaged over the last axis.

    Formula, with smoothed targets `t = y (1 - s) + s / 2`:
        loss = mean(-(t log p + (1 - t) log(1 - p)), axis=-1),   p = sigmoid(y_pred) if from_logits

    Args:
        from_logits: `y_pred` holds logits (exact for any finite logit) rather than probabilities.
            Defaults to False.
        label_smoothing: s in [0, 1), pulls targets toward 1/2 (Szegedy et al. 2016). Defaults to 0.
        axis: the axis the mean runs over. Defaults to -1.
    """
    label_smoothing = check_label_smoothing(label_smoothing)
    y_true, y_pred = same_shape(y_true, y_pred, "binary_crossentropy")
    y_true, y_pred = class_axis_last(y_pred, check_axis(axis), "binary_crossentropy", y_true)
    targets = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(elementwise_binary_crossentropy(targets, y_pred, from_logits), axis=-1)


def categorical_crossentropy(y_true, y_pred, *, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy against one-hot (or soft) targets, summed over the last axis.

    Formula, with K classes and smoothed targets `t = y (1 - s) + s / K`:
        loss = -sum(t log p, axis=-1),   log p = log_softmax(y_pred) if from_logits

    Args:
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1) (Szegedy et al. 2016). Defaults to 0.
        axis: the class axis. Defaults to -1.
    """
    label_smoothing = check_label_smoothing(label_smoothing)
    y_true, y_pred = same_shape(y_true, y_pred, "categorical_crossentropy")
    y_true, y_pred = class_axis_last(y_pred, check_axis(axis), "categorical_crossentropy", y_true)
    num_classes = ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
    targets = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return -ops.sum(targets * log_probabilities(y_pred, from_logits), axis=-1)


def sparse_categorical_crossentropy(
    y_true, y_pred, *, from_logits=False, label_smoothing=0.0, ignore_class=None, axis=-1
):
    """Categorical cross-entropy against integer class ids, label smoothing in closed form.

    Formula, with K classes, logits x (log-probabilities when from_logits=False) and id y:
        loss = logsumexp(x) - (1 - s) x_y - (s / K) sum_k x_k  =  ce + s (x_y - mean_k x_k)
    where ce = logsumexp(x) - x_y is the unsmoothed loss. This is `-sum(t log softmax(x))` for the
    smoothed one-hot target `t`, without building it (no (batch, K) target tensor).

    Out-of-range ids raise (eagerly and in `tf.function`) or give NaN under XLA; see `kerasloss.inputs`.

    Args:
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.
        ignore_class: a class id whose entries contribute nothing ("void" pixels in segmentation):
            their loss is 0 and masked, so Keras' mean runs over the other entries only, exactly as
            Keras' `SparseCategoricalCrossentropy(ignore_class=...)`. Defaults to None.
        axis: the class axis of `y_pred`. Defaults to -1.
    """
    label_smoothing = check_label_smoothing(label_smoothing)
    name = "sparse_categorical_crossentropy"
    parts = sparse_scores(y_true, y_pred, from_logits, name, ignore_class=ignore_class, axis=axis)
    if not label_smoothing:
        loss = ops.sparse_categorical_crossentropy(parts.ids, parts.scores, from_logits=True)
    else:
        loss = _smoothed_sparse_crossentropy(parts.scores, parts.ids, label_smoothing)
    return drop_ignored(ops.where(parts.in_range, loss, math.nan), parts.kept)


def _smoothed_sparse_crossentropy(scores, ids, label_smoothing):
    """logsumexp(x) - (1 - s) x_y - s mean(x), with its gradient in closed form.

    d/dx = softmax(x) - s / K - (1 - s) [k = y]: the softmax minus a constant, then one scatter of a
    correction per row at its class. Autodiff would instead materialize three (batch, K) gradients
    (of the logsumexp, the gather and the mean) and add them.
    """
    num_classes = ops.shape(scores)[-1]
    leading_shape = ops.shape(ids)
    # Work on (rows, K): sequence outputs (batch, time, K) flatten into rows and come back at the end.
    scores, ids = ops.reshape(scores, (-1, num_classes)), ops.reshape(ids, (-1,))
    num_classes = ops.cast(num_classes, scores.dtype)

    @ops.custom_gradient
    def smoothed(x):
        lse = ops.logsumexp(x, axis=-1)
        loss = lse - (1.0 - label_smoothing) * gather_class(x, ids) - label_smoothing * ops.mean(x, axis=-1)

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            softmax = ops.exp(x - ops.expand_dims(lse, -1))
            g = (softmax - label_smoothing / num_classes) * ops.expand_dims(upstream, -1)
            at_class = gather_class(g, ids) - (1.0 - label_smoothing) * upstream
            return scatter_at_class(g, ids, at_class)

        return loss, grad

    return ops.reshape(smoothed(scores), leading_shape)


class SparseScores(NamedTuple):
    scores: object  # logits, or clipped log-probabilities, classes on the last axis
    ids: object  # int32 class ids, 0 where out of range or ignored: safe for any gather
    in_range: object  # bool: the id was a valid class (or ignored)
    kept: object  # bool: the entry is not ignore_class; None without one


def sparse_scores(y_true, y_pred, from_logits, loss_name, *, ignore_class=None, axis=-1):
    """Validated inputs of a sparse loss, classes moved to the last axis.

    `scores` are the logits, or the clipped log-probabilities (softmax(log p) renormalizes them, Keras'
    rule). Ids out of range are replaced by 0 so no kernel can fail or clamp; `in_range` marks them.
    Entries labelled `ignore_class` are not checked against the class range; `kept` marks the others.
    The losses compute on the safe ids, NaN where out of range, then `drop_ignored(loss, kept)`.
    """
    ignore_class = check_ignore_class(ignore_class)
    y_true, y_pred = sparse_class_axis_last(y_true, y_pred, check_axis(axis), loss_name)
    ids, kept = ignored_entries(sparse_ids(y_true, y_pred, loss_name), ignore_class)
    scores = y_pred if from_logits else ops.log(clip_probability(y_pred))
    in_range = valid_class_ids(ids, ops.shape(scores)[-1], loss_name)
    return SparseScores(scores, ops.where(in_range, ids, 0), in_range, kept)


def gather_class(values, ids):
    """values[..., ids]: each row's entry for its class, by index (no one-hot)."""
    return ops.squeeze(ops.take_along_axis(values, ops.expand_dims(ids, -1), axis=-1), axis=-1)


def scatter_at_class(values, ids, updates):
    """values with values[i, ids[i]] replaced by updates[i], for (batch, K) values."""
    rows = ops.arange(ops.shape(ids)[0], dtype=ids.dtype)
    return ops.scatter_update(values, ops.stack([rows, ids], axis=-1), updates)


def hinge(y_true, y_pred):
    """Hinge loss (the SVM's), averaged over the last axis.

    Formula: `loss = mean(max(1 - y * y_pred, 0), axis=-1)` with labels y in {-1, 1};
    labels given as {0, 1} are mapped 0 -> -1 first.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "hinge")
    signed = ops.where(ops.equal(y_true, 0.0), -1.0, y_true)
    return ops.mean(ops.relu(1.0 - signed * y_pred), axis=-1)


def cost_sensitive_binary_crossentropy(
    y_true, y_pred, *, positive_weight=1.0, false_negative_weight=1.0, threshold=0.5, from_logits=False
):
    """Binary cross-entropy that charges missed positives more than false alarms.

    Formula, per element with label y and cross-entropy ce:
        w = (1 + (positive_weight - 1) y) * (1 + (false_negative_weight - 1) y [p < threshold])
        loss = mean(w * ce, axis=-1)
    `positive_weight` scales every positive (as `tf.nn.weighted_cross_entropy_with_logits`'s
    pos_weight); `false_negative_weight` further scales positives currently predicted negative
    (p < threshold), the false negatives. The indicator is piecewise constant: it selects, it has no
    gradient of its own.

    Args:
        positive_weight: > 0. Defaults to 1.0.
        false_negative_weight: > 0. Defaults to 1.0.
        threshold: decision threshold on p, in (0, 1). Defaults to 0.5.
        from_logits: `y_pred` holds logits. Defaults to False.
    """
    positive_weight = check_positive("positive_weight", positive_weight)
    false_negative_weight = check_positive("false_negative_weight", false_negative_weight)
    threshold = check_open_unit_interval("threshold", threshold)
    y_true, y_pred = same_shape(y_true, y_pred, "cost_sensitive_binary_crossentropy")
    ce = elementwise_binary_crossentropy(y_true, y_pred, from_logits)
    # Compare logits against logit(threshold) rather than sigmoid(logits) against threshold.
    cut = math.log(threshold / (1.0 - threshold)) if from_logits else threshold
    predicted_negative = ops.cast(y_pred < cut, y_pred.dtype)
    weight = (1.0 + (positive_weight - 1.0) * y_true) * (
        1.0 + (false_negative_weight - 1.0) * y_true * predicted_negative
    )
    return ops.mean(weight * ce, axis=-1)


@register("bce")
class BinaryCrossentropy(Loss):
    """Binary cross-entropy; see `kerasloss.classification.binary_crossentropy`."""

    function = staticmethod(binary_crossentropy)

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        *,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=check_bool("from_logits", from_logits),
            label_smoothing=check_label_smoothing(label_smoothing),
            axis=check_axis(axis),
        )


@register("cce")
class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy; see `kerasloss.classification.categorical_crossentropy`."""

    function = staticmethod(categorical_crossentropy)

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        *,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=check_bool("from_logits", from_logits),
            label_smoothing=check_label_smoothing(label_smoothing),
            axis=check_axis(axis),
        )


@register("scce", "sparse_cce")
class SparseCategoricalCrossentropy(Loss):
    """Sparse categorical cross-entropy; see `kerasloss.classification.sparse_categorical_crossentropy`."""

    function = staticmethod(sparse_categorical_crossentropy)
    labels_are_ids = True

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        ignore_class=None,
        axis=-1,
        *,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=check_bool("from_logits", from_logits),
            label_smoothing=check_label_smoothing(label_smoothing),
            ignore_class=check_ignore_class(ignore_class),
            axis=check_axis(axis),
        )


@register()
class Hinge(Loss):
    """Hinge loss; see `kerasloss.classification.hinge`."""

    function = staticmethod(hinge)

    def __init__(self, *, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@register("cost_sensitive", "cost_sensitive_bce")
class CostSensitiveBinaryCrossentropy(Loss):
    """Cost-sensitive BCE; see `kerasloss.classification.cost_sensitive_binary_crossentropy`."""

    function = staticmethod(cost_sensitive_binary_crossentropy)

    def __init__(
        self,
        positive_weight=1.0,
        false_negative_weight=1.0,
        threshold=0.5,
        from_logits=False,
        *,
        reduction="sum_over_batch_size",
        name="cost_sensitive_binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            positive_weight=check_positive("positive_weight", positive_weight),
            false_negative_weight=check_positive("false_negative_weight", false_negative_weight),
            threshold=check_open_unit_interval("threshold", threshold),
            from_logits=check_bool("from_logits", from_logits),
        )
