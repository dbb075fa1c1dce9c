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

from kerasloss.core.hyperparameters import (
    boolean,
    hyperparameters,
    integer,
    open_unit_interval,
    optional_integer,
    positive,
    smoothing,
)
from kerasloss.core.inputs import (
    class_axis_last,
    drop_ignored,
    ignored_entries,
    same_shape,
    sparse_class_axis_last,
    sparse_ids,
    valid_class_ids,
)
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import clip_probability, logit_crossentropy, normalize_probabilities
from kerasloss.core.registry import register

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CostSensitiveBinaryCrossentropy",
    "Hinge",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "cost_sensitive_binary_crossentropy",
    "hinge",
    "sparse_categorical_crossentropy",
]


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


@hyperparameters(from_logits=boolean, label_smoothing=smoothing, axis=integer)
def binary_crossentropy(y_true, y_pred, *, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1):
    r"""Binary cross-entropy, averaged over the last axis.

    Formula, with smoothed targets $t = y (1 - s) + s / 2$, $p = \sigma(\hat y)$ (the sigmoid of `y_pred`) if
    `from_logits`, and the mean over the $L$ entries of the last axis:

    $$
    \mathrm{loss} = -\frac{1}{L} \sum_{l=1}^{L} \left[ t_l \log p_l + (1 - t_l) \log (1 - p_l) \right]
    $$

    Args:
        from_logits: `y_pred` holds logits (exact for any finite logit) rather than probabilities.
            Defaults to False.
        label_smoothing: s in [0, 1), pulls targets toward 1/2 (Szegedy et al. 2016). Defaults to 0.
        axis: the axis the mean runs over. Defaults to -1.

    Returns:
        The per-sample loss: `y_pred`'s shape without `axis`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "binary_crossentropy")
    y_true, y_pred = class_axis_last(y_pred, axis, "binary_crossentropy", y_true)
    targets = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(elementwise_binary_crossentropy(targets, y_pred, from_logits), axis=-1)


@hyperparameters(from_logits=boolean, label_smoothing=smoothing, axis=integer)
def categorical_crossentropy(
    y_true, y_pred, *, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
):
    r"""Categorical cross-entropy against one-hot (or soft) targets, summed over the last axis.

    Formula, with $K$ classes, smoothed targets $t = y (1 - s) + s / K$ and
    $\log p = \log \operatorname{softmax}(\hat y)$ (of `y_pred`) if `from_logits`, summed over the last axis:

    $$
    \mathrm{loss} = -\sum_{k=1}^{K} t_k \log p_k
    $$

    Args:
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1) (Szegedy et al. 2016). Defaults to 0.
        axis: the class axis. Defaults to -1.

    Returns:
        The per-sample loss: `y_pred`'s shape without `axis`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "categorical_crossentropy")
    y_true, y_pred = class_axis_last(y_pred, axis, "categorical_crossentropy", y_true)
    num_classes = ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
    targets = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return -ops.sum(targets * log_probabilities(y_pred, from_logits), axis=-1)


@hyperparameters(from_logits=boolean, label_smoothing=smoothing, ignore_class=optional_integer, axis=integer)
def sparse_categorical_crossentropy(
    y_true,
    y_pred,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    ignore_class: int | None = None,
    axis: int = -1,
):
    r"""Categorical cross-entropy against integer class ids, label smoothing in closed form.

    Formula, with $K$ classes, logits $x$ (log-probabilities when from_logits=False) and id $y$:

    $$
    \mathrm{loss} = \operatorname{logsumexp}(x) - (1 - s)\, x_y - \frac{s}{K} \sum_{k=1}^{K} x_k
    = \mathrm{CE} + s \Bigl( x_y - \frac{1}{K} \sum_{k=1}^{K} x_k \Bigr)
    $$

    where $\mathrm{CE} = \operatorname{logsumexp}(x) - x_y$ is the unsmoothed loss. This is
    $-\sum_k t_k \log \operatorname{softmax}(x)_k$ for the smoothed one-hot target $t$, without building it
    (no (batch, K) target tensor).

    Out-of-range ids raise (eagerly and in `tf.function`) or give NaN under XLA; see `kerasloss.core.inputs`.

    Args:
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.
        ignore_class: a class id whose entries contribute nothing ("void" pixels in segmentation):
            their loss is 0 and masked, so Keras' mean runs over the other entries only, exactly as
            Keras' `SparseCategoricalCrossentropy(ignore_class=...)`. Defaults to None.
        axis: the class axis of `y_pred`. Defaults to -1.

    Returns:
        The per-sample loss, of `y_true`'s shape: `y_pred`'s without `axis`.
    """
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
    y_true, y_pred = sparse_class_axis_last(y_true, y_pred, axis, loss_name)
    ids, kept = ignored_entries(sparse_ids(y_true, y_pred, loss_name), ignore_class, y_true)
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


@hyperparameters()
def hinge(y_true, y_pred):
    r"""Hinge loss (the SVM's), averaged over the last axis.

    Formula, with labels $y \in \{-1, 1\}$, predictions $\hat y$ (`y_pred`) and the mean over the $d$ entries
    of the last axis; labels given as {0, 1} are mapped 0 -> -1 first:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d} \max(1 - y_j\, \hat y_j,\ 0)
    $$

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "hinge")
    signed = ops.where(ops.equal(y_true, 0.0), -1.0, y_true)
    return ops.mean(ops.relu(1.0 - signed * y_pred), axis=-1)


@hyperparameters(
    positive_weight=positive, false_negative_weight=positive, threshold=open_unit_interval, from_logits=boolean
)
def cost_sensitive_binary_crossentropy(
    y_true,
    y_pred,
    *,
    positive_weight: float = 1.0,
    false_negative_weight: float = 1.0,
    threshold: float = 0.5,
    from_logits: bool = False,
):
    r"""Binary cross-entropy that charges missed positives more than false alarms.

    Formula, per element with label $y$, cross-entropy $\mathrm{CE}$, probability $p$, $w_{+}$ =
    `positive_weight`, $w_{\mathrm{fn}}$ = `false_negative_weight` and $\tau$ = `threshold`, then the mean
    over the $L$ entries of the last axis:

    $$
    w = \bigl(1 + (w_{+} - 1)\, y\bigr) \bigl(1 + (w_{\mathrm{fn}} - 1)\, y\, [p < \tau]\bigr),
    \qquad
    \mathrm{loss} = \frac{1}{L} \sum_{l=1}^{L} w_l\, \mathrm{CE}_l
    $$

    `positive_weight` scales every positive (as `tf.nn.weighted_cross_entropy_with_logits`'s
    pos_weight); `false_negative_weight` further scales positives currently predicted negative
    (p < threshold), the false negatives. The indicator is piecewise constant: it selects, it has no
    gradient of its own.

    Args:
        positive_weight: > 0. Defaults to 1.0.
        false_negative_weight: > 0. Defaults to 1.0.
        threshold: decision threshold on p, in (0, 1). Defaults to 0.5.
        from_logits: `y_pred` holds logits. Defaults to False.

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
    """
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
    r"""Computes the cross-entropy between binary labels and predicted probabilities (or logits).

    For binary and multi-label classification: each entry of the label axis is a yes/no label of its
    own, and the loss is the mean of their cross-entropies. Formula, per sample, with smoothed targets
    $t = y (1 - s) + s / 2$ and $p = \sigma(\hat y)$ (the sigmoid of `y_pred`) when `from_logits=True`, the
    mean running over the $L$ entries of the label axis (`axis`):

    $$
    \mathrm{loss} = -\frac{1}{L} \sum_{l=1}^{L} \left[ t_l \log p_l + (1 - t_l) \log (1 - p_l) \right]
    $$

    The same loss as `keras.losses.BinaryCrossentropy`. From logits it is exact for any finite logit
    (`1 - sigmoid(x)` is never formed); probabilities are clipped to `[1e-7, 1 - 1e-7]` as Keras does
    (wider in float16 and bfloat16, where those bounds round away).

    Args:
        from_logits: Whether `y_pred` holds logits (any real number) rather than probabilities in
            `[0, 1]`. Defaults to `False`.
        label_smoothing: `s` in `[0, 1)`: pulls every target toward 1/2 (Szegedy et al. 2016).
            Defaults to `0.0`.
        axis: The label axis, over which the mean runs; e.g. `1` for channels-first outputs
            `(batch, labels, h, w)`. Defaults to `-1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"binary_crossentropy"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Labels in {0, 1} (or soft targets in `[0, 1]`), shape `(batch, ..., labels)`, the
            label axis at `axis`.
        y_pred: Probabilities, or logits with `from_logits=True`, of the same shape. `(batch,)` against
            `(batch, 1)` is aligned as Keras does; any other mismatch raises a `ValueError`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the label axis averaged away) with `reduction=None`.

    References:
        Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the Inception Architecture for Computer
        Vision", CVPR 2016 (label smoothing). https://arxiv.org/abs/1512.00567

    Example:

    >>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.array([[0.6, 0.4], [0.4, 0.6]])
    >>> round(float(kerasloss.BinaryCrossentropy()(y_true, y_pred)), 4)
    0.8149
    >>> logits = np.array([[-18.6, 0.51, 2.94, -12.8]])
    >>> loss = kerasloss.BinaryCrossentropy(from_logits=True)
    >>> round(float(loss(np.array([[0.0, 1.0, 0.0, 0.0]]), logits)), 4)
    0.8655

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.BinaryCrossentropy(from_logits=True))
    """

    function = staticmethod(binary_crossentropy)
    inputs = "targets"

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
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


@register("cce")
class CategoricalCrossentropy(Loss):
    r"""Computes the cross-entropy between one-hot (or soft) labels and predicted class probabilities.

    For single-label classification with the labels one-hot encoded (integer labels:
    `SparseCategoricalCrossentropy`). Formula, per sample, with $K$ classes, smoothed targets
    $t = y (1 - s) + s / K$ and $\log p = \log \operatorname{softmax}(\hat y)$ (of `y_pred`) when
    `from_logits=True`, the sum running over the class axis (`axis`):

    $$
    \mathrm{loss} = -\sum_{k=1}^{K} t_k \log p_k
    $$

    The same loss as `keras.losses.CategoricalCrossentropy` (except that with `label_smoothing` and an
    `axis` other than -1, Keras smooths with the size of the last axis; here K is the class axis's size).
    Probabilities are rescaled to sum to 1 over
    the class axis, then clipped to `[1e-7, 1 - 1e-7]` (Keras' rule; wider in float16 and bfloat16).

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        label_smoothing: `s` in `[0, 1)`: mixes every target with the uniform distribution over the
            K classes (Szegedy et al. 2016). Defaults to `0.0`.
        axis: The class axis, over which the sum runs; e.g. `1` for channels-first outputs
            `(batch, classes, h, w)`. Defaults to `-1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"categorical_crossentropy"`.
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
        Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the Inception Architecture for Computer
        Vision", CVPR 2016 (label smoothing). https://arxiv.org/abs/1512.00567

    Example:

    >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> round(float(kerasloss.CategoricalCrossentropy()(y_true, y_pred)), 4)
    1.1769
    >>> round(float(kerasloss.CategoricalCrossentropy(label_smoothing=0.1)(y_true, y_pred)), 4)
    1.4591

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.CategoricalCrossentropy(from_logits=True))
    """

    function = staticmethod(categorical_crossentropy)
    inputs = "targets"

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
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


@register("scce", "sparse_cce")
class SparseCategoricalCrossentropy(Loss):
    r"""Computes the cross-entropy between integer class ids and predicted class probabilities.

    `CategoricalCrossentropy` for labels given as class ids, e.g. `[1, 2]` instead of
    `[[0, 1, 0], [0, 0, 1]]`; no one-hot tensor is built, with or without label smoothing. Formula, per
    sample, with $K$ classes, class id $y$ and $x$ the logits (the clipped log-probabilities when
    `from_logits=False`):

    $$
    \mathrm{loss} = \operatorname{logsumexp}(x) - (1 - s)\, x_y - \frac{s}{K} \sum_{k=1}^{K} x_k
    $$

    which is $-\sum_k t_k \log \operatorname{softmax}(x)_k$ for the smoothed one-hot target $t$; with
    $s = 0$, $-\log \operatorname{softmax}(x)_y$. Equals `keras.losses.SparseCategoricalCrossentropy`,
    `ignore_class` included.

    Class ids keep their own dtype (Keras would cast them to the loss dtype, where bfloat16 turns 257
    into 256). An id outside `[0, K)`, or a float label with a fractional part, raises a `ValueError`
    eagerly and an `InvalidArgumentError` in `tf.function` / `model.fit`; under XLA (`jit_compile=True`,
    `jax.jit`), where nothing can raise, that sample's loss is NaN.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        label_smoothing: `s` in `[0, 1)` (Szegedy et al. 2016), in closed form. Defaults to `0.0`.
        ignore_class: A class id whose entries contribute nothing, e.g. the "void" label 255 of a
            segmentation map: their loss is 0 and masked, so the mean runs over the other entries only
            (`sample_weight` is applied to the kept ones). `None` ignores nothing. Defaults to `None`.
        axis: The class axis of `y_pred`; e.g. `1` for channels-first outputs `(batch, classes, h, w)`
            against labels `(batch, h, w)`. Defaults to `-1`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"sparse_categorical_crossentropy"`.
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
        Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the Inception Architecture for Computer
        Vision", CVPR 2016 (label smoothing). https://arxiv.org/abs/1512.00567

    Example:

    >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    >>> round(float(kerasloss.SparseCategoricalCrossentropy()(np.array([1, 2]), y_pred)), 4)
    1.1769

    Entries labelled `ignore_class` are left out of the mean, as in Keras:

    >>> y_true = np.array([1, 255])
    >>> round(float(kerasloss.SparseCategoricalCrossentropy(ignore_class=255)(y_true, y_pred)), 4)
    0.0513
    >>> round(float(keras.losses.SparseCategoricalCrossentropy(ignore_class=255)(y_true, y_pred)), 4)
    0.0513

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.SparseCategoricalCrossentropy(from_logits=True))
    """

    function = staticmethod(sparse_categorical_crossentropy)
    inputs = "class_ids"
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
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            ignore_class=ignore_class,
            axis=axis,
        )


@register()
class Hinge(Loss):
    r"""Computes the hinge loss (the SVM's) between signed labels and predicted scores.

    Formula, per sample, with labels $y \in \{-1, 1\}$, predicted scores $\hat y$ (`y_pred`) and the mean over
    the $d$ entries of the last axis:

    $$
    \mathrm{loss} = \frac{1}{d} \sum_{j=1}^{d} \max(1 - y_j\, \hat y_j,\ 0)
    $$

    Labels given as {0, 1} are mapped 0 -> -1 first, as `keras.losses.Hinge` does. A prediction counts
    only until it is on the right side with a margin of 1.

    Args:
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"hinge"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Labels in {-1, 1} or {0, 1}, shape `(batch, ..., d)`.
        y_pred: Raw scores (no sigmoid), of the same shape.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the mean over the last axis) with `reduction=None`.

    References:
        Hinge loss: https://en.wikipedia.org/wiki/Hinge_loss

    Example:

    >>> y_true = np.array([[1.0], [-1.0]])
    >>> y_pred = np.array([[0.3], [-2.0]])
    >>> round(float(kerasloss.Hinge()(y_true, y_pred)), 4)
    0.35

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss=kerasloss.Hinge())
    """

    function = staticmethod(hinge)
    inputs = "targets"

    def __init__(self, *, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


@register("cost_sensitive", "cost_sensitive_bce")
class CostSensitiveBinaryCrossentropy(Loss):
    r"""Computes a binary cross-entropy that charges missed positives more than false alarms.

    Formula, per element with label $y$, cross-entropy $\mathrm{CE}$ and predicted probability $p$, with
    $w_{+}$ = `positive_weight`, $w_{\mathrm{fn}}$ = `false_negative_weight` and $\tau$ = `threshold`, then
    the mean over the $L$ entries of the last axis:

    $$
    \begin{split}
    w &= \bigl(1 + (w_{+} - 1)\, y\bigr) \bigl(1 + (w_{\mathrm{fn}} - 1)\, y\, [p < \tau]\bigr) \\
    \mathrm{loss} &= \frac{1}{L} \sum_{l=1}^{L} w_l\, \mathrm{CE}_l
    \end{split}
    $$

    `positive_weight` scales every positive (as the `pos_weight` of
    `tf.nn.weighted_cross_entropy_with_logits`); `false_negative_weight` further scales the positives
    currently predicted negative (p below `threshold`): the false negatives. The indicator selects; it has
    no gradient of its own. With both weights 1 this is `BinaryCrossentropy`.

    Args:
        positive_weight: Weight of every positive example, > 0. Defaults to `1.0`.
        false_negative_weight: Further weight of a positive predicted negative, > 0. Defaults to `1.0`.
        threshold: The decision threshold on p, in `(0, 1)`; with `from_logits=True` the logits are
            compared with `log(threshold / (1 - threshold))`. Defaults to `0.5`.
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"cost_sensitive_binary_crossentropy"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Labels in {0, 1}, shape `(batch, ..., labels)`.
        y_pred: Probabilities, or logits with `from_logits=True`, of the same shape.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch, ...)` (the mean over the last axis) with `reduction=None`.

    References:
        Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
        `tf.nn.weighted_cross_entropy_with_logits`:
        https://www.tensorflow.org/api_docs/python/tf/nn/weighted_cross_entropy_with_logits

    Example:

    >>> y_true = np.array([[1.0], [0.0]])
    >>> y_pred = np.array([[0.3], [0.2]])  # the positive is missed
    >>> round(float(kerasloss.CostSensitiveBinaryCrossentropy()(y_true, y_pred)), 4)
    0.7136
    >>> loss = kerasloss.CostSensitiveBinaryCrossentropy(false_negative_weight=3.0)
    >>> round(float(loss(y_true, y_pred)), 4)
    1.9175

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    >>> loss = kerasloss.CostSensitiveBinaryCrossentropy(false_negative_weight=3.0, from_logits=True)
    >>> model.compile(optimizer="adam", loss=loss)
    """

    function = staticmethod(cost_sensitive_binary_crossentropy)
    inputs = "targets"

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
            positive_weight=positive_weight,
            false_negative_weight=false_negative_weight,
            threshold=threshold,
            from_logits=from_logits,
        )
