"""Soft nearest neighbour loss (Frosst, Papernot & Hinton 2019): how entangled the classes are, as the
log-probability that a soft nearest neighbour sampler picks a neighbour of the anchor's own class.

Shapes: y_true integer labels (batch,), y_pred embeddings (batch, dim) -> (batch,). O(B^2) memory (with a
reference set of M embeddings, O(B (B + M))).
"""

from typing import Literal

from keras import ops

from kerasloss.core.hyperparameters import hyperparameters, passed_through, positive
from kerasloss.core.inputs import empty_batch_loss
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.metric_learning.pairwise import (
    distance_check,
    labelled_batch,
    masked_logsumexp,
    nan_unless_finite,
    pairwise_distances,
)

__all__ = ["SoftNearestNeighbor", "soft_nearest_neighbor"]


@hyperparameters(
    temperature=positive,
    distance=distance_check("squared_euclidean", "euclidean", "cosine"),
    reference=passed_through,
)
@computed_in_float32
def soft_nearest_neighbor(
    y_true,
    y_pred,
    *,
    temperature: float = 1.0,
    distance: Literal["squared_euclidean", "euclidean", "cosine"] = "squared_euclidean",
    reference: "tuple | None" = None,
):
    r"""Soft nearest neighbour loss (Frosst et al. 2019, eq. 1), per anchor $i$:

    $$
    l_i = -\log \frac{\sum_{j \ne i,\ y_j = y_i} e^{-D_{ij} / T}}{\sum_{k \ne i} e^{-D_{ik} / T}}
    $$

    $T$ = temperature, $D$ the squared Euclidean distance (the paper's), computed as a difference of two
    log-sum-exps, so that far-apart embeddings do not underflow to 0 / 0. The paper's mean over the batch runs over
    all B anchors, an anchor with no other example of its class (a singleton) counting 0: TensorFlow Similarity's
    `SoftNearestNeighborLoss` does the same (and adds 1e-9 inside its log, which this does not). A batch of one
    class gives 0 (every neighbour is of the class).

    Args:
        temperature: T > 0. Defaults to 1.0.
        distance: "squared_euclidean" (default, the paper's), "euclidean" or "cosine".
        reference: optional `(embeddings, labels)` or `(embeddings, labels, valid)`: more neighbours for
            each anchor (no gradient flows into them).

    Returns:
        The per-anchor loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Frosst, Papernot & Hinton, "Analyzing and Improving Representations with the Soft Nearest
        Neighbor Loss", ICML 2019. https://arxiv.org/abs/1902.01889
    """
    pool = labelled_batch(y_true, y_pred, reference, "soft_nearest_neighbor")
    if pool is None:
        return empty_batch_loss(y_pred)
    logits = -pairwise_distances(y_pred, pool.embeddings, distance) / temperature
    neighbours = ops.logical_or(pool.positives, pool.negatives)  # every valid candidate but the anchor
    has_positive = ops.any(pool.positives, axis=1)
    per_anchor = masked_logsumexp(logits, neighbours) - masked_logsumexp(logits, pool.positives)
    return nan_unless_finite(ops.where(has_positive, per_anchor, 0.0), y_pred, pool)


@register("soft_nearest_neighbor", "snn", "soft_nearest_neighbour")
class SoftNearestNeighbor(Loss):
    r"""Computes the soft nearest neighbour loss: how entangled the classes of the batch are.

    For each anchor, a soft nearest neighbour sampler picks another embedding with probability
    proportional to $e^{-D / T}$; the loss is the negative log-probability that it picks one of the
    anchor's own class. Formula (Frosst et al. 2019, eq. 1), per anchor $i$, with $D$ the squared Euclidean
    distance and $T$ = `temperature`:

    $$
    l_i = -\log \frac{\sum_{j \ne i,\ y_j = y_i} e^{-D_{ij} / T}}{\sum_{k \ne i} e^{-D_{ik} / T}}
    $$

    Keras' batch mean runs over all B anchors, and an anchor with no other example of its class (a
    singleton) counts 0, as in the paper's 1 / b and in TensorFlow Similarity's `SoftNearestNeighborLoss`
    (which adds 1e-9 inside the log; this computes the ratio in log space instead, exact where
    TF-Similarity's underflows to log(1e-9)). A batch of one class gives 0. An empty batch gives an empty
    loss of shape `(0,)`. Class ids keep their own dtype. In float16 and bfloat16 the loss is computed
    in float32. O(B^2) memory.

    Minimized, it separates the classes (a metric-learning loss); the paper also maximizes it on hidden
    layers as a regularizer (pass a negative `loss_weights` in `compile`).

    Args:
        temperature: T, a float > 0. Defaults to `1.0`.
        distance: `"squared_euclidean"` (the paper's), `"euclidean"` or `"cosine"` (1 - cosine
            similarity). Defaults to `"squared_euclidean"`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"soft_nearest_neighbor"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Embeddings, shape `(batch, dim)`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.
        reference: Optional `(embeddings (M, dim), labels (M,))`, or with a third entry `valid (M,)`:
            more neighbours for every anchor. No gradient flows into them.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-anchor loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Frosst, Papernot & Hinton, "Analyzing and Improving Representations with the Soft Nearest
        Neighbor Loss", ICML 2019. https://arxiv.org/abs/1902.01889

    Example:

    >>> embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> loss = kerasloss.SoftNearestNeighbor(temperature=0.5)
    >>> round(float(loss(np.array([0, 0, 1, 1]), embeddings)), 4)
    0.2212
    >>> round(float(loss(np.array([0, 1, 2, 3]), embeddings)), 4)  # all singletons
    0.0

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="adam", loss=kerasloss.SoftNearestNeighbor(temperature=1.0))
    """

    function = staticmethod(soft_nearest_neighbor)
    inputs = "embeddings"
    labels_are_ids = True

    def __init__(
        self,
        temperature=1.0,
        distance="squared_euclidean",
        *,
        reduction="sum_over_batch_size",
        name="soft_nearest_neighbor",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype, temperature=temperature, distance=distance)
