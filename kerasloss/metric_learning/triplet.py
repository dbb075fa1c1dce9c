"""Triplet loss with online mining: every valid triplet, batch-hard (Hermans et al. 2017), semi-hard
(Schroff et al. 2015, as TensorFlow Addons computes it) and random negatives.

Shapes: y_true integer labels (batch,), y_pred embeddings (batch, dim) -> (batch,). Memory stays
O(B^2) under `tf.function` and XLA alike. Semi-hard mining is a masked minimum per anchor-positive pair
over its anchor's row (an argmin of wrapped int32 keys, `rows` pairs at a time in a loop whose length is
the number of pairs; no sort): under XLA always, elsewhere unless the pairs per anchor are many (above
`_SORT_ABOVE`), where one sort per row (negatives before positives at equal distance) and a reverse
running minimum cost less. Both choose the same negative, bit for bit. Outside XLA the pairs are listed
and the loss gathered and summed over them alone, not over every entry of the B x B block. "all" sorts
the negatives and counts, per anchor-positive pair, those inside the margin by a branchless binary
search (log2 B rounds of B^2 gathers). `searchsorted` would lower to a B x B x B comparison under XLA.
"""

import math
from typing import Literal

import keras
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


def _count_at_most_sorted(values, queries):
    """How many of the non-decreasing int32 `values` (1-D) are <= each query: a branchless binary search,
    one gather a round, ceil(log2(len + 1)) rounds (31 for a traced length)."""
    length = ops.shape(values)[0]
    rounds = math.ceil(math.log2(length + 1)) if isinstance(length, int) else 31
    position = ops.zeros_like(queries)
    for k in reversed(range(rounds)):
        probe = ops.take(values, ops.minimum(position + 2**k, length) - 1)
        inside = ops.logical_and(position + 2**k <= length, probe <= queries)
        position = ops.where(inside, position + 2**k, position)
    return position


def _bit_length(n):
    """ceil(log2(n + 1)) for a dynamic integer n >= 0: the binary search's number of rounds."""
    return ops.cast(ops.ceil(ops.log2(ops.cast(n + 1, "float32"))), "int32")


def _hinge(x, soft):
    return ops.softplus(x) if soft else ops.relu(x)


_INT32_MAX = 2**31 - 1
# Mean anchor-positive pairs per anchor above which, outside XLA, sorting each anchor's row beats searching
# it once per pair (a sort costs about as many passes over the rows; measured with TensorFlow on a CPU at
# batch 1,024). Ten classes in a batch are ~100 pairs an anchor. XLA always searches: its CPU sort is 2.5x
# slower than TensorFlow's, and a conditional would hold both formulations' buffers.
_SORT_ABOVE = 64


def _known_in_python(x):
    """Whether x's values are known in Python here (eager code: TensorFlow eagerly, JAX outside `jit`,
    PyTorch), so that Python may branch and loop on them."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # TensorFlow itself: Keras has no public test for eager execution

        return tf.executing_eagerly()
    if backend == "jax":
        import jax

        if not isinstance(x, jax.core.Tracer):
            return True
        # A tracer of jax.grad outside jit holds values; one of jit does not.
        concrete_value = getattr(x, "to_concrete_value", None)
        return concrete_value is not None and concrete_value() is not None
    return backend == "torch"


def _in_a_graph_outside_xla():
    """Whether this trace is a TensorFlow graph that XLA does not compile, where a tensor may be sized by values
    (under XLA, `jit_compile=True` or `jax.jit`, shapes are fixed)."""
    if keras.backend.backend() != "tensorflow":
        return False
    # TensorFlow itself, not keras.ops: whether a tf.function compiles with XLA has no public form in Keras.
    import tensorflow as tf

    try:  # a private module (no public form): guarded, and wrong only in speed if it moves
        from tensorflow.python.ops.control_flow_util import GraphOrParentsInXlaContext
    except ImportError:  # moved: the fixed-shape search is right everywhere, only slower here
        return False
    return not GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def _loop(known, count, body, value):
    """value = body(i, value) for i < count: a Python loop where `count` is `known` in Python (JAX would
    compile `fori_loop` at every eager call), else `fori_loop` (a while loop: `count` may be traced)."""
    if known:
        for i in range(int(count)):
            value = body(i, value)
        return value
    return ops.fori_loop(0, count, body, value)


def _distance_bits(d):
    """The int32 bit patterns of the distances in float32, which order as the distances do, with any
    below 0 (-0.0, or a 1 - cos that rounding made negative) counted as +0.0.

    A non-negative float32's bits order as its value; a negative one's are negative as an int32, so a
    maximum with 0 clamps it (in integers: XLA folds x + 0.0 to x, which keeps -0.0). Distances are
    widened to float32 first (exact for float16/bfloat16).
    """
    distances = ops.cast(ops.stop_gradient(d), "float32")
    # Viewed as (-1, 1): keras.ops.view tests the last axis' size in Python, failing on a traced None.
    return ops.maximum(ops.reshape(ops.view(ops.reshape(distances, (-1, 1)), "int32"), ops.shape(d)), 0)


def _semi_hard_triplets(d, positives, negatives):
    """Per anchor-positive pair, its distance and TFA's semi-hard negative distance: the closest negative
    farther than the positive (strictly), or the anchor's farthest negative where none is; at equal
    distances the negative in the lowest column. Returns `(positive, negative, anchor)`: under XLA (fixed
    shapes) two (rows, n) blocks of every entry, those that are no pair to be masked out, and anchor
    None; elsewhere lists of the pairs (`nonzero`, row-major) and each one's anchor.

    Each pair's column (-1 where no negative is farther) comes from the distances' bits alone, by one of
    two formulations with one result: a search per pair (work pairs x candidates, no sort), always under
    XLA, and a sort per anchor (`_semi_hard_by_sorting`: candidates x log candidates each), elsewhere
    where the pairs per anchor are many (`_SORT_ABOVE`). The distance is gathered after, outside any loop
    or cond, so the gradient flows to it (to the farthest negatives, as `max` shares it, where none is
    farther). Listing the pairs where shapes may depend on values (eager code, a TensorFlow graph outside
    XLA) spares the loss a gather over every entry of the B x N block, whose gradient (a scatter over it)
    would cost more than the search, and its elementwise passes over entries that are no pair. Memory
    O(B^2).
    """
    rows, n = ops.shape(d)  # n candidates: the batch, then any reference set
    if isinstance(n, int) and isinstance(rows, int) and max(n, rows) * n >= 2**31:
        raise ValueError(f"triplet_loss: semi-hard mining indexes B x N entries in int32; {rows} x {n} is too large.")
    bits = _distance_bits(d)
    farthest = ops.max(ops.where(negatives, d, -math.inf), axis=1)
    known = _known_in_python(d)
    if not (known or _in_a_graph_outside_xla()):
        column = _semi_hard_by_search(bits, positives, negatives)
        farther = ops.take_along_axis(d, ops.maximum(column, 0), axis=1)
        return d, ops.where(column >= 0, farther, ops.expand_dims(farthest, 1)), None

    anchor, positive = (ops.cast(i, "int32") for i in ops.nonzero(positives))
    at = anchor * n + positive  # the pairs' row-major positions in d

    def by_search():
        return _semi_hard_of_listed_pairs(bits, negatives, at, known)

    def by_sorting():
        return ops.take(ops.reshape(_semi_hard_by_sorting(bits, negatives), (-1,)), at)

    many = ops.shape(at)[0] > _SORT_ABOVE * rows
    # Eager code branches in Python; a graph by a cond on integers alone (no gradient through it), so that
    # TensorFlow keeps no intermediates of either branch.
    branch = (lambda condition, then, otherwise: then() if bool(condition) else otherwise()) if known else ops.cond
    column = branch(many, by_sorting, by_search)
    flat = ops.reshape(d, (-1,))
    farther = ops.take(flat, anchor * n + ops.maximum(column, 0))
    return ops.take(flat, at), ops.where(column >= 0, farther, ops.take(farthest, anchor)), anchor


def _nearest_farther(candidates, anchor, threshold):
    """Per listed pair (its anchor's row of `candidates`, its positive's bits `threshold`): the column of
    the closest negative farther than the positive, or -1.

    A pair whose positive has bits t keys each candidate of bits b as b + (2^31 - 1 - t), in int32
    arithmetic, which wraps: a negative farther than the positive (b > t) wraps below zero, in the order
    of b, while a nearer or equal one (b <= t), or a candidate that is no negative (b taken as -1), stays
    >= 0. So the argmin is the closest farther negative, the lowest column among equals, and the sign of
    its key says whether there is one.
    """
    keys = ops.take(candidates, anchor, axis=0) + ops.expand_dims(_INT32_MAX - threshold, 1)
    column = ops.cast(ops.argmin(keys, axis=1), "int32")
    farther = ops.take_along_axis(keys, ops.expand_dims(column, 1), axis=1)[:, 0] < 0
    return ops.where(farther, column, -1)


def _semi_hard_of_listed_pairs(bits, negatives, at, known):
    """The semi-hard negatives' columns (-1 where none is farther) of the pairs at row-major positions
    `at` (a list sized by the pairs), `rows` pairs at a time: one wrapped-integer argmin each, no sort."""
    rows, n = ops.shape(bits)
    candidates = ops.where(negatives, bits, -1)
    count = ops.shape(at)[0]
    chunks = (count + rows - 1) // rows
    padded = ops.concatenate([at, ops.zeros((chunks * rows - count,), "int32")], axis=0)
    thresholds = ops.take(ops.reshape(bits, (-1,)), padded)

    def body(i, found):
        pairs, threshold = ops.slice(padded, (i * rows,), (rows,)), ops.slice(thresholds, (i * rows,), (rows,))
        return ops.slice_update(found, (i * rows,), _nearest_farther(candidates, pairs // n, threshold))

    return _loop(known, chunks, body, ops.zeros((chunks * rows,), "int32"))[:count]


def _semi_hard_by_search(bits, positives, negatives):
    """The semi-hard negatives' columns under XLA (fixed shapes) by a masked minimum per pair, `rows`
    pairs at a time (`_nearest_farther`): no sort, and no list sized by the pairs.

    The loop runs once per `rows` pairs (pairs / rows times: ~8 at 128 classes in a batch of 1,024, ~100
    at 10). The pair list is implicit: positives are an anchor's class (same label) less itself, so with
    the candidates sorted by class each anchor's list is a run of that order (itself included, a slot
    that writes only to the anchor's own entry), and a chunk finds its slots' anchors by a binary search
    in the runs' offsets. That spares XLA a prefix sum and a segment sum over all B x N entries, which
    cost more than the search at 128 classes.
    """
    rows, n = ops.shape(bits)
    bits_flat = ops.reshape(bits, (-1,))
    candidates = ops.where(negatives, bits, -1)
    # Positives are a class minus the anchor itself: each candidate's class is its first anchor (rows for
    # an unusable reference entry), and anchor a's list is its class (itself included) in `order`, from
    # start[a], at offset[a] in the whole list.
    row = ops.expand_dims(ops.arange(rows, dtype="int32"), 1)
    group = ops.min(ops.where(ops.logical_or(positives, self_mask(rows, n)), row, rows), axis=0)
    order = ops.cast(ops.argsort(group), "int32")
    start = ops.sum(ops.cast(ops.expand_dims(group, 0) < ops.expand_dims(group[:rows], 1), "int32"), axis=1)
    size = ops.sum(ops.cast(positives, "int32"), axis=1) + 1
    offset = ops.cumsum(size) - size
    total = ops.sum(size)

    def body(i, found):
        """Pairs i * rows, ... (i + 1) * rows - 1 (an anchor with itself where the slot is no pair: it
        writes to the anchor's own entry, never read)."""
        slot = i * rows + ops.arange(rows, dtype="int32")
        anchor = _count_at_most_sorted(offset, slot) - 1
        column = ops.take(order, ops.minimum(ops.take(start, anchor) + slot - ops.take(offset, anchor), n - 1))
        at = anchor * n + ops.where(ops.logical_and(slot < total, column != anchor), column, anchor)
        selected = _nearest_farther(candidates, anchor, ops.take(bits_flat, at))
        return ops.scatter_update(found, ops.expand_dims(at, 1), selected)

    found = ops.fori_loop(0, (total + rows - 1) // rows, body, ops.full((rows * n,), -1, dtype="int32"))
    return ops.reshape(found, (rows, n))


_SELF_KEY = _INT32_MAX  # the anchor itself sorts last, after every negative


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


def _semi_hard_by_sorting(bits, negatives):
    """The semi-hard negatives' columns by one sort per anchor row, no search.

    Each entry's int32 key, 2 * (bits - 2^30) + (0 for a negative, 1 otherwise) (the anchor itself
    last), puts a negative before a positive at the same distance; the sort is stable, so equal keys
    keep their column order. In that order the closest negative farther than a positive is the first
    negative after it: an exclusive reverse running minimum over the negatives' positions, each packed
    with its column so that one scan yields both. The columns go back to the original order with one
    segment sum.
    """
    rows, n = ops.shape(bits)
    keys = (bits - 2**30) * 2 + ops.cast(ops.logical_not(negatives), "int32")
    keys = ops.where(self_mask(rows, n), _SELF_KEY, keys)
    if keras.backend.backend() == "torch":  # torch.topk may order equal keys either way
        order = ops.argsort(keys, axis=1)
        ascending = ops.take_along_axis(keys, order, axis=1)
    else:  # top_k, stable, sorts faster than argsort and a gather
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
    return ops.reshape(ops.segment_sum(ops.reshape(column, (-1,)), flat, num_segments=rows * n), (rows, n))


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
    r"""Triplet loss: an anchor closer to its positives than to its negatives by a margin.

    Formula, per triplet $(a, p, n)$ with $p$ of $a$'s class and $n$ not, $d$ the distance and $m$ = margin
    (no margin with `soft=True`):

    $$
    \mathrm{loss}(a, p, n) =
    \begin{cases}
    \max(m + d_{ap} - d_{an},\ 0) & \text{by default} \\
    \operatorname{softplus}(d_{ap} - d_{an}) & \text{with soft=True}
    \end{cases}
    $$

    Mining picks the triplets:
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
        if mining == "semi-hard":
            positive, negative, anchor = _semi_hard_triplets(d, positives, negatives)
        else:
            positive, negative, anchor = d, _random_negative(d, negatives), None
        pair_losses = _hinge(positive - negative if soft else margin + positive - negative, soft)
        if anchor is None:  # (rows, n) blocks
            sums = ops.sum(ops.where(pairs, pair_losses, 0.0), axis=1)
        else:  # lists of the positive pairs: those of an anchor without a negative are left out
            kept = ops.where(ops.take(has_negative[:, 0], anchor), pair_losses, 0.0)
            sums = ops.segment_sum(kept, anchor, num_segments=ops.shape(d)[0])
        per_anchor = sums * batch / ops.maximum(pair_count, 1.0)
    return nan_unless_finite(ops.where(usable, per_anchor, 0.0), y_pred, pool)


@register("triplet")
class TripletLoss(Loss):
    r"""Computes the triplet loss with online mining: each anchor closer to its class than to others.

    From the labels of the batch, every embedding is an anchor, the others of its class its positives,
    the rest its negatives; `mining` picks which (anchor, positive, negative) triplets count. Formula,
    per triplet $(a, p, n)$, with $d$ the distance between embeddings and $m$ = `margin` (no margin with
    `soft=True`):

    $$
    \mathrm{loss}(a, p, n) =
    \begin{cases}
    \max\bigl(m + d(a, p) - d(a, n),\ 0\bigr) & \text{by default} \\
    \operatorname{softplus}\bigl(d(a, p) - d(a, n)\bigr) & \text{with soft=True}
    \end{cases}
    $$

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
