"""Shared machinery of the pairwise (metric-learning) losses: the one geometry vocabulary (`distance=`),
normalization, similarity and distance matrices with zero-safe gradients, label masks, and the
candidates an anchor is compared with (the batch, and a reference set or memory). Everything here is
O(B^2) (O(B (B + M)) with a reference set of M) in memory and built from fixed-shape masks (no index
lists), so it compiles under XLA."""

import math
from typing import NamedTuple

import keras
from keras import ops

from kerasloss.core.hyperparameters import one_of
from kerasloss.core.inputs import example_labels, is_empty_batch, reference_set

# The geometry every pairwise loss and kerasloss.metric_learning.retrieval name alike, with `distance=`:
#   "cosine"            1 - cos(a, b) (similarity cos(a, b)); the embeddings are L2-normalized first
#   "euclidean"         ||a - b||     (similarity -||a - b||)
#   "squared_euclidean" ||a - b||^2   (similarity -||a - b||^2)
#   "dot"               -a.b          (similarity a.b); the embeddings are used as they come
# Each loss accepts those that are meaningful for it, and says which.
DISTANCES = ("cosine", "euclidean", "squared_euclidean", "dot")


def distance_check(*allowed):
    """The `@hyperparameters` check of a loss's `distance=`: one of `allowed` (a subset of DISTANCES, all
    by default); the error names the loss's choices."""
    allowed = allowed or DISTANCES
    assert set(allowed) <= set(DISTANCES), allowed

    def check(argument, value):
        return one_of(*allowed)(argument, value)

    return check


def pairwise_distances(a, b=None, distance="euclidean"):
    """(n, m) distances of the rows of a (n, d) to those of b (m, d) (b defaults to a), smaller = nearer,
    in the geometry `distance` names (see DISTANCES). Zero-safe: identical rows give 0 with a finite
    gradient, and a against itself has an exact zero diagonal (except "dot", where it is -|a|^2)."""
    if distance == "cosine":
        return 1.0 - cosine_similarity_matrix(a, b)
    if distance == "dot":
        return -inner_products(a, a if b is None else b)
    return distance_matrix(a, b, squared=distance == "squared_euclidean")


def pairwise_similarities(a, b=None, distance="cosine"):
    """(n, m) similarities, larger = nearer: cos, -||a - b||, -||a - b||^2 or a.b (see DISTANCES)."""
    if distance == "cosine":
        return cosine_similarity_matrix(a, b)
    if distance == "dot":
        return inner_products(a, a if b is None else b)
    return -distance_matrix(a, b, squared=distance == "squared_euclidean")


def l2_normalize(x, axis=-1):
    """x / ||x|| along `axis`; a zero vector stays zero, and every gradient is finite.

    Each vector is first divided by its largest magnitude: the squares then lie in [0, 1] (no overflow
    in float16, no underflow for tiny vectors) and their sum is at least 1 unless the vector is zero.
    Normalization ignores that scale, so holding it constant leaves the gradient exact. (Flooring the
    squared norm instead gives rsqrt an infinite slope at the floor: NaN on JAX, 0 * inf.)
    """
    # initial=0 changes nothing (magnitudes are >= 0) but lets an empty x through TensorFlow's eager check.
    largest = ops.stop_gradient(ops.max(ops.abs(x), axis=axis, keepdims=True, initial=0.0))
    scaled = x / ops.where(largest > 0, largest, 1.0)
    squared = ops.sum(ops.square(scaled), axis=axis, keepdims=True)
    return scaled * ops.rsqrt(ops.where(squared > 0, squared, 1.0))


# Whether inner_products splits float32 inputs for TF32 hardware: None decides by the backend and device
# (a TensorFlow or PyTorch GPU with TF32 enabled); True or False force it (the tests emulate TF32 on a CPU).
SPLIT_PRODUCTS = None


def inner_products(a, b):
    """(n, m) inner products a_i . b_j of the rows of a (n, d) and b (m, d), float32-accurate on any GPU.

    On recent NVIDIA GPUs a float32 matmul may round its inputs to TF32 (10 bits of mantissa): JAX does
    so by default, TensorFlow unless `tf.config.experimental.enable_tensor_float_32_execution(False)`,
    PyTorch when asked. Divided by a temperature of 0.07, or inside |a|^2 + |b|^2 - 2 a.b, that error
    of about 1e-3 moves a loss in its third digit and can change which negative is semi-hard. JAX takes
    a per-operation precision (HIGHEST). TensorFlow and PyTorch have none, so where TF32 may be on, the
    product is computed in three TF32-exact passes (3xTF32, as CUTLASS does): each input is split into a
    head that TF32 holds exactly and a small tail, and a.b = a_hi.b_hi + a_hi.b_lo + a_lo.b_hi, the
    dropped a_lo.b_lo being 2^-22 of the product: float32 accuracy for three B x B products, which are
    small beside the network's own matmuls. float64 and half-precision inputs (the pairwise losses
    compute those in float32, see `computed_in_float32`) are handled alike.
    """
    return accurate_matmul(a, ops.transpose(b))


def accurate_matmul(a, b):
    """a (n, d) @ b (d, m), float32-accurate on any GPU: `inner_products` with b already in columns
    (CosineProxies' (dim, classes) proxies: no transpose of the matrix, nor of its gradient)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.numpy.matmul(a, b, precision=jax.lax.Precision.HIGHEST)
    if not _splits(a):
        return _matmul(a, b)
    a_hi, a_lo = _tf32_head_and_tail(a)
    b_hi, b_lo = _tf32_head_and_tail(b)
    return _matmul(a_hi, b_hi) + (_matmul(a_hi, b_lo) + _matmul(a_lo, b_hi))


def _matmul(a, b):
    """The one matmul inner_products calls (a seam for the tests' TF32 emulation)."""
    return ops.matmul(a, b)


def _splits(x):
    if keras.backend.standardize_dtype(x.dtype) != "float32":
        return False
    return _tf32_possible() if SPLIT_PRODUCTS is None else SPLIT_PRODUCTS


def _tf32_possible():
    """Whether this backend may round float32 matmul inputs to TF32 on the device it computes on."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # a device and config query; Keras has no public form of either

        enabled = tf.config.experimental.tensor_float_32_execution_enabled()
        return enabled and bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return False
        matmul = torch.backends.cuda.matmul
        try:
            if hasattr(matmul, "fp32_precision"):  # torch >= 2.9; its legacy flags raise once this is set
                return matmul.fp32_precision == "tf32" or (
                    matmul.fp32_precision == "none" and torch.backends.fp32_precision == "tf32"
                )
            return matmul.allow_tf32 or torch.get_float32_matmul_precision() != "highest"
        except RuntimeError:  # settings torch cannot report: split, which is exact either way
            return True
    return False


def _tf32_head_and_tail(x):
    """x = head + tail, head holding x's leading 11 significant bits (exact in TF32: 10 stored + 1 implicit).

    Veltkamp's split with the factor 2^13 + 1: c = 8193 x, head = c - (c - x) rounds x to 24 - 13 = 11
    bits, and the tail x - head is exact in float32 with at most 12 bits, of which TF32 keeps 11: its
    rounding error is 2^-23 of x, float32's own. (IEEE arithmetic does not let a compiler fold c - (c - x)
    to x; XLA does not.) |x| up to 4e34 before 8193 x overflows: embeddings are far inside.
    """
    c = x * 8193.0
    head = c - (c - x)
    return head, x - head


def cosine_similarity_matrix(a, b=None):
    """(n, m) cosine similarities of the rows of a (n, d) and b (m, d) (b defaults to a)."""
    a = l2_normalize(a)
    b = a if b is None else l2_normalize(b)
    return inner_products(a, b)


def squared_distance_matrix(a, b=None):
    """(n, m) squared Euclidean distances ||a_i - b_j||^2 = |a_i|^2 + |b_j|^2 - 2 a_i.b_j, floored at 0
    (rounding can make the expansion slightly negative); the diagonal of a matrix of a against itself
    is exactly 0."""
    same = b is None
    b = a if same else b
    a_sq = ops.sum(ops.square(a), axis=-1, keepdims=True)
    b_sq = ops.transpose(ops.sum(ops.square(b), axis=-1, keepdims=True))
    squared = ops.maximum(a_sq + b_sq - 2.0 * inner_products(a, b), 0.0)
    if same:
        squared = ops.where(eye_mask(ops.shape(a)[0]), 0.0, squared)
    return squared


def safe_sqrt(squared):
    """sqrt with a zero gradient at 0 instead of an infinite one (identical embeddings, the diagonal); a
    NaN stays NaN (`squared > 0` would read it as 0 and hide a diverged embedding)."""
    positive = ops.logical_not(squared <= 0)
    return ops.where(positive, ops.sqrt(ops.where(positive, squared, 1.0)), 0.0)


def distance_matrix(a, b=None, squared=False):
    """(n, m) Euclidean distances (or their squares), zero-safe at d = 0."""
    d2 = squared_distance_matrix(a, b)
    return d2 if squared else safe_sqrt(d2)


def eye_mask(n):
    """(n, n) boolean identity."""
    index = ops.arange(n)
    return ops.equal(ops.expand_dims(index, 1), ops.expand_dims(index, 0))


def same_label_mask(labels, others=None):
    """(n, m) boolean: labels[i] == others[j] (others defaults to labels: (n, n))."""
    labels = ops.reshape(labels, (-1,))
    others = labels if others is None else ops.reshape(others, (-1,))
    return ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(others, 0))


def positive_and_negative_masks(labels):
    """(positives, negatives): same label and not the same example; different label."""
    same = same_label_mask(labels)
    return ops.logical_and(same, ops.logical_not(eye_mask(ops.shape(same)[0]))), ops.logical_not(same)


def masked_logsumexp(logits, mask, axis=-1):
    """logsumexp over the entries where mask is True, and 0 for a row with none (callers leave such
    rows out; a finite value keeps their zero gradient from turning into 0 * inf = NaN).

    Masked entries become -inf rather than a large negative constant (1e9 overflows float16): exp
    sends them to exactly 0 with a zero gradient. The row maximum is taken over unmasked entries only,
    so exp never sees inf - inf, and a non-empty row's sum is at least 1.
    """
    masked = ops.where(mask, logits, -float("inf"))
    row_max = ops.max(masked, axis=axis, keepdims=True)
    row_max = ops.stop_gradient(ops.where(ops.isfinite(row_max), row_max, 0.0))
    total = ops.sum(ops.exp(masked - row_max), axis=axis)
    # total == 0, not total <= 0 or > 0: an empty row's 0 becomes log 1, a NaN (a NaN logit) stays NaN.
    return ops.log(ops.where(total == 0, 1.0, total)) + ops.squeeze(row_max, axis=axis)


class Candidates(NamedTuple):
    """What each anchor of a batch is compared with: the batch itself, then a reference set.

    embeddings: (N, dim), the B anchors first, then the M reference embeddings (N = B + M); None without
                a reference set: the batch against itself, passed on as b=None to the matrices, which then
                normalize once and keep an exact zero diagonal.
    positives:  (B, N) boolean, same label, not the anchor itself, a valid reference entry.
    negatives:  (B, N) boolean, another label, a valid reference entry.
    """

    embeddings: object
    positives: object
    negatives: object


def candidates(embeddings, labels, reference=None, loss_name="loss"):
    """The Candidates of a batch of `embeddings` (B, dim) with integer `labels` (B,), and of a reference
    set: `(reference_embeddings (M, dim), reference_labels (M,))` or `(..., valid (M,))`, a boolean mask
    of the entries to use (an unfilled slot of a memory is not valid). Reference embeddings carry no
    gradient (a memory of past batches, a gallery). Unlike pytorch-metric-learning's `ref_emb`, which
    replaces the batch as the candidates, the reference set is added to the batch."""
    if reference is None:
        positives, negatives = positive_and_negative_masks(labels)
        return Candidates(None, positives, negatives)
    ref_embeddings, ref_labels, valid = reference_set(reference, embeddings, loss_name)
    batch = ops.shape(embeddings)[0]
    pool = ops.concatenate([embeddings, ops.stop_gradient(ref_embeddings)], axis=0)
    # Not cast to the batch's dtype: concatenation widens to the wider one, where a cast to a narrower
    # one would wrap a reference id 2**32 onto the batch's class 0.
    pool_labels = ops.concatenate([labels, ref_labels], axis=0)
    pool_valid = ops.concatenate([ops.ones((batch,), dtype="bool"), valid], axis=0)
    same = same_label_mask(labels, pool_labels)
    not_self = ops.logical_not(self_mask(batch, ops.shape(pool)[0]))
    usable = ops.logical_and(not_self, ops.expand_dims(pool_valid, 0))
    positives = ops.logical_and(same, usable)
    negatives = ops.logical_and(ops.logical_not(same), ops.expand_dims(pool_valid, 0))
    return Candidates(pool, positives, negatives)


def labelled_batch(y_true, y_pred, reference, loss_name):
    """The opening every pairwise loss on class labels shares (triplet, multi-similarity, soft nearest
    neighbour, lifted structure): y_pred must be (batch, dim), else a ValueError naming the loss; y_true must
    hold one integer label per example (`inputs.example_labels`); the result is the Candidates of the batch
    and of the reference set (`candidates`). None for an empty batch: the loss returns
    `inputs.empty_batch_loss(y_pred)`, a (0,) loss whose mean Keras reduces to 0."""
    if len(y_pred.shape) != 2:
        raise ValueError(
            f"{loss_name} expects y_pred of shape (batch, dim). Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    labels = example_labels(y_true, y_pred, loss_name)
    if is_empty_batch(y_pred):
        return None
    return candidates(y_pred, labels, reference, loss_name)


def nan_unless_finite(per_anchor, embeddings, pool=None):
    """per_anchor, or NaN for every anchor if an embedding it is compared with is not finite.

    Mining hides a NaN or inf embedding: a comparison with NaN is False (its pairs are dropped, or its sort
    key puts it last), and an anchor's hardest pair may not involve it. So the embeddings themselves are
    checked: the batch's, and the reference entries some anchor uses (`pool`, the Candidates; an unused
    slot, an unfilled memory entry, is not). Each anchor is compared with all of them. A finite batch keeps
    its value and gradient bitwise; otherwise the gradient still flows through per_anchor.
    """
    finite = ops.all(ops.isfinite(embeddings))
    if pool is not None and pool.embeddings is not None:
        used = ops.logical_or(ops.any(pool.positives, axis=0), ops.any(pool.negatives, axis=0))
        rows = ops.logical_or(ops.all(ops.isfinite(pool.embeddings), axis=1), ops.logical_not(used))
        finite = ops.logical_and(finite, ops.all(rows))
    return ops.where(finite, per_anchor, per_anchor + math.nan)


def self_mask(rows, columns):
    """(rows, columns) boolean: column j is row i's own embedding (j == i: the batch comes first)."""
    return ops.equal(ops.expand_dims(ops.arange(rows), 1), ops.expand_dims(ops.arange(columns), 0))


def log_one_plus_sum_exp(logits, mask, axis=-1):
    """log(1 + sum of exp(logits) over the entries where mask is True): 0 for a row with none, with a
    zero gradient; stable for large logits (the maximum, and at least 0, is factored out)."""
    masked = ops.where(mask, logits, -float("inf"))
    # initial=0: the shift is at least 0 anyway, and an empty axis (a batch of 0) passes TF's eager check.
    shift = ops.stop_gradient(ops.max(masked, axis=axis, keepdims=True, initial=0.0))
    total = ops.exp(-shift) + ops.sum(ops.exp(masked - shift), axis=axis, keepdims=True)
    return ops.squeeze(ops.log(total) + shift, axis=axis)
