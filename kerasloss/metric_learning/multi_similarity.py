"""Multi-similarity loss (Wang et al. 2019): every pair of the batch weighted by its own similarity and
by its relation to the anchor's other pairs, with the paper's optional pair mining.

Shapes: y_true integer labels (batch,), y_pred embeddings (batch, dim) -> (batch,). O(B^2) memory (with
a reference set of M embeddings, O(B (B + M))): one similarity matrix and its masks.
"""

import math
from typing import Literal

from keras import ops

from kerasloss.core.hyperparameters import hyperparameters, non_negative, passed_through, positive
from kerasloss.core.inputs import empty_batch_loss
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.metric_learning.pairwise import (
    distance_check,
    labelled_batch,
    log_one_plus_sum_exp,
    nan_unless_finite,
    pairwise_similarities,
)

__all__ = ["MultiSimilarity", "multi_similarity"]


def _optional_non_negative(argument, value):
    return None if value is None else non_negative(argument, value)


@hyperparameters(
    alpha=positive,
    beta=positive,
    base=non_negative,
    epsilon=_optional_non_negative,
    distance=distance_check("cosine", "dot"),
    reference=passed_through,
)
@computed_in_float32
def multi_similarity(
    y_true,
    y_pred,
    *,
    alpha: float = 2.0,
    beta: float = 50.0,
    base: float = 0.5,
    epsilon: "float | None" = None,
    distance: Literal["cosine", "dot"] = "cosine",
    reference: "tuple | None" = None,
):
    r"""Multi-similarity loss (Wang et al. 2019, eq. 8), per anchor $i$:

    $$
    l_i = \frac{1}{\alpha} \log\Bigl(1 + \sum_{j \in P(i)} e^{-\alpha (S_{ij} - \lambda)}\Bigr)
    + \frac{1}{\beta} \log\Bigl(1 + \sum_{k \in N(i)} e^{\beta (S_{ik} - \lambda)}\Bigr)
    $$

    $S$ the cosine similarity (or the inner product, `distance="dot"`), $\lambda$ = base, $P(i)$ the other
    embeddings of $i$'s class, $N(i)$ those of other classes; an empty set adds $\log 1 = 0$. Keras' batch mean is
    the mean over all B anchors: pytorch-metric-learning 2.9's `MultiSimilarityLoss(alpha, beta, base)` on the same
    inputs (its `MeanReducer`), except where pml returns 0 by a shortcut (at most one pair of each kind in the
    batch, as after mining a small one) and this the formula's value. With `epsilon`, the paper's pair mining first
    (its eq. 5 and 6, pml's `MultiSimilarityMiner(epsilon)`): a negative counts only if $S_{ik} + \epsilon$ > the
    anchor's least similar positive, a positive only if $S_{ij} - \epsilon$ < its most similar negative; an anchor
    with no positive or no negative then counts nothing.

    Args:
        alpha: the positives' scale, > 0. Defaults to 2.0.
        beta: the negatives' scale, > 0. Defaults to 50.0.
        base: the similarity margin lambda, >= 0. Defaults to 0.5.
        epsilon: the mining margin, or None (default) for no mining (the paper uses 0.1).
        distance: "cosine" (default) or "dot".
        reference: optional `(embeddings, labels)` or `(embeddings, labels, valid)`: more candidates for
            each anchor's P and N (no gradient flows into them).

    Returns:
        The per-anchor loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Wang, Han, Huang, Dong & Scott, "Multi-Similarity Loss with General Pair Weighting for Deep
        Metric Learning", CVPR 2019. https://arxiv.org/abs/1904.06627
    """
    pool = labelled_batch(y_true, y_pred, reference, "multi_similarity")
    if pool is None:
        return empty_batch_loss(y_pred)
    s = pairwise_similarities(y_pred, pool.embeddings, distance)  # None: the batch against itself
    positives, negatives = pool.positives, pool.negatives
    if epsilon is not None:
        least_similar_positive = ops.min(ops.where(positives, s, math.inf), axis=1, keepdims=True)
        most_similar_negative = ops.max(ops.where(negatives, s, -math.inf), axis=1, keepdims=True)
        negatives = ops.logical_and(negatives, s + epsilon > least_similar_positive)
        positives = ops.logical_and(positives, s - epsilon < most_similar_negative)
    pull = log_one_plus_sum_exp(-alpha * (s - base), positives) / alpha
    push = log_one_plus_sum_exp(beta * (s - base), negatives) / beta
    return nan_unless_finite(pull + push, y_pred, pool)


@register("multi_similarity", "ms")
class MultiSimilarity(Loss):
    r"""Computes the multi-similarity loss: every pair weighted by how hard it is, relative to the others.

    Each embedding of the batch is an anchor; the other embeddings of its class are its positives, the
    rest its negatives. Formula (Wang et al. 2019, eq. 8), per anchor $i$, with $S$ the cosine similarity,
    $P(i)$ the positives of $i$, $N(i)$ its negatives, $\alpha$ = `alpha`, $\beta$ = `beta` and
    $\lambda$ = `base`:

    $$
    l_i = \frac{1}{\alpha} \log\Bigl(1 + \sum_{j \in P(i)} e^{-\alpha (S_{ij} - \lambda)}\Bigr)
    + \frac{1}{\beta} \log\Bigl(1 + \sum_{k \in N(i)} e^{\beta (S_{ik} - \lambda)}\Bigr)
    $$

    Keras' batch mean is the mean over all anchors, which is pytorch-metric-learning 2.9's
    `MultiSimilarityLoss(alpha, beta, base)` on the same inputs (pml returns 0 by a shortcut where at most
    one pair of each kind survives mining; this, the formula's value). `epsilon` turns on the paper's pair
    mining (pytorch-metric-learning's `MultiSimilarityMiner(epsilon)`): a negative counts only if it is
    more similar than the anchor's least similar positive minus epsilon, a positive only if it is less
    similar than the anchor's most similar negative plus epsilon.

    An anchor with no positive has no pull term, one with no negative no push term (log 1 = 0); a batch
    with neither gives 0 with a zero gradient. With mining, an anchor with no positive or no negative
    counts nothing. An empty batch gives an empty loss of shape `(0,)`. Class ids keep their own dtype.
    In float16 and bfloat16 the loss is computed in float32 and returned in the loss's dtype. It is
    O(B^2) in memory: one similarity matrix, masks instead of index lists.

    A reference set extends each anchor's candidates: `loss(labels, embeddings, reference=(ref_embeddings,
    ref_labels))`: the batch and the reference set (pytorch-metric-learning's `ref_emb` replaces the batch
    instead); `kerasloss.CrossBatchMemory` passes its memory
    this way.

    Args:
        alpha: The positives' scale, a float > 0 (2 in the paper). Defaults to `2.0`.
        beta: The negatives' scale, a float > 0 (50 in the paper). Defaults to `50.0`.
        base: The similarity margin lambda, a float >= 0 (0.5 in the paper, 1 in its code for some
            datasets). Defaults to `0.5`.
        epsilon: The pair-mining margin, a float >= 0 (the paper's 0.1), or `None` for no mining.
            Defaults to `None`.
        distance: `"cosine"` (the embeddings are L2-normalized first) or `"dot"` (used as they come).
            Defaults to `"cosine"`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"multi_similarity"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Embeddings, shape `(batch, dim)`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.
        reference: Optional `(embeddings (M, dim), labels (M,))`, or with a third entry `valid (M,)`, a
            boolean mask of the entries to use. No gradient flows into them.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-anchor loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Wang, Han, Huang, Dong & Scott, "Multi-Similarity Loss with General Pair Weighting for Deep
        Metric Learning", CVPR 2019. https://arxiv.org/abs/1904.06627

    Example:

    >>> embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> loss = kerasloss.MultiSimilarity()
    >>> round(float(loss(np.array([0, 0, 1, 1]), embeddings)), 4)
    0.2688
    >>> round(float(loss(np.array([0, 1, 0, 1]), embeddings)), 4)  # classes interleaved: harder
    0.9566
    >>> mined = kerasloss.MultiSimilarity(epsilon=0.1)  # every pair of [0, 0, 1, 1] is easy: none is kept
    >>> round(float(mined(np.array([0, 0, 1, 1]), embeddings)), 4)
    0.0

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
    """

    function = staticmethod(multi_similarity)
    inputs = "embeddings"
    labels_are_ids = True

    def __init__(
        self,
        alpha=2.0,
        beta=50.0,
        base=0.5,
        epsilon=None,
        distance="cosine",
        *,
        reduction="sum_over_batch_size",
        name="multi_similarity",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            alpha=alpha,
            beta=beta,
            base=base,
            epsilon=epsilon,
            distance=distance,
        )
