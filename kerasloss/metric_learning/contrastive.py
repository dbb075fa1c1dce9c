"""Contrastive losses: NT-Xent (SimCLR), InfoNCE (explicit or in-batch negatives, optionally symmetric
as in CLIP), supervised contrastive (SupCon) and the margin-based pair loss of Hadsell et al.

Layouts that work inside `model.fit`, where the batch axis is the example axis:
- NT-Xent and the pair loss take `y_pred` of shape `(batch, 2, dim)`: two views (or the two members of
  a pair) stacked on axis 1, e.g. `keras.ops.stack([view_a, view_b], axis=1)`.
- InfoNCE takes `(batch, 2 + K, dim)`: anchor, positive, then K explicit negatives.
- SupCon takes integer labels `(batch,)` and `(batch, dim)` or `(batch, views, dim)`.
NT-Xent and InfoNCE ignore `y_true` (pass any array with a batch axis, e.g. zeros).

Similarities are cosine by default; with `distance="dot"` the embeddings are used as they come,
which is how `kerasloss.LearnableTemperature` (normalizes, scales by a learned 1/T) plugs in (`distance=`
is the geometry vocabulary of every pairwise loss, `kerasloss.metric_learning.pairwise.DISTANCES`; these losses' former
argument `similarity=` still works, so models saved with it load). All of it is O(B^2): one
similarity matrix, masks instead of index lists.
"""

from typing import Literal

from keras import ops

from kerasloss.core.hyperparameters import boolean, hyperparameters, non_negative, passed_through, positive
from kerasloss.core.inputs import empty_batch_loss, example_labels, is_empty_batch, reference_set
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.metric_learning.distributed import global_batch, sum_across_replicas
from kerasloss.metric_learning.pairwise import (
    distance_check,
    inner_products,
    l2_normalize,
    masked_logsumexp,
    safe_sqrt,
    same_label_mask,
)

__all__ = [
    "ContrastiveLoss",
    "InfoNCE",
    "NTXent",
    "SupervisedContrastive",
    "contrastive_loss",
    "info_nce",
    "nt_xent",
    "supervised_contrastive",
]

SIMILARITIES = ("cosine", "dot")  # the `distance=` values meaningful for a softmax over similarities
RENAMED = {"similarity": "distance"}


def _embeddings(x, distance):
    return l2_normalize(x) if distance == "cosine" else x


def _check_views(y_pred, loss_name, expected, minimum=2, exact=True):
    """y_pred must be (batch, views, dim) with `minimum` (or exactly `minimum`) views."""
    views = y_pred.shape[1] if len(y_pred.shape) == 3 else None
    if views is None or views < minimum or (exact and views != minimum):
        raise ValueError(
            f"{loss_name} expects y_pred of shape {expected}. Received: y_pred.shape={tuple(y_pred.shape)}. "
            "Stack the views on axis 1, e.g. keras.ops.stack([view_a, view_b], axis=1)."
        )


@hyperparameters(
    renamed=RENAMED, temperature=positive, distance=distance_check(*SIMILARITIES), global_negatives=boolean
)
@computed_in_float32
def nt_xent(
    y_true,
    y_pred,
    *,
    temperature: float = 0.07,
    distance: Literal["cosine", "dot"] = "cosine",
    global_negatives: bool = False,
):
    r"""NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (Chen et al. 2020).

    Formula, with the $2N$ views $z$ (two per example), $s_{ij} = \cos(z_i, z_j) / T$ and $\mathrm{pos}(i)$
    the other view of $i$'s example; the loss is the mean of $l$ over the $2N$ anchors (per example: the
    mean of its two anchors):

    $$
    l_i = -\log \frac{e^{s_{i, \mathrm{pos}(i)}}}{\sum_{k \ne i} e^{s_{ik}}},
    \qquad
    \mathrm{loss} = \frac{1}{2N} \sum_{i=1}^{2N} l_i
    $$

    Each anchor has 1 positive and 2N - 2 negatives. This is the paper's mean, not the official code's
    sum over both directions. `y_true` is ignored. Shapes: y_pred (batch, 2, dim) -> (batch,).

    Args:
        temperature: T > 0. Defaults to 0.07 (SimCLR's ImageNet runs used 0.1).
        distance: "cosine" (default) or "dot" (embeddings used as given); formerly `similarity`.
        global_negatives: under `tf.distribute`, draw the negatives from every replica's share of the
            batch (`kerasloss.metric_learning.distributed`), so that N is the global batch and a training step equals
            one on a single device. Defaults to False (each replica's own share).

    Returns:
        The per-example loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations", ICML 2020.
        https://arxiv.org/abs/2002.05709
    """
    _check_views(y_pred, "nt_xent", "(batch, 2, dim): two views of each example")
    z = _embeddings(y_pred, distance)
    batch = ops.shape(z)[0]
    first, second = z[:, 0], z[:, 1]
    pool = global_batch(z, across_replicas=global_negatives)
    (pooled,) = pool.values
    if is_empty_batch(pooled):
        return empty_batch_loss(y_pred)
    total = ops.shape(pooled)[0]
    anchors = ops.concatenate([first, second], axis=0)
    candidates = ops.concatenate([pooled[:, 0], pooled[:, 1]], axis=0)
    logits = inner_products(anchors, candidates) / temperature  # (2 batch, 2 total)
    # Every other view is in the denominator: mask only each anchor's own column (-inf, not 1e9).
    own = ops.arange(batch) + pool.offset
    own = ops.concatenate([own, own + total], axis=0)
    not_self = ops.not_equal(ops.expand_dims(ops.arange(2 * total), 0), ops.expand_dims(own, 1))
    denominator = masked_logsumexp(logits, not_self)
    positive = ops.sum(first * second, axis=-1) / temperature
    per_anchor = denominator - ops.concatenate([positive, positive], axis=0)
    per_example = 0.5 * (per_anchor[:batch] + per_anchor[batch:])
    if pool.replicas > 1:  # Keras averages the replicas' means: weigh each share by its size
        per_example = per_example * ops.cast(pool.replicas * batch, z.dtype) / ops.cast(total, z.dtype)
    return per_example


@hyperparameters(renamed=RENAMED, temperature=positive, symmetric=boolean, distance=distance_check(*SIMILARITIES))
@computed_in_float32
def info_nce(
    y_true,
    y_pred,
    *,
    temperature: float = 0.07,
    symmetric: bool = False,
    distance: Literal["cosine", "dot"] = "cosine",
):
    r"""InfoNCE (van den Oord et al. 2018): pick the positive out of a set of candidates.

    Formula, with anchor $a$, positive $p$ and negatives $n_k$, $s(u, v) = \cos(u, v) / T$:

    $$
    \mathrm{loss} = -\log \frac{e^{s(a, p)}}{e^{s(a, p)} + \sum_{k} e^{s(a, n_k)}}
    $$

    y_pred (batch, 2 + K, dim) holds [anchor, positive, K negatives]. With K = 0 the negatives of each
    anchor are the other examples' positives (in-batch), and `symmetric=True` averages both directions,
    anchor -> positives and positive -> anchors (CLIP, Radford et al. 2021). `y_true` is ignored.

    Args:
        temperature: T > 0. Defaults to 0.07.
        symmetric: average the two directions (K = 0 only). Defaults to False.
        distance: "cosine" (default) or "dot"; formerly `similarity`.

    Returns:
        The per-example loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        van den Oord et al., "Representation Learning with Contrastive Predictive Coding", 2018.
        https://arxiv.org/abs/1807.03748
        Radford et al., "Learning Transferable Visual Models From Natural Language Supervision", ICML 2021.
        https://arxiv.org/abs/2103.00020
    """
    _check_views(y_pred, "info_nce", "(batch, 2 + K, dim): anchor, positive, K negatives", exact=False)
    if symmetric and y_pred.shape[1] > 2:
        raise ValueError("info_nce: symmetric=True needs in-batch negatives (K = 0), not explicit ones.")
    if is_empty_batch(y_pred):
        return empty_batch_loss(y_pred)
    z = _embeddings(y_pred, distance)
    anchor = z[:, 0]
    if y_pred.shape[1] > 2:
        logits = ops.sum(ops.expand_dims(anchor, 1) * z[:, 1:], axis=-1) / temperature  # (batch, 1 + K)
        return ops.logsumexp(logits, axis=-1) - logits[:, 0]
    logits = inner_products(anchor, z[:, 1]) / temperature  # (batch, batch), positives on the diagonal
    matching = ops.sum(anchor * z[:, 1], axis=-1) / temperature
    loss = ops.logsumexp(logits, axis=1) - matching
    if symmetric:
        loss = 0.5 * (loss + ops.logsumexp(logits, axis=0) - matching)
    return loss


@hyperparameters(
    renamed=RENAMED,
    temperature=positive,
    distance=distance_check(*SIMILARITIES),
    global_negatives=boolean,
    reference=passed_through,
)
@computed_in_float32
def supervised_contrastive(
    y_true,
    y_pred,
    *,
    temperature: float = 0.07,
    distance: Literal["cosine", "dot"] = "cosine",
    global_negatives: bool = False,
    reference: "tuple | None" = None,
):
    r"""Supervised contrastive loss, L_out of Khosla et al. 2020 (eq. 2).

    Formula, over the $N$ = batch * views embeddings, with $A(i)$ all but $i$, $P(i)$ those of $i$'s class,
    $s = \cos / T$ and $I$ the anchors that have a positive:

    $$
    l_i = -\frac{1}{\lvert P(i) \rvert} \sum_{p \in P(i)} \log \frac{e^{s_{ip}}}{\sum_{a \in A(i)} e^{s_{ia}}},
    \qquad
    \mathrm{loss} = \frac{1}{\lvert I \rvert} \sum_{i \in I} l_i
    $$

    Anchors without a positive are left out (the paper's |P(i)| = 0 is undefined); a batch with no
    positive pair at all gives 0 with a zero gradient. A batch of one class (positives, no negative)
    keeps the paper's value, not 0 (pytorch-metric-learning's SupConLoss returns 0 there): each anchor's
    term is $\operatorname{logsumexp}_a s_{ia} - \operatorname{mean}_p s_{ip} \ge \log(n - 1)$, $n$ the number of
    embeddings, with equality when
    all its similarities are equal, so the loss stays at least log(n - 1) and its gradient only evens out
    the similarities within the class; it does not pull the class together. The per-example values are
    scaled so that Keras' batch mean is exactly that mean. Shapes: y_true (batch,) integer labels;
    y_pred (batch, dim) or (batch, views, dim) -> (batch,). The paper's formula: no extra T / T_base
    factor.

    Args:
        temperature: T > 0. Defaults to 0.07 (the authors' reference code's).
        distance: "cosine" (default) or "dot"; formerly `similarity`.
        global_negatives: under `tf.distribute`, take positives and negatives from every replica's share
            of the batch (`kerasloss.metric_learning.distributed`); the mean runs over the global batch's anchors.
            Defaults to False.
        reference: optional `(embeddings (M, dim), labels)` or `(embeddings, labels, valid)`: more
            candidates, in every anchor's denominator and, where the label matches, among its positives
            (no gradient flows into them; `kerasloss.CrossBatchMemory`).

    Returns:
        The per-example loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020. https://arxiv.org/abs/2004.11362
    """
    if len(y_pred.shape) not in (2, 3):
        raise ValueError(
            "supervised_contrastive expects y_pred of shape (batch, dim) or (batch, views, dim). "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    labels = example_labels(y_true, y_pred, "supervised_contrastive")  # one label per example
    if len(y_pred.shape) == 2:
        y_pred = ops.expand_dims(y_pred, 1)
    batch, views, dim = ops.shape(y_pred)  # static where known; tensors in a graph traced for any shape
    z = _embeddings(y_pred, distance)
    pool = global_batch(z, labels, across_replicas=global_negatives)
    pooled, pool_labels = pool.values
    if is_empty_batch(pooled):
        return empty_batch_loss(y_pred)

    def rows(per_example):  # example-major rows: example e's views are rows e * views + v
        return ops.reshape(ops.repeat(ops.expand_dims(per_example, 1), views, axis=1), (-1,))

    anchors, candidates = ops.reshape(z, (-1, dim)), ops.reshape(pooled, (-1, dim))
    candidate_labels = rows(pool_labels)
    own = ops.arange(batch * views) + pool.offset * views
    not_self = ops.not_equal(ops.expand_dims(ops.arange(ops.shape(candidates)[0]), 0), ops.expand_dims(own, 1))
    if reference is not None:  # appended after the batch: valid entries count, as candidates only
        ref_embeddings, ref_labels, valid = reference_set(reference, y_pred, "supervised_contrastive")
        candidates = ops.concatenate([candidates, ops.stop_gradient(_embeddings(ref_embeddings, distance))], axis=0)
        candidate_labels = ops.concatenate([candidate_labels, ref_labels], axis=0)
        valid_reference = ops.broadcast_to(ops.expand_dims(valid, 0), (ops.shape(anchors)[0], ops.shape(valid)[0]))
        not_self = ops.concatenate([not_self, valid_reference], axis=1)
    logits = inner_products(anchors, candidates) / temperature
    positives = ops.logical_and(same_label_mask(rows(labels), candidate_labels), not_self)
    log_prob = logits - ops.expand_dims(masked_logsumexp(logits, not_self), 1)
    count = ops.sum(ops.cast(positives, z.dtype), axis=1)
    has_positive = count > 0
    per_anchor = -ops.sum(ops.where(positives, log_prob, 0.0), axis=1) / ops.maximum(count, 1.0)
    per_anchor = ops.where(has_positive, per_anchor, 0.0)
    anchors_used = ops.sum(ops.cast(has_positive, z.dtype))
    if global_negatives:
        anchors_used = sum_across_replicas(anchors_used)
    per_example = ops.sum(ops.reshape(per_anchor, (batch, views)), axis=1)
    return per_example * ops.cast(pool.replicas * batch, z.dtype) / ops.maximum(anchors_used, 1.0)


PAIR_DISTANCES = ("euclidean", "squared_euclidean", "cosine")  # of pairwise.DISTANCES, those >= 0


def _pair_distances(first, second, distance):
    """(d, d^2) per pair, zero-safe at d = 0."""
    if distance == "cosine":
        d = 1.0 - ops.sum(l2_normalize(first) * l2_normalize(second), axis=-1)
        return d, ops.square(d)
    squared = ops.sum(ops.square(first - second), axis=-1)
    if distance == "squared_euclidean":
        return squared, ops.square(squared)
    return safe_sqrt(squared), squared


@hyperparameters(margin=non_negative, distance=distance_check(*PAIR_DISTANCES))
@computed_in_float32
def contrastive_loss(
    y_true,
    y_pred,
    *,
    margin: float = 1.0,
    distance: Literal["euclidean", "squared_euclidean", "cosine"] = "euclidean",
):
    r"""The margin contrastive loss on pairs (Hadsell, Chopra & LeCun 2006).

    Formula, with $d$ the Euclidean distance between the pair's embeddings (or `distance`'s), $y = 1$
    for similar pairs and $m$ = margin:

    $$
    \mathrm{loss} = \tfrac{1}{2}\, y\, d^2 + \tfrac{1}{2} (1 - y) \max(m - d,\ 0)^2
    $$

    Similar pairs are pulled together; dissimilar ones pushed to at least `margin` apart. (The paper's
    1/2 factors are kept: TensorFlow Addons' `contrastive_loss` is twice this.) Shapes: y_true (batch,)
    in {0, 1}; y_pred (batch, 2, dim) -> (batch,).

    Args:
        margin: >= 0. Defaults to 1.0.
        distance: "euclidean" (default, the paper's), "squared_euclidean" or "cosine" (1 - cosine).

    Returns:
        The per-pair loss, of shape `(batch,)`.

    References:
        Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant Mapping", CVPR 2006.
        https://doi.org/10.1109/CVPR.2006.100
    """
    _check_views(y_pred, "contrastive_loss", "(batch, 2, dim): the two members of each pair")
    d, squared = _pair_distances(y_pred[:, 0], y_pred[:, 1], distance)
    if len(y_true.shape) == 2 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    if len(y_true.shape) != 1 or (
        None not in (y_true.shape[0], y_pred.shape[0]) and y_true.shape[0] != y_pred.shape[0]
    ):
        raise ValueError(
            "contrastive_loss: y_true must hold one 0/1 label per pair, of shape (batch,) for y_pred of shape "
            f"(batch, 2, dim). Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    similar = ops.cast(y_true, y_pred.dtype)
    gap = ops.relu(margin - d)
    # where, not 0 * d^2: a dissimilar pair far apart must not turn an overflowed d^2 into NaN.
    pull = ops.where(similar > 0, similar * squared, 0.0)
    return 0.5 * (pull + (1.0 - similar) * ops.square(gap))


@register("ntxent", "simclr")
class NTXent(Loss):
    r"""Computes NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR.

    Each example comes as two views (two augmentations of one input); each view must pick its partner
    out of all the other views of the batch. Formula, with the $2N$ views $z$ (two per example),
    $s_{ij} = \cos(z_i, z_j) / T$ ($T$ = `temperature`) and $\mathrm{pos}(i)$ the other view of $i$'s
    example; per example, the loss is the mean of $l$ over its two views $i$ and $\mathrm{pos}(i)$:

    $$
    l_i = -\log \frac{e^{s_{i, \mathrm{pos}(i)}}}{\sum_{k \ne i} e^{s_{ik}}},
    \qquad
    \mathrm{loss} = \tfrac{1}{2} \bigl( l_i + l_{\mathrm{pos}(i)} \bigr)
    $$

    Each anchor has 1 positive and 2N - 2 negatives; Keras' batch mean is the paper's mean over the 2N
    anchors (the official code sums both directions instead). `y_true` is ignored.

    Every example brings its own positive pair, so every batch has one; a batch of a single example has
    no negative and gives 0 (`log 1`). An empty batch gives an empty loss of shape `(0,)`.
    In float16 and bfloat16 the loss is computed in float32 and returned in the loss's dtype. It is
    O(B^2) in memory: one similarity matrix, self-similarities masked with -inf.

    Args:
        temperature: T, a float > 0. Defaults to `0.07` (SimCLR's ImageNet runs used 0.1).
        distance: `"cosine"` (the embeddings are L2-normalized first) or `"dot"` (used as they come,
            e.g. the output of `kerasloss.LearnableTemperature`, with `temperature=1.0`). Defaults to
            `"cosine"`.
        global_negatives: Under `tf.distribute`, compare each replica's anchors with every replica's
            embeddings, so that N is the global batch and a training step equals one on a single device
            with the whole batch (as SimCLR does on TPU). Elsewhere it changes nothing. Defaults to
            `False`.
        similarity: The former name of `distance`, still accepted (a model saved with it loads).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"nt_xent"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Ignored; any array with a batch axis, e.g. `np.zeros(batch)`.
        y_pred: The embeddings of the two views, shape `(batch, 2, dim)`: the views stacked on axis 1,
            e.g. `keras.ops.stack([encoder(view_a), encoder(view_b)], axis=1)`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Chen, Kornblith, Norouzi & Hinton, "A Simple Framework for Contrastive Learning of Visual
        Representations", ICML 2020. https://arxiv.org/abs/2002.05709

    Example:

    >>> views = np.array([[[1.0, 0.0], [0.8, 0.6]], [[0.0, 1.0], [-0.6, 0.8]]])  # (batch, 2, dim)
    >>> loss = kerasloss.NTXent(temperature=0.5)
    >>> round(float(loss(np.zeros(2), views)), 4)
    0.4302

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(2, 8)), keras.layers.Dense(4)])  # (batch, 2, 4)
    >>> model.compile(optimizer="adam", loss=kerasloss.NTXent(temperature=0.1))
    """

    function = staticmethod(nt_xent)
    inputs = "views"

    def __init__(
        self,
        temperature=0.07,
        distance="cosine",
        global_negatives=False,
        *,
        similarity=None,
        reduction="sum_over_batch_size",
        name="nt_xent",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            temperature=temperature,
            distance=distance,
            similarity=similarity,
            global_negatives=global_negatives,
        )


@register("infonce")
class InfoNCE(Loss):
    r"""Computes InfoNCE: the cross-entropy of picking each anchor's positive out of a set of candidates.

    Formula, per example with anchor $a$, positive $p$, negatives $n_k$ and $s(u, v) = \cos(u, v) / T$
    ($T$ = `temperature`):

    $$
    \mathrm{loss} = -\log \frac{e^{s(a, p)}}{e^{s(a, p)} + \sum_{k} e^{s(a, n_k)}}
    $$

    With K explicit negatives, each example brings its own. With none (K = 0, `y_pred` of shape
    `(batch, 2, dim)`), the negatives of each anchor are the other examples' positives (in-batch), and
    `symmetric=True` averages both directions, anchors to positives and positives to anchors, as CLIP
    does with images and texts. `y_true` is ignored.

    Every example brings its own positive; with in-batch negatives a batch of a single example has no
    negative and gives 0 (`log 1`). An empty batch gives an empty loss of shape `(0,)`.
    In float16 and bfloat16 the loss is computed in float32 and returned in the loss's dtype. It is
    O(B^2) in memory: one similarity matrix, self-similarities masked with -inf.

    Args:
        temperature: T, a float > 0. Defaults to `0.07`.
        symmetric: Average both directions (CLIP's loss); only with in-batch negatives (K = 0): a call
            with explicit negatives raises a `ValueError`. Defaults to `False`.
        distance: `"cosine"` (the embeddings are L2-normalized first) or `"dot"` (used as they come,
            e.g. the output of `kerasloss.LearnableTemperature`, with `temperature=1.0`). Defaults to
            `"cosine"`.
        similarity: The former name of `distance`, still accepted (a model saved with it loads).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"info_nce"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Ignored; any array with a batch axis, e.g. `np.zeros(batch)`.
        y_pred: Embeddings of shape `(batch, 2 + K, dim)`: on axis 1 the anchor, its positive, then K
            negatives (K >= 0).
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        van den Oord, Li & Vinyals, "Representation Learning with Contrastive Predictive Coding", 2018.
        https://arxiv.org/abs/1807.03748
        Radford et al., "Learning Transferable Visual Models From Natural Language Supervision" (CLIP),
        ICML 2021. https://arxiv.org/abs/2103.00020

    Example:

    >>> # anchor, positive, one negative per example: (batch, 3, dim)
    >>> y_pred = np.array([[[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], [[0.0, 1.0], [-0.6, 0.8], [1.0, 0.0]]])
    >>> round(float(kerasloss.InfoNCE(temperature=0.5)(np.zeros(2), y_pred)), 4)
    0.1839
    >>> # in-batch negatives: (batch, 2, dim)
    >>> loss = kerasloss.InfoNCE(temperature=0.5, symmetric=True)
    >>> round(float(loss(np.zeros(2), y_pred[:, :2])), 4)
    0.286

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(3, 8)), keras.layers.Dense(4)])  # (batch, 3, 4)
    >>> model.compile(optimizer="adam", loss=kerasloss.InfoNCE(temperature=0.1))
    """

    function = staticmethod(info_nce)
    inputs = "views"

    def __init__(
        self,
        temperature=0.07,
        symmetric=False,
        distance="cosine",
        *,
        similarity=None,
        reduction="sum_over_batch_size",
        name="info_nce",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            temperature=temperature,
            distance=distance,
            similarity=similarity,
            symmetric=symmetric,
        )


@register("supcon")
class SupervisedContrastive(Loss):
    r"""Computes the supervised contrastive loss (SupCon): embeddings of a class pulled together.

    Every embedding of the batch is an anchor; the other embeddings of its class are its positives, all
    other embeddings the denominator. Formula ($L_{\mathrm{out}}$, eq. 2 of the paper), over the
    $N$ = batch * views embeddings, with $A(i)$ all embeddings but $i$, $P(i)$ those of $i$'s class,
    $s = \cos / T$ ($T$ = `temperature`) and $I$ the anchors that have a positive:

    $$
    l_i = -\frac{1}{\lvert P(i) \rvert} \sum_{p \in P(i)} \log \frac{e^{s_{ip}}}{\sum_{a \in A(i)} e^{s_{ia}}},
    \qquad
    \mathrm{loss} = \frac{1}{\lvert I \rvert} \sum_{i \in I} l_i
    $$

    The per-example values are scaled so that Keras' batch mean (the default reduction, without
    `sample_weight`) is exactly that mean. The paper's formula: no extra T / T_base factor.

    Anchors without a positive are left out (|P(i)| = 0 is undefined in the paper); a batch with no
    positive pair at all gives 0 with a zero gradient. A batch of one class (positives, no negative)
    keeps the paper's value, at least log(n - 1) for n embeddings (pytorch-metric-learning's
    `SupConLoss` returns 0 there); its gradient only evens out the similarities within the class. An
    empty batch gives an empty loss of shape `(0,)`. Class ids keep their own dtype.
    In float16 and bfloat16 the loss is computed in float32 and returned in the loss's dtype. It is
    O(B^2) in memory: one similarity matrix, self-similarities masked with -inf.

    Args:
        temperature: T, a float > 0. Defaults to `0.07` (the authors' reference code's).
        distance: `"cosine"` (the embeddings are L2-normalized first) or `"dot"` (used as they come,
            e.g. the output of `kerasloss.LearnableTemperature`, with `temperature=1.0`). Defaults to
            `"cosine"`.
        global_negatives: Under `tf.distribute`, take positives and negatives from every replica's share
            of the batch; the mean runs over the global batch's anchors. Elsewhere it changes nothing.
            Defaults to `False`.
        similarity: The former name of `distance`, still accepted (a model saved with it loads).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"supervised_contrastive"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Embeddings, shape `(batch, dim)`, or `(batch, views, dim)` for several views (e.g.
            augmentations) of each example, all sharing the example's label.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.
        reference: Optional `(embeddings (M, dim), labels (M,))`, or with a third entry `valid (M,)`, a
            boolean mask of the entries to use: more candidates for every anchor, positives where the
            label matches (`kerasloss.CrossBatchMemory` passes its memory this way). No gradient flows
            into them.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Khosla, Teterwak, Wang, Sarna, Tian, Isola, Maschinot, Liu & Krishnan, "Supervised Contrastive
        Learning", NeurIPS 2020. https://arxiv.org/abs/2004.11362

    Example:

    >>> embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> loss = kerasloss.SupervisedContrastive(temperature=0.5)
    >>> round(float(loss(np.array([0, 0, 1, 1]), embeddings)), 4)
    0.4302
    >>> round(float(loss(np.array([0, 1, 2, 3]), embeddings)), 4)  # no positive pair
    0.0
    >>> round(float(loss(np.array([0, 0, 0, 0]), embeddings)), 4)  # one class: >= log(3) = 1.0986
    1.4969

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="adam", loss=kerasloss.SupervisedContrastive(temperature=0.1))
    """

    function = staticmethod(supervised_contrastive)
    inputs = "views"
    labels_are_ids = True

    def __init__(
        self,
        temperature=0.07,
        distance="cosine",
        global_negatives=False,
        *,
        similarity=None,
        reduction="sum_over_batch_size",
        name="supervised_contrastive",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            temperature=temperature,
            distance=distance,
            similarity=similarity,
            global_negatives=global_negatives,
        )


@register("pair_contrastive")
class ContrastiveLoss(Loss):
    r"""Computes the margin contrastive loss on pairs of embeddings (Hadsell, Chopra & LeCun).

    Similar pairs are pulled together; dissimilar pairs are pushed apart until they are at least
    `margin` apart. Formula, per pair, with $d$ the Euclidean distance between its two embeddings,
    $y = 1$ for a similar pair, 0 for a dissimilar one, and $m$ = `margin`:

    $$
    \mathrm{loss} = \tfrac{1}{2}\, y\, d^2 + \tfrac{1}{2} (1 - y) \max(m - d,\ 0)^2
    $$

    The paper's 1/2 factors are kept (TensorFlow Addons' `contrastive_loss` is twice this). Each pair
    stands alone, so there is no mining and every batch is valid; an empty batch gives an empty loss of
    shape `(0,)`. In float16 and bfloat16 the loss is computed in float32 and returned in the loss's
    dtype.

    Args:
        margin: The distance beyond which a dissimilar pair costs nothing, a float >= 0. Defaults to
            `1.0`.
        distance: `"euclidean"` (the paper's), `"squared_euclidean"` or `"cosine"` (1 - cosine
            similarity): d in the formula. Defaults to `"euclidean"`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"contrastive_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: 1 for a similar pair, 0 for a dissimilar one, shape `(batch,)` (or `(batch, 1)`).
        y_pred: The pairs' embeddings, shape `(batch, 2, dim)`: the two members stacked on axis 1.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-pair loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant Mapping", CVPR 2006.
        https://doi.org/10.1109/CVPR.2006.100

    Example:

    >>> pairs = np.array([[[0.0, 0.0], [0.3, 0.4]], [[0.0, 0.0], [0.6, 0.0]]])  # d = 0.5 and 0.6
    >>> y_true = np.array([1.0, 0.0])  # similar, dissimilar
    >>> round(float(kerasloss.ContrastiveLoss(margin=1.0)(y_true, pairs)), 4)
    0.1025

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(2, 8)), keras.layers.Dense(4)])  # (batch, 2, 4)
    >>> model.compile(optimizer="adam", loss=kerasloss.ContrastiveLoss(margin=1.0))
    """

    function = staticmethod(contrastive_loss)
    inputs = "pairs"

    def __init__(
        self, margin=1.0, distance="euclidean", *, reduction="sum_over_batch_size", name="contrastive_loss", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype, margin=margin, distance=distance)
