"""Self-supervised losses without negatives: Barlow Twins, VICReg and the stop-gradient negative cosine
of SimSiam. Two views of each example, stacked on axis 1 as for `NTXent`; `y_true` is ignored.

Barlow Twins and VICReg are losses of the batch (statistics over it: standardization, variance,
covariance), not sums over examples: each example carries the batch terms so that Keras' batch mean is
the loss. Memory is O(B dim + dim^2): one dim x dim matrix, never B x B.

What that means for weights: `sample_weight` (and `class_weight`, masks) scales the batch's value; it
does not take an example out of the statistics (a zero weight does not remove a padding row). Under
`tf.distribute` each replica computes the statistics of its own share of the batch (the official codes
all-reduce them; `NTXent`'s `global_negatives` has no counterpart here yet). With a float16 loss dtype
the float32 result is cast back, so a value past 65504 (a collapsed batch at dim 4096) reads inf.
"""

from keras import ops

from kerasloss.core.hyperparameters import hyperparameters, non_negative, positive
from kerasloss.core.inputs import empty_batch_loss, is_empty_batch
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.metric_learning.pairwise import l2_normalize

__all__ = ["BarlowTwins", "SimSiam", "VICReg", "barlow_twins", "simsiam", "vicreg"]

BATCH_NORM_EPSILON = 1e-5  # the official Barlow Twins code's BatchNorm1d(affine=False) default


def _two_views(y_pred, loss_name):
    if len(y_pred.shape) != 3 or y_pred.shape[1] != 2:
        raise ValueError(
            f"{loss_name} expects y_pred of shape (batch, 2, dim): two views of each example. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}. Stack them: keras.ops.stack([view_a, view_b], axis=1)."
        )
    return y_pred[:, 0], y_pred[:, 1]


def _batch_loss_per_example(total, batch_like):
    """A loss of the whole batch, carried by each example, so that Keras' mean is the loss."""
    return total + ops.zeros_like(batch_like[:, 0, 0])


def _off_diagonal_square_sum(matrix):
    dim = ops.shape(matrix)[0]
    off = ops.logical_not(ops.eye(dim, dtype="bool"))
    return ops.sum(ops.where(off, ops.square(matrix), 0.0))


@hyperparameters(redundancy_weight=non_negative)
@computed_in_float32
def barlow_twins(y_true, y_pred, *, redundancy_weight: float = 5e-3):
    r"""Barlow Twins (Zbontar et al. 2021): the cross-correlation of the two views' embeddings, each
    dimension standardized over the batch, pushed to the identity. With $z^a$, $z^b$ the standardized
    views, a batch of $B$ and $\lambda$ = redundancy_weight:

    $$
    C_{ij} = \frac{1}{B} \sum_{b=1}^{B} z^a_{bi}\, z^b_{bj},
    \qquad
    \mathrm{loss} = \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2
    $$

    Standardized as the official code's BatchNorm1d(affine=False) does: population variance (over B, not
    B - 1) plus 1e-5 (the paper's Algorithm 1 divides by the unbiased std, scaling C by (B - 1) / B; where
    the views agree, C_ii near 1, that moves the loss by far more than 1/B: 25% at a batch of 64). A
    batch of one, or a constant dimension, standardizes to 0: that dimension adds 1, the
    loss stays finite. `y_true` is ignored.

    Args:
        redundancy_weight: lambda >= 0. Defaults to 5e-3 (the paper's).

    Returns:
        The batch's loss carried by each example, shape `(batch,)`; `(0,)` for an empty batch.

    References:
        Zbontar, Jing, Misra, LeCun & Deny, "Barlow Twins: Self-Supervised Learning via Redundancy
        Reduction", ICML 2021. https://arxiv.org/abs/2103.03230
    """
    first, second = _two_views(y_pred, "barlow_twins")
    if is_empty_batch(y_pred):
        return empty_batch_loss(y_pred)

    def standardized(z):
        centred = z - ops.mean(z, axis=0, keepdims=True)
        return centred * ops.rsqrt(ops.mean(ops.square(centred), axis=0, keepdims=True) + BATCH_NORM_EPSILON)

    batch = ops.cast(ops.shape(y_pred)[0], y_pred.dtype)
    c = ops.matmul(ops.transpose(standardized(first)), standardized(second)) / batch
    on_diagonal = ops.sum(ops.square(1.0 - ops.diagonal(c)))
    return _batch_loss_per_example(on_diagonal + redundancy_weight * _off_diagonal_square_sum(c), y_pred)


@hyperparameters(invariance=non_negative, variance=non_negative, covariance=non_negative, epsilon=positive)
@computed_in_float32
def vicreg(
    y_true,
    y_pred,
    *,
    invariance: float = 25.0,
    variance: float = 25.0,
    covariance: float = 1.0,
    epsilon: float = 1e-4,
):
    r"""VICReg (Bardes et al. 2022) as the official code computes it, with $z^a$, $z^b$ the two views,
    $\lambda$ = invariance, $\mu$ = variance, $\nu$ = covariance and $d$ = dim:

    $$
    \begin{split}
    \mathrm{loss} &= \lambda \operatorname{mean}\bigl((z^a - z^b)^2\bigr) \\
    &\quad + \mu\, \Bigl( \operatorname{mean}_j \operatorname{relu}\bigl(1 - \operatorname{std}(z^a_j)\bigr)
    + \operatorname{mean}_j \operatorname{relu}\bigl(1 - \operatorname{std}(z^b_j)\bigr) \Bigr) / 2 \\
    &\quad + \nu\, \Bigl( \sum_{i \ne j} \operatorname{cov}(z^a)_{ij}^2
    + \sum_{i \ne j} \operatorname{cov}(z^b)_{ij}^2 \Bigr) / d
    \end{split}
    $$

    $\operatorname{std} = \sqrt{\text{unbiased variance} + \epsilon}$ per dimension ($\epsilon$ = epsilon), cov the
    unbiased covariance (divided by B - 1): pytorch-metric-learning 2.9's `VICRegLoss(invariance_lambda,
    variance_mu, covariance_v, eps)` called as `loss(view_a, ref_emb=view_b)`. A batch of one has no unbiased
    variance: B - 1 is taken as 1 there (variance 0, std sqrt(epsilon)), so the loss stays finite. Collapse (every
    embedding equal) gives the variance term its maximum, about `variance`. The invariance term is per example; the
    others are the batch's, carried by each example. `y_true` is ignored.

    Args:
        invariance: lambda, the weight of the mean squared difference of the views. Defaults to 25.0.
        variance: mu, the weight of the standard-deviation hinge. Defaults to 25.0.
        covariance: nu, the weight of the off-diagonal covariance. Defaults to 1.0.
        epsilon: added to the variance inside the square root, > 0. Defaults to 1e-4.

    Returns:
        Per example its invariance term plus the batch's variance and covariance terms, shape `(batch,)`;
        `(0,)` for an empty batch.

    References:
        Bardes, Ponce & LeCun, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised
        Learning", ICLR 2022. https://arxiv.org/abs/2105.04906
    """
    first, second = _two_views(y_pred, "vicreg")
    if is_empty_batch(y_pred):
        return empty_batch_loss(y_pred)
    dim = ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
    degrees = ops.maximum(ops.cast(ops.shape(y_pred)[0], y_pred.dtype) - 1.0, 1.0)

    def spread_terms(z):
        centred = z - ops.mean(z, axis=0, keepdims=True)
        std = ops.sqrt(ops.sum(ops.square(centred), axis=0) / degrees + epsilon)
        cov = ops.matmul(ops.transpose(centred), centred) / degrees
        return ops.mean(ops.relu(1.0 - std)), _off_diagonal_square_sum(cov) / dim

    hinge_a, cov_a = spread_terms(first)
    hinge_b, cov_b = spread_terms(second)
    per_example = invariance * ops.mean(ops.square(first - second), axis=-1)
    return per_example + variance * (hinge_a + hinge_b) / 2.0 + covariance * (cov_a + cov_b)


@hyperparameters()
@computed_in_float32
def simsiam(y_true, y_pred):
    r"""The symmetric negative cosine of SimSiam (Chen & He 2021), with stop-gradient on the projections:

    $$
    \mathrm{loss} = -\tfrac{1}{2} \cos\bigl(p_1, \operatorname{stopgrad}(z_2)\bigr)
    - \tfrac{1}{2} \cos\bigl(p_2, \operatorname{stopgrad}(z_1)\bigr)
    $$

    y_pred (batch, 2, 2, dim): for each view v, y_pred[:, v, 0] its prediction p_v (the predictor MLP's
    output) and y_pred[:, v, 1] its projection z_v (the encoder's). BYOL's loss (Grill et al. 2020) is
    the same with z from the momentum target network: 2 - 2 cos per direction, i.e. 4 + 4 * this when
    summed over both. Values lie in [-1, 1]; collapse to one vector gives -1, which is why the stop-
    gradient (not this value) is what prevents it. Zero vectors have cosine 0. `y_true` is ignored.

    Returns:
        The per-example loss, shape `(batch,)`.

    References:
        Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021.
        https://arxiv.org/abs/2011.10566
    """
    if len(y_pred.shape) != 4 or y_pred.shape[1] != 2 or y_pred.shape[2] != 2:
        raise ValueError(
            "simsiam expects y_pred of shape (batch, 2, 2, dim): for each of the two views its prediction "
            f"and its projection, y_pred[:, v] = [p_v, z_v]. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    unit = l2_normalize(y_pred)
    p1, z1, p2, z2 = unit[:, 0, 0], unit[:, 0, 1], unit[:, 1, 0], unit[:, 1, 1]
    z1, z2 = ops.stop_gradient(z1), ops.stop_gradient(z2)
    return -0.5 * (ops.sum(p1 * z2, axis=-1) + ops.sum(p2 * z1, axis=-1))


@register("barlow_twins", "barlow")
class BarlowTwins(Loss):
    r"""Computes the Barlow Twins loss: the two views' cross-correlation pushed to the identity.

    Each embedding dimension is standardized over the batch; the cross-correlation matrix C of the two
    views (dim x dim) should have ones on its diagonal (the views agree) and zeros elsewhere (the
    dimensions are decorrelated: no redundancy, no collapse). Formula (Zbontar et al. 2021), with $z^a$,
    $z^b$ the standardized views, a batch of $B$ and $\lambda$ = `redundancy_weight`:

    $$
    \begin{split}
    C_{ij} &= \frac{1}{B} \sum_{b=1}^{B} z^a_{bi}\, z^b_{bj} \\
    \mathrm{loss} &= \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2
    \end{split}
    $$

    Standardized as the official code does (BatchNorm without affine: population variance + 1e-5; the
    paper's Algorithm 1 uses the unbiased std, scaling C by (B - 1) / B: where the views agree, C_ii near
    1, the two losses differ by far more than 1/B, 25% at a batch of 64). A batch of one or a constant
    dimension standardizes to 0 and adds 1 per such dimension: finite. The loss is the batch's: every
    example carries it, so Keras' mean is the loss. `sample_weight` scales that value; it takes no example
    out of the statistics (see the module's note, also on `tf.distribute`). Memory O(B dim + dim^2). An
    empty batch gives an empty loss. In float16 and bfloat16 the loss is computed in float32. `y_true` is
    ignored.

    Args:
        redundancy_weight: lambda, a float >= 0. Defaults to `5e-3` (the paper's).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"barlow_twins"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Ignored; any array with a batch axis, e.g. `np.zeros(batch)`.
        y_pred: The two views' embeddings, shape `(batch, 2, dim)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default; with `reduction=None` the batch's loss
        carried by each example, shape `(batch,)`.

    References:
        Zbontar, Jing, Misra, LeCun & Deny, "Barlow Twins: Self-Supervised Learning via Redundancy
        Reduction", ICML 2021. https://arxiv.org/abs/2103.03230

    Example:

    >>> views = np.array([[[1.0, 0.0], [0.9, 0.1]], [[-1.0, 0.5], [-0.8, 0.4]], [[0.0, -0.5], [0.1, -0.6]]])
    >>> round(float(kerasloss.BarlowTwins()(np.zeros(3), views)), 4)
    0.0025

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(2, 8)), keras.layers.Dense(4)])  # (batch, 2, 4)
    >>> model.compile(optimizer="adam", loss=kerasloss.BarlowTwins())
    """

    function = staticmethod(barlow_twins)
    inputs = "views"

    def __init__(self, redundancy_weight=5e-3, *, reduction="sum_over_batch_size", name="barlow_twins", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, redundancy_weight=redundancy_weight)


@register("vicreg")
class VICReg(Loss):
    r"""Computes VICReg: invariance between the views, variance and decorrelation within each.

    Three terms on the two views' embeddings za and zb (Bardes et al. 2022, as the official code computes
    them), with var and cov the unbiased per-dimension variance and covariance over the batch,
    $\lambda$ = `invariance`, $\mu$ = `variance`, $\nu$ = `covariance`, $\epsilon$ = `epsilon` and $d$ = dim:

    $$
    \begin{split}
    \mathrm{loss} &= \lambda \operatorname{mean}\bigl((z^a - z^b)^2\bigr) \\
    &\quad + \mu\, \Bigl( \operatorname{mean}_j
    \operatorname{relu}\bigl(1 - \sqrt{\operatorname{var}(z^a_j) + \epsilon}\bigr)
    + \operatorname{mean}_j \operatorname{relu}\bigl(1 - \sqrt{\operatorname{var}(z^b_j) + \epsilon}\bigr) \Bigr) / 2 \\
    &\quad + \nu\, \Bigl( \sum_{i \ne j} \operatorname{cov}(z^a)_{ij}^2
    + \sum_{i \ne j} \operatorname{cov}(z^b)_{ij}^2 \Bigr) / d
    \end{split}
    $$

    With the same views it equals pytorch-metric-learning 2.9's `VICRegLoss(invariance_lambda=invariance,
    variance_mu=variance, covariance_v=covariance, eps=epsilon)` called as `loss(view_a, ref_emb=view_b)`.
    A batch of one takes B - 1 as 1 (variance 0): finite. Collapse (all embeddings equal) gives the
    variance term its maximum. The invariance term is per example; the variance and covariance terms are
    the batch's, carried by each example, so Keras' mean is the loss; `sample_weight` weighs the
    invariance terms but takes no example out of the variance and covariance (see the module's note).
    Memory O(B dim + dim^2). An empty batch gives an empty loss. In float16 and bfloat16 the loss is
    computed in float32. `y_true` is ignored.

    Args:
        invariance: lambda, a float >= 0. Defaults to `25.0`.
        variance: mu, a float >= 0. Defaults to `25.0`.
        covariance: nu, a float >= 0. Defaults to `1.0`.
        epsilon: Added to the variance inside the square root, a float > 0. Defaults to `1e-4`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"vicreg"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Ignored; any array with a batch axis, e.g. `np.zeros(batch)`.
        y_pred: The two views' embeddings, shape `(batch, 2, dim)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default; with `reduction=None` each example's
        invariance term plus the batch's other terms, shape `(batch,)`.

    References:
        Bardes, Ponce & LeCun, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised
        Learning", ICLR 2022. https://arxiv.org/abs/2105.04906

    Example:

    >>> views = np.array([[[1.0, 0.0], [0.9, 0.1]], [[-1.0, 0.5], [-0.8, 0.4]], [[0.0, -0.5], [0.1, -0.6]]])
    >>> round(float(kerasloss.VICReg()(np.zeros(3), views)), 4)
    7.5582

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(2, 8)), keras.layers.Dense(4)])  # (batch, 2, 4)
    >>> model.compile(optimizer="adam", loss=kerasloss.VICReg())
    """

    function = staticmethod(vicreg)
    inputs = "views"

    def __init__(
        self,
        invariance=25.0,
        variance=25.0,
        covariance=1.0,
        epsilon=1e-4,
        *,
        reduction="sum_over_batch_size",
        name="vicreg",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            invariance=invariance,
            variance=variance,
            covariance=covariance,
            epsilon=epsilon,
        )


@register("simsiam", "byol", "negative_cosine")
class SimSiam(Loss):
    r"""Computes the symmetric negative cosine of SimSiam, with stop-gradient on the projections.

    For two views of each example, the predictor's output for one view should point where the other
    view's projection points; no gradient flows through the projections (the stop-gradient is what keeps
    the representation from collapsing, Chen & He 2021). Formula, with $p_v$ and $z_v$ view $v$'s prediction
    and projection (layout below):

    $$
    \mathrm{loss} = -\tfrac{1}{2} \cos\bigl(p_1, \operatorname{stopgrad}(z_2)\bigr)
    - \tfrac{1}{2} \cos\bigl(p_2, \operatorname{stopgrad}(z_1)\bigr)
    $$

    Layout, `y_pred` of shape `(batch, 2, 2, dim)`: `y_pred[:, v, 0]` is view v's prediction p_v (the
    predictor MLP's output), `y_pred[:, v, 1]` its projection z_v, e.g.
    `keras.ops.stack([keras.ops.stack([p1, z1], 1), keras.ops.stack([p2, z2], 1)], 1)`. BYOL (Grill et
    al. 2020) uses the same loss with z from a momentum target network (its 2 - 2 cos summed over both
    directions is 4 + 4 times this). Values lie in [-1, 1]; zero vectors have cosine 0. Per example.
    In float16 and bfloat16 the loss is computed in float32. `y_true` is ignored.

    Args:
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"simsiam"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Ignored; any array with a batch axis, e.g. `np.zeros(batch)`.
        y_pred: Predictions and projections of both views, shape `(batch, 2, 2, dim)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021.
        https://arxiv.org/abs/2011.10566

    Example:

    >>> p_and_z = np.array([[[[1.0, 0.0], [0.8, 0.6]], [[0.6, 0.8], [1.0, 0.0]]]])  # (1, 2, 2, 2)
    >>> round(float(kerasloss.SimSiam()(np.zeros(1), p_and_z)), 4)
    -0.98

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(2, 2, 8)), keras.layers.Dense(4)])  # (batch, 2, 2, 4)
    >>> model.compile(optimizer="adam", loss=kerasloss.SimSiam())
    """

    function = staticmethod(simsiam)
    inputs = "predicted_views"

    def __init__(self, *, reduction="sum_over_batch_size", name="simsiam", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
