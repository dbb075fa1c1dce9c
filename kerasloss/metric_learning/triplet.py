"""Triplet loss with online mining: every valid triplet, batch-hard (Hermans et al. 2017), semi-hard
(Schroff et al. 2015, as TensorFlow Addons computes it) and random negatives.

Shapes: y_true integer labels (batch,), y_pred embeddings (batch, dim) -> (batch,). Memory stays
O(B^2) under `tf.function` and XLA alike. Semi-hard mining sorts each anchor's row once (negatives
before positives at equal distance) and finds each positive's semi-hard negative with a reverse running
minimum. "all" sorts the negatives and counts, per anchor-positive pair, those inside the margin by a
branchless binary search (log2 B rounds of B^2 gathers). `searchsorted` would lower to a B x B x B
comparison under XLA.
"""

import math
from typing import Literal

from keras import ops

from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import boolean, hyperparameters, non_negative, one_of, passed_through
from kerasloss.core.inputs import empty_batch_loss
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.metric_learning.pairwise import (
    distance_check,
    labelled_batch,
    nan_unless_finite,
    pairwise_distances,
    self_mask,
)

__all__ = ["TripletLoss", "triplet_loss"]

MININGS = ("semi-hard", "hard", "all", "random")
DISTANCES = ("euclidean", "squared_euclidean", "cosine")  # of pairwise.DISTANCES, those >= 0


def _count_at_most(sorted_rows, queries, strict):
    """Per row i and query j: how many of sorted_rows[i] are <= queries[i, j] (< when `strict`).

    A branchless binary search: each row is padded with +inf to 2^k - 1 entries (k = ceil(log2(n + 1))),
    and k rounds each probe one entry per query, stepping by 2^(k-1), ..., 2, 1. Positions are kept as
    flat indices so that a round is one gather, one comparison and one select over the (n, m) queries.
    """
    rows, n = ops.shape(sorted_rows)[0], ops.shape(sorted_rows)[1]
    static = isinstance(n, int)
    rounds = math.ceil(math.log2(n + 1)) if static else _bit_length(n)
    width = 2**rounds - 1 if static else ops.left_shift(1, rounds) - 1
    padding = ops.full((rows, width - n), math.inf, dtype=sorted_rows.dtype)
    flat = ops.reshape(ops.concatenate([sorted_rows, padding], axis=1), (-1,))
    start = ops.expand_dims(ops.arange(rows, dtype="int32") * width, 1) + ops.zeros_like(queries, dtype="int32")

    def probe(position, stride):
        value = ops.take(flat, position + (stride - 1))
        inside = value < queries if strict else value <= queries
        return ops.where(inside, position + stride, position)

    if static:
        position = start
        for k in reversed(range(rounds)):
            position = probe(position, 2**k)
    else:
        position = ops.fori_loop(0, rounds, lambda i, p: probe(p, ops.left_shift(1, rounds - 1 - i)), start)
    return position - start


def _bit_length(n):
    """ceil(log2(n + 1)) for a dynamic integer n >= 0: the binary search's number of rounds."""
    return ops.cast(ops.ceil(ops.log2(ops.cast(n + 1, "float32"))), "int32")


def _hinge(x, soft):
    return ops.softplus(x) if soft else ops.relu(x)


_SELF_KEY = 2**31 - 1  # the anchor itself sorts last, after every negative


def _order_keys(d, negatives):
    """int32 sort keys: 2 * (bits(d) - 2^30) + (0 for a negative, 1 otherwise), the anchor itself last.

    For d >= 0 the float32 bit pattern orders as the value does, and bits - 2^30 doubled still fits in
    int32, so at equal distances a negative sorts before a positive. Distances are widened to float32
    (exact for float16/bfloat16); a distance that rounding made negative (1 - cos) is ordered as 0.
    """
    distances = ops.maximum(ops.cast(ops.stop_gradient(d), "float32"), 0.0) + 0.0  # -0.0 -> +0.0
    # Viewed as (-1, 1): keras.ops.view tests the last axis' size in Python, failing on a traced None.
    bits = ops.reshape(ops.view(ops.reshape(distances, (-1, 1)), "int32"), ops.shape(d))
    keys = (bits - 2**30) * 2 + ops.cast(ops.logical_not(negatives), "int32")
    return ops.where(self_mask(*ops.shape(d)), _SELF_KEY, keys)


def _reverse_running_min(x, fill, exclusive=False):
    """Per row j: min(x[:, j:]) (min(x[:, j+1:]) when `exclusive`, `fill` past the end), by log2(n)
    doubling steps of elementwise minima: O(n^2 log n) work, O(n^2) memory. Static widths shift by
    slicing; a dynamic width (a batch traced as None) shifts by a gather inside a loop."""
    n = ops.shape(x)[1]
    if isinstance(n, int):

        def shifted(v, step):
            if step >= n:
                return ops.full_like(v, fill)
            return ops.concatenate([v[:, step:], ops.full_like(v[:, :step], fill)], axis=1)

        if exclusive:
            x = shifted(x, 1)
        step = 1
        while step < n:
            x = ops.minimum(x, shifted(x, step))
            step *= 2
        return x

    column = ops.expand_dims(ops.arange(n, dtype="int32"), 0) + ops.zeros_like(x, dtype="int32")

    def shifted(v, step):
        padded = ops.concatenate([v, ops.full_like(v[:, :1], fill)], axis=1)
        return ops.take_along_axis(padded, ops.minimum(column + step, n), axis=1)

    if exclusive:
        x = shifted(x, 1)
    rounds = _bit_length(n - 1)
    return ops.fori_loop(0, rounds, lambda i, v: ops.minimum(v, shifted(v, ops.left_shift(1, i))), x)


def _semi_hard_negative(d, negatives):
    """Per anchor-positive pair, TFA's semi-hard negative distance: the closest negative farther than
    the positive (strictly), or the anchor's farthest negative where none is.

    One sort per anchor row, no search: each entry's key packs its distance's bit pattern (a
    non-negative float's bits order as integers) with one bit that puts a negative before a positive at
    the same distance. In that order, the closest negative farther than a positive is the first negative
    after it: an exclusive reverse running minimum over the negatives' positions, each packed with its
    column so that one scan yields both. The columns go back to the original order with one segment sum.
    """
    rows, n = ops.shape(d)  # n candidates: the batch, then any reference set
    if isinstance(n, int) and isinstance(rows, int) and max(n, rows) * n >= 2**31:
        raise ValueError(f"triplet_loss: semi-hard mining indexes B x N entries in int32; {rows} x {n} is too large.")
    keys = _order_keys(d, negatives)
    inverted, order = ops.top_k(ops.bitwise_invert(keys), n)  # descending ~key: ascending key
    ascending = ops.bitwise_invert(inverted)
    position = ops.expand_dims(ops.arange(n, dtype="int32"), 0)
    is_negative = ops.equal(ops.bitwise_and(ascending, 1), 0)  # the anchor's own key is odd
    # Packed as position * n + column: the minimum is the first negative, and its column is the remainder.
    none = n * n
    packed = ops.where(is_negative, position * n + ops.cast(order, "int32"), none)
    first_after = _reverse_running_min(packed, none, exclusive=True)
    column = ops.where(first_after < none, first_after - (first_after // n) * n, -1)  # -1: none farther
    # Back to the original column order: every (anchor, column) appears once among the sorted positions.
    flat = ops.reshape(ops.cast(order, "int32") + ops.expand_dims(ops.arange(rows, dtype="int32") * n, 1), (-1,))
    column = ops.reshape(ops.segment_sum(ops.reshape(column, (-1,)), flat, num_segments=rows * n), (rows, n))
    farther = ops.take_along_axis(d, ops.maximum(column, 0), axis=1)
    farthest = ops.max(ops.where(negatives, d, -math.inf), axis=1, keepdims=True)
    return ops.where(column >= 0, farther, farthest)


def _all_triplets(d, negatives, margin):
    """Per anchor-positive pair: the sum of max(margin + d_ap - d_an, 0) over all negatives, and how
    many of those terms are non-zero, from sorted negatives and their prefix sums."""
    sorted_negatives = ops.sort(ops.where(negatives, d, math.inf), axis=1)
    threshold = margin + d
    active = _count_at_most(sorted_negatives, threshold, strict=True)  # d_an < margin + d_ap
    finite = ops.where(ops.isfinite(sorted_negatives), sorted_negatives, 0.0)
    prefix = ops.concatenate([ops.zeros_like(finite[:, :1]), ops.cumsum(finite, axis=1)], axis=1)
    total = ops.cast(active, d.dtype) * threshold - ops.take_along_axis(prefix, active, axis=1)
    return ops.maximum(total, 0.0), active


def _random_negative(d, negatives):
    """One pseudo-random negative per anchor (used for all its positives): the negative with the largest
    integer hash of (anchor, negative) positions. Integer arithmetic is exact on every backend, so
    eager and XLA draw the same; the draw changes from step to step with the batch's shuffled order."""
    rows, columns = ops.shape(d)
    mixed = ops.bitwise_xor(
        ops.expand_dims(ops.arange(rows, dtype="int32") * 73856093, 1),
        ops.expand_dims(ops.arange(columns, dtype="int32") * 19349663, 0),
    )
    mixed = ops.bitwise_xor(mixed, ops.right_shift(mixed, 13)) * 1274126177  # int32 products wrap
    pick = ops.argmax(ops.where(negatives, ops.bitwise_and(mixed, 0x7FFFFFFF), -1), axis=1)
    return ops.take_along_axis(d, ops.expand_dims(pick, 1), axis=1)


def _check_soft(soft, mining):
    if soft and mining == "all":
        raise invalid_argument("soft", "False with mining='all' (no closed form over all triplets)", soft)


@hyperparameters(
    margin=non_negative,
    mining=one_of(*MININGS),
    distance=distance_check(*DISTANCES),
    soft=boolean,
    reference=passed_through,
)
@computed_in_float32
def triplet_loss(
    y_true,
    y_pred,
    *,
    margin: float = 1.0,
    mining: Literal["semi-hard", "hard", "all", "random"] = "semi-hard",
    distance: Literal["euclidean", "squared_euclidean", "cosine"] = "euclidean",
    soft: bool = False,
    reference: "tuple | None" = None,
):
    """Triplet loss: an anchor closer to its positives than to its negatives by a margin.

    Formula, per triplet (a, p, n) with p of a's class and n not: max(margin + d_ap - d_an, 0), or
    softplus(d_ap - d_an) with `soft=True` (no margin). Mining picks the triplets:
      - "semi-hard": every anchor-positive pair with the closest negative farther than the positive, or
        the farthest negative where none is (TensorFlow Addons' TripletSemiHardLoss, exactly): the mean
        over anchor-positive pairs.
      - "hard": per anchor, the farthest positive and the closest negative (batch-hard, Hermans et al.
        2017; TFA's TripletHardLoss): the mean over anchors (an anchor without positive uses d_ap = 0,
        as TFA does).
      - "all": every valid triplet, averaged over those with a non-zero loss (Hermans et al. 2017).
      - "random": per anchor one pseudo-random negative (a hash of positions, not of distances) for all
        its positives; mean over pairs. A baseline to compare the other minings with.
    A batch with no positive pair or no negative returns 0 with a zero gradient. Values are per anchor,
    scaled so that Keras' batch mean is the mean described above.

    Args:
        margin: >= 0. Defaults to 1.0 (TFA's).
        mining: "semi-hard" (default), "hard", "all" or "random".
        distance: "euclidean" (default), "squared_euclidean" or "cosine" (1 - cosine similarity).
        soft: softplus instead of the margin hinge (not with mining="all"). Defaults to False.
        reference: optional `(embeddings, labels)` or `(embeddings, labels, valid)`: more positives and
            negatives for every anchor of the batch (no gradient flows into them).

    Returns:
        The per-anchor loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and Clustering", CVPR 2015.
        https://arxiv.org/abs/1503.03832
        Hermans et al., "In Defense of the Triplet Loss for Person Re-Identification", 2017.
        https://arxiv.org/abs/1703.07737
    """
    _check_soft(soft, mining)
    pool = labelled_batch(y_true, y_pred, reference, "triplet_loss")
    if pool is None:
        return empty_batch_loss(y_pred)
    d = pairwise_distances(y_pred, pool.embeddings, distance)
    positives, negatives = pool.positives, pool.negatives
    batch = ops.cast(ops.shape(d)[0], d.dtype)
    has_negative = ops.any(negatives, axis=1, keepdims=True)
    pairs = ops.logical_and(positives, has_negative)  # anchor-positive pairs that can form a triplet
    pair_count = ops.sum(ops.cast(pairs, d.dtype))
    # A batch with no usable pair (no positive pair, or no negative) gives 0 and, through the where, a
    # zero gradient.
    usable = pair_count > 0

    if mining == "hard":
        hardest_positive = ops.max(ops.where(positives, d, 0.0), axis=1)
        hardest_negative = ops.min(ops.where(negatives, d, math.inf), axis=1)
        hardest_negative = ops.where(ops.squeeze(has_negative, 1), hardest_negative, 0.0)
        gap = hardest_positive - hardest_negative
        per_anchor = _hinge(gap if soft else margin + gap, soft)
    elif mining == "all":
        sums, active = _all_triplets(d, negatives, margin)
        sums = ops.where(pairs, sums, 0.0)
        active = ops.sum(ops.where(pairs, ops.cast(active, d.dtype), 0.0))
        per_anchor = ops.sum(sums, axis=1) * batch / ops.maximum(active, 1.0)
    else:
        negative = _semi_hard_negative(d, negatives) if mining == "semi-hard" else _random_negative(d, negatives)
        pair_losses = _hinge(d - negative if soft else margin + d - negative, soft)
        per_anchor = ops.sum(ops.where(pairs, pair_losses, 0.0), axis=1) * batch / ops.maximum(pair_count, 1.0)
    return nan_unless_finite(ops.where(usable, per_anchor, 0.0), y_pred, pool)


@register("triplet")
class TripletLoss(Loss):
    """Computes the triplet loss with online mining: each anchor closer to its class than to others.

    From the labels of the batch, every embedding is an anchor, the others of its class its positives,
    the rest its negatives; `mining` picks which (anchor, positive, negative) triplets count. Formula,
    per triplet, with d the distance between embeddings:

        loss = max(margin + d(a, p) - d(a, n), 0)          (softplus(d(a, p) - d(a, n)) with soft=True)

    Mining:

    - `"semi-hard"`: every anchor-positive pair with the closest negative farther than the positive, or
      the farthest negative where none is (Schroff et al. 2015; TensorFlow Addons' `TripletSemiHardLoss`
      exactly); the mean over anchor-positive pairs.
    - `"hard"`: per anchor, the farthest positive and the closest negative (batch-hard, Hermans et al.
      2017; TFA's `TripletHardLoss`); the mean over anchors (an anchor without a positive uses
      d(a, p) = 0, as TFA does).
    - `"all"`: every valid triplet, averaged over those with a non-zero loss (Hermans et al. 2017).
    - `"random"`: per anchor one pseudo-random negative (a hash of positions, not of distances) for all
      its positives; the mean over anchor-positive pairs. A baseline for the other minings.

    The values are per anchor, scaled so that Keras' batch mean (the default reduction, without
    `sample_weight`) is the mean described above. A batch with no positive pair (every label distinct)
    or no negative (a single class) gives 0 with a zero gradient; an empty batch gives an empty loss of
    shape `(0,)`. Memory is O(B^2) under `tf.function` and XLA alike. In float16 and bfloat16 the loss
    is computed in float32 and returned in the loss's dtype. Class ids keep their own dtype.

    Args:
        margin: The margin, a float >= 0 (unused with `soft=True`). Defaults to `1.0` (TFA's).
        mining: `"semi-hard"`, `"hard"`, `"all"` or `"random"`. Defaults to `"semi-hard"`.
        distance: `"euclidean"`, `"squared_euclidean"` or `"cosine"` (1 - cosine similarity). Defaults
            to `"euclidean"`.
        soft: Use the soft margin `softplus(d(a, p) - d(a, n))` instead of the hinge (Hermans et al.
            2017); not with `mining="all"`, which is refused. Defaults to `False`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"triplet_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Embeddings, shape `(batch, dim)`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.
        reference: Optional `(embeddings (M, dim), labels (M,))`, or with a third entry `valid (M,)`, a
            boolean mask of the entries to use: more positives and negatives for every anchor
            (`kerasloss.CrossBatchMemory` passes its memory this way). No gradient flows into them.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-anchor loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Schroff, Kalenichenko & Philbin, "FaceNet: A Unified Embedding for Face Recognition and
        Clustering", CVPR 2015. https://arxiv.org/abs/1503.03832
        Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person Re-Identification", 2017.
        https://arxiv.org/abs/1703.07737

    Example:

    >>> labels = np.array([0, 0, 1, 1])
    >>> embeddings = np.array([[0.0, 0.0], [0.0, 0.5], [1.0, 0.0], [1.0, 0.5]])
    >>> round(float(kerasloss.TripletLoss(margin=1.0)(labels, embeddings)), 4)
    0.5
    >>> round(float(kerasloss.TripletLoss(margin=1.0, mining="all")(labels, embeddings)), 4)
    0.441
    >>> round(float(kerasloss.TripletLoss()(np.array([0, 1, 2, 3]), embeddings)), 4)  # no positive pair
    0.0

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="adam", loss=kerasloss.TripletLoss(margin=1.0, mining="semi-hard"))
    """

    function = staticmethod(triplet_loss)
    inputs = "embeddings"
    labels_are_ids = True

    def __init__(
        self,
        margin=1.0,
        mining="semi-hard",
        distance="euclidean",
        soft=False,
        *,
        reduction="sum_over_batch_size",
        name="triplet_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            margin=margin,
            mining=mining,
            distance=distance,
            soft=soft,
        )
        _check_soft(self.soft, self.mining)
