"""Lifted structured loss (Oh Song et al. 2016), as TensorFlow Addons' `lifted_struct_loss` computed it,
finite where that returned NaN.

Shapes: y_true integer labels (batch,), y_pred embeddings (batch, dim) -> (batch,). O(B^2) memory: the
negatives of each end of a positive pair enter through one log-sum-exp per row (TFA tiled them into a
B^2 x B tensor).
"""

import math
from typing import Literal

from keras import ops

from kerasloss.core.hyperparameters import hyperparameters, non_negative
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

__all__ = ["LiftedStructure", "lifted_structure"]


@hyperparameters(margin=non_negative, distance=distance_check("euclidean", "squared_euclidean", "cosine"))
@computed_in_float32
def lifted_structure(
    y_true,
    y_pred,
    *,
    margin: float = 1.0,
    distance: Literal["euclidean", "squared_euclidean", "cosine"] = "euclidean",
):
    r"""Lifted structured loss (Oh Song et al. 2016, eq. 4), per positive pair $(i, j)$ of the batch:

    $$
    \begin{split}
    J_{ij} &= \log\Bigl( \sum_{k \in N(i)} e^{m - D_{ik}} + \sum_{l \in N(j)} e^{m - D_{jl}} \Bigr) + D_{ij} \\
    \mathrm{loss} &= \frac{1}{2 \lvert P \rvert} \sum_{(i, j) \in P} \max(J_{ij}, 0)^2
    \end{split}
    $$

    $m$ = margin, $D$ the Euclidean (not squared) distance by default, $P$ the unordered positive pairs, $N(i)$ the
    other classes' embeddings: TensorFlow Addons' `lifted_struct_loss`, to float32 rounding. Where TFA returned NaN
    this returns 0 with a zero gradient: a batch without a positive pair (TFA: 0 / 0) and a batch of one class (no
    negative: TFA: log 0). Values are per anchor (anchor i carries the terms of its pairs (i, j), each pair counted
    from both ends), scaled so that Keras' batch mean is the loss above.

    Args:
        margin: >= 0. Defaults to 1.0 (TFA's).
        distance: "euclidean" (default, TFA's), "squared_euclidean" or "cosine" (1 - cosine similarity).

    Returns:
        The per-anchor loss, of shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Oh Song, Xiang, Jegelka & Savarese, "Deep Metric Learning via Lifted Structured Feature
        Embedding", CVPR 2016. https://arxiv.org/abs/1511.06452
    """
    pool = labelled_batch(y_true, y_pred, None, "lifted_structure")
    if pool is None:
        return empty_batch_loss(y_pred)
    d = pairwise_distances(y_pred, distance=distance)
    positives, negatives = pool.positives, pool.negatives
    # An anchor's negatives are its whole row's other classes, and a positive pair's two ends share a
    # class, so both ends have negatives or neither does (a one-class batch).
    has_negative = ops.any(negatives, axis=1)
    row = ops.where(has_negative, masked_logsumexp(margin - d, negatives), -math.inf)  # (B,)
    both = ops.maximum(ops.expand_dims(row, 1), ops.expand_dims(row, 0))
    shift = ops.stop_gradient(ops.where(ops.isfinite(both), both, 0.0))
    total = ops.exp(ops.expand_dims(row, 1) - shift) + ops.exp(ops.expand_dims(row, 0) - shift)
    pairs = ops.logical_and(positives, ops.expand_dims(has_negative, 1))
    j = ops.log(ops.where(pairs, total, 1.0)) + shift + d
    squared_hinge = ops.where(pairs, ops.square(ops.relu(j)), 0.0)
    ordered_pairs = ops.sum(ops.cast(pairs, d.dtype))
    batch = ops.cast(ops.shape(d)[0], d.dtype)
    # 1/(2|P|) over unordered pairs is 1/(2 * ordered) over ordered ones; times B for Keras' mean.
    per_anchor = ops.sum(squared_hinge, axis=1) * batch / ops.maximum(2.0 * ordered_pairs, 1.0)
    return nan_unless_finite(per_anchor, y_pred)


@register("lifted_structure", "lifted", "lifted_struct")
class LiftedStructure(Loss):
    r"""Computes the lifted structured loss: each positive pair against all negatives of both its ends.

    Every positive pair (i, j) of the batch (same label) is pushed to be closer, by a margin, than a
    smooth maximum over the negatives of both i and j. Formula (Oh Song et al. 2016, eq. 4), with $D$ the
    Euclidean distance, $P$ the positive pairs, $N(i)$ the embeddings of other classes than $i$'s and
    $m$ = `margin`:

    $$
    \begin{split}
    J_{ij} &= \log\Bigl( \sum_{k \in N(i)} e^{m - D_{ik}} + \sum_{l \in N(j)} e^{m - D_{jl}} \Bigr) + D_{ij} \\
    \mathrm{loss} &= \frac{1}{2 \lvert P \rvert} \sum_{(i, j) \in P} \max(J_{ij}, 0)^2
    \end{split}
    $$

    This is TensorFlow Addons' `LiftedStructLoss` (Euclidean, not squared, distances; squared hinge;
    1 / (2 |P|)), to float32 rounding, for users of TFA, which no longer imports. Where TFA returned NaN
    this returns 0 with a zero gradient: a batch with no positive pair (0 / 0 in TFA) and a batch of one
    class (no negative; log 0 in TFA). Values are per anchor, scaled so that Keras' batch mean (the
    default reduction, without `sample_weight`) is the loss above. An empty batch gives an empty loss
    of shape `(0,)`. In float16 and bfloat16 the loss is computed in float32. O(B^2) memory: one log-sum-exp
    per row (TFA tiled a B^2 x B tensor).

    Args:
        margin: A float >= 0. Defaults to `1.0` (TFA's).
        distance: `"euclidean"` (TFA's), `"squared_euclidean"` or `"cosine"` (1 - cosine similarity).
            Defaults to `"euclidean"`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"lifted_structure"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Embeddings, shape `(batch, dim)`.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-anchor loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Oh Song, Xiang, Jegelka & Savarese, "Deep Metric Learning via Lifted Structured Feature
        Embedding", CVPR 2016. https://arxiv.org/abs/1511.06452

    Example:

    >>> embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    >>> loss = kerasloss.LiftedStructure(margin=1.0)
    >>> round(float(loss(np.array([0, 0, 1, 1]), embeddings)), 4)
    1.4328
    >>> round(float(loss(np.array([0, 0, 0, 0]), embeddings)), 4)  # one class: TFA gave NaN
    0.0

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model.compile(optimizer="adam", loss=kerasloss.LiftedStructure(margin=1.0))
    """

    function = staticmethod(lifted_structure)
    inputs = "embeddings"
    labels_are_ids = True

    def __init__(
        self,
        margin=1.0,
        distance="euclidean",
        *,
        reduction="sum_over_batch_size",
        name="lifted_structure",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype, margin=margin, distance=distance)
