"""Margin softmax losses over the cosines of embeddings with class proxies (`kerasloss.CosineProxies`):
ArcFace (an angular margin on the target class) and CosFace (a cosine margin), each a cross-entropy of
the scaled, margin-adjusted cosines. Shapes: y_true integer labels (batch,), y_pred cosines
(batch, num_classes) -> (batch,).
"""

import math

from keras import ops

from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import hyperparameters, non_negative, positive
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.metric_learning.pairwise import safe_sqrt
from kerasloss.metric_learning.proxies import cosines_and_labels

__all__ = ["ArcFace", "CosFace", "arcface", "cosface"]


def check_radians(argument, value):
    """ArcFace's margin: radians in [0, pi). pytorch-metric-learning takes degrees (28.6 by default): a
    value in degrees here would make cos(theta + m) wrap around, and the loss reward the wrong logit."""
    value = non_negative(argument, value)
    if value >= math.pi:
        error = invalid_argument(argument, "radians in [0, pi)", value)
        raise ValueError(f"{error} (in degrees? math.radians({value!r}) = {math.radians(value):.4f})")
    return value


def _margin_cross_entropy(cosines, labels, in_range, target_logit, scale):
    """Cross-entropy of scale * cosines with the target class's cosine replaced by `target_logit(cos)`."""
    classes = ops.shape(cosines)[1]
    is_target = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(ops.arange(classes), 0))
    # The target column gathered (an out-of-range id, NaN below, reads column 0 or C - 1), not summed out of a
    # masked (batch, classes) copy: one (batch, classes) block fewer.
    within = ops.expand_dims(ops.clip(labels, 0, classes - 1), 1)
    target_cos = ops.squeeze(ops.take_along_axis(cosines, within, axis=1), 1)
    adjusted = target_logit(target_cos)
    logits = scale * ops.where(is_target, ops.expand_dims(adjusted, 1), cosines)
    return ops.where(in_range, ops.logsumexp(logits, axis=1) - scale * adjusted, float("nan"))


@hyperparameters(scale=positive, margin=check_radians)
@computed_in_float32
def arcface(y_true, y_pred, *, scale: float = 64.0, margin: float = 0.5):
    r"""ArcFace, the additive angular margin loss (Deng et al. 2019), from cosines $\cos\theta_j$, with
    $s$ = scale and $m$ = margin:

    $$
    \mathrm{loss}_i = -\log \frac{e^{s \cos(\theta_y + m)}}
    {e^{s \cos(\theta_y + m)} + \sum_{j \ne y} e^{s \cos\theta_j}}
    $$

    $m$ in radians. Where $\theta_y + m > \pi$, $\cos(\theta_y + m)$ would rise again with $\theta_y$ (the loss
    would reward moving away from the class), so there the target logit is $\cos\theta_y - m \sin m$, as
    pytorch-metric-learning 2.9 and InsightFace compute it: it keeps falling with $\theta_y$, though not
    continuously (at $\theta_y = \pi - m$ it steps from -1 to $-\cos m - m \sin m$, -1.117 at m = 0.5).
    $\cos(\theta + m)$ is $\cos\theta \cos m - \sin\theta \sin m$ with $\sin\theta = \sqrt{1 - \cos^2\theta}$:
    no arccos, whose slope is infinite at cos = +-1.

    Args:
        scale: s > 0. Defaults to 64.0.
        margin: m in radians, in [0, pi). Defaults to 0.5 (28.6 degrees, pytorch-metric-learning's default).

    Returns:
        The per-example loss, shape `(batch,)`.

    References:
        Deng, Guo, Xue & Zafeiriou, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition",
        CVPR 2019. https://arxiv.org/abs/1801.07698
    """
    cosines, labels, in_range = cosines_and_labels(y_true, y_pred, "arcface")
    cos_m, sin_m = math.cos(margin), math.sin(margin)

    def target_logit(cos):
        cos = ops.clip(cos, -1.0, 1.0)
        sin = safe_sqrt(ops.maximum(1.0 - ops.square(cos), 0.0))
        # theta <= pi - m  <=>  cos(theta) >= cos(pi - m) = -cos(m)
        return ops.where(cos >= -cos_m, cos * cos_m - sin * sin_m, cos - margin * sin_m)

    return _margin_cross_entropy(cosines, labels, in_range, target_logit, scale)


@hyperparameters(scale=positive, margin=non_negative)
@computed_in_float32
def cosface(y_true, y_pred, *, scale: float = 64.0, margin: float = 0.35):
    r"""CosFace, the large margin cosine loss (Wang et al. 2018), from cosines $\cos\theta_j$, with $s$ = scale
    and $m$ = margin:

    $$
    \mathrm{loss}_i = -\log \frac{e^{s (\cos\theta_y - m)}}
    {e^{s (\cos\theta_y - m)} + \sum_{j \ne y} e^{s \cos\theta_j}}
    $$

    Args:
        scale: s > 0. Defaults to 64.0.
        margin: m >= 0. Defaults to 0.35.

    Returns:
        The per-example loss, shape `(batch,)`.

    References:
        Wang, Wang, Zhou, Ji, Gong, Zhou, Li & Liu, "CosFace: Large Margin Cosine Loss for Deep Face
        Recognition", CVPR 2018. https://arxiv.org/abs/1801.09414
    """
    cosines, labels, in_range = cosines_and_labels(y_true, y_pred, "cosface")
    return _margin_cross_entropy(cosines, labels, in_range, lambda cos: cos - margin, scale)


@register("arcface")
class ArcFace(Loss):
    r"""Computes ArcFace, the additive angular margin loss, over cosines with class proxies.

    A softmax cross-entropy over the scaled cosines of an embedding with every class proxy, in which the
    target class's angle is widened by a margin: the embedding must be closer to its proxy, by $m$ radians
    (`margin`), than to any other. Formula (Deng et al. 2019), with $\theta_j$ the angle to proxy $j$, $y$ the
    class id and $s$ the scale:

    $$
    \mathrm{loss}_i = -\log \frac{e^{s \cos(\theta_y + m)}}
    {e^{s \cos(\theta_y + m)} + \sum_{j \ne y} e^{s \cos\theta_j}}
    $$

    Where $\theta_y + m > \pi$ the target logit is $\cos\theta_y - m \sin m$ instead (pytorch-metric-learning
    2.9 and InsightFace: it keeps the loss decreasing in the target cosine, with a step at
    $\theta_y = \pi - m$). With the same proxies and embeddings it equals pytorch-metric-learning 2.9's
    `ArcFaceLoss(margin=degrees(margin), scale)` (whose default margin is 28.6 degrees: 0.5 radians
    here). Per example; an out-of-range class id raises where it can be seen (NaN for that example under
    XLA). In float16 and bfloat16 the loss is computed in float32.

    `y_pred` is the output of `kerasloss.CosineProxies(num_classes)` (with `sub_centers > 1`,
    sub-center ArcFace), last in the training model, which holds the proxies so that `fit` trains them.

    Args:
        scale: s, a float > 0. Defaults to `64.0`.
        margin: m in radians, a float in [0, pi) (a value in degrees is refused, naming its radians).
            Defaults to `0.5`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"arcface"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Cosines with the class proxies, shape `(batch, num_classes)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Deng, Guo, Xue & Zafeiriou, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition",
        CVPR 2019. https://arxiv.org/abs/1801.07698

    Example:

    >>> cosines = np.array([[0.9, 0.1, -0.2], [0.2, 0.8, 0.0], [0.7, 0.3, 0.1]])
    >>> round(float(kerasloss.ArcFace(scale=16.0, margin=0.3)(np.array([0, 1, 0]), cosines)), 4)
    0.0275

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4), kerasloss.CosineProxies(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.ArcFace())
    """

    function = staticmethod(arcface)
    inputs = "cosines"
    labels_are_ids = True

    def __init__(self, scale=64.0, margin=0.5, *, reduction="sum_over_batch_size", name="arcface", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, scale=scale, margin=margin)


@register("cosface")
class CosFace(Loss):
    r"""Computes CosFace, the large margin cosine loss, over cosines with class proxies.

    A softmax cross-entropy over the scaled cosines of an embedding with every class proxy, the target
    class's cosine lowered by a margin. Formula (Wang et al. 2018), with $\theta_j$ the angle to proxy $j$,
    $y$ the class id, $s$ the scale and $m$ the margin:

    $$
    \mathrm{loss}_i = -\log \frac{e^{s (\cos\theta_y - m)}}
    {e^{s (\cos\theta_y - m)} + \sum_{j \ne y} e^{s \cos\theta_j}}
    $$

    With the same proxies and embeddings it equals pytorch-metric-learning 2.9's `CosFaceLoss(margin,
    scale)`. Per example; an out-of-range class id raises where it can be seen (NaN for that example
    under XLA). In float16 and bfloat16 the loss is computed in float32.

    `y_pred` is the output of `kerasloss.CosineProxies(num_classes)`, last in the training model.

    Args:
        scale: s, a float > 0. Defaults to `64.0`.
        margin: m, a float >= 0. Defaults to `0.35`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"cosface"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class labels, shape `(batch,)` (or `(batch, 1)`).
        y_pred: Cosines with the class proxies, shape `(batch, num_classes)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-example loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Wang, Wang, Zhou, Ji, Gong, Zhou, Li & Liu, "CosFace: Large Margin Cosine Loss for Deep Face
        Recognition", CVPR 2018. https://arxiv.org/abs/1801.09414

    Example:

    >>> cosines = np.array([[0.9, 0.1, -0.2], [0.2, 0.8, 0.0], [0.7, 0.3, 0.1]])
    >>> round(float(kerasloss.CosFace(scale=16.0, margin=0.2)(np.array([0, 1, 0]), cosines)), 4)
    0.0144

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4), kerasloss.CosineProxies(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.CosFace())
    """

    function = staticmethod(cosface)
    inputs = "cosines"
    labels_are_ids = True

    def __init__(self, scale=64.0, margin=0.35, *, reduction="sum_over_batch_size", name="cosface", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, scale=scale, margin=margin)
