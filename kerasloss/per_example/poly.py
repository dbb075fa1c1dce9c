"""PolyLoss (Leng et al. 2022, "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
Functions"): the cross-entropy plus `epsilon` times its leading polynomial term, `1 - p_t`.

Expanded in powers of (1 - p_t), cross-entropy is sum_j (1 - p_t)^j / j. Poly-1 changes the first
coefficient from 1 to 1 + epsilon: epsilon > 0 pushes harder on examples that are already likely (the
paper's choice on ImageNet: epsilon = 2), epsilon < 0 eases off (down to -1, which removes the term).
"""

from keras import ops

from kerasloss.core.hyperparameters import at_least, boolean, hyperparameters, smoothing
from kerasloss.core.inputs import drop_ignored, same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import one_minus_exp
from kerasloss.core.registry import register
from kerasloss.per_example.classification import log_probabilities, sparse_scores

__all__ = ["PolyLoss", "SparsePolyLoss", "poly_loss", "sparse_poly_loss"]

_EPSILON = at_least(-1.0)


@hyperparameters(epsilon=_EPSILON, from_logits=boolean, label_smoothing=smoothing)
def poly_loss(y_true, y_pred, *, epsilon: float = 1.0, from_logits: bool = False, label_smoothing: float = 0.0):
    r"""Poly-1 against one-hot (or soft) targets, as the paper's listings compute it. With $K$ classes and
    smoothed targets $t = y (1 - s) + s / K$:

    $$
    \mathrm{loss} = -\sum_{k=1}^{K} t_k \log p_k + \epsilon \sum_{k=1}^{K} t_k (1 - p_k)
    $$

    (for a one-hot target without smoothing, $\mathrm{CE} + \epsilon (1 - p_t)$).

    Args:
        epsilon: The first polynomial coefficient's change, >= -1. Defaults to 1.0.
        from_logits: `y_pred` holds logits. Defaults to False.
        label_smoothing: s in [0, 1). Defaults to 0.0.

    Returns:
        The per-example loss: `y_pred`'s shape without the last axis.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "poly_loss")
    num_classes = ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
    targets = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes if label_smoothing else y_true
    log_p = log_probabilities(y_pred, from_logits)
    if not epsilon:
        return -ops.sum(targets * log_p, axis=-1)
    # One pass over the classes: t (epsilon (1 - p) - log p), 1 - p as -expm1(log p), exact as p -> 1.
    return ops.sum(targets * (-epsilon * ops.expm1(log_p) - log_p), axis=-1)


@hyperparameters(epsilon=_EPSILON, from_logits=boolean)
def sparse_poly_loss(y_true, y_pred, *, epsilon: float = 1.0, from_logits: bool = False):
    r"""Poly-1 against integer class ids, no one-hot tensor built. With class id $y$:

    $$
    \mathrm{loss} = -\log p_y + \epsilon\, (1 - p_y)
    $$

    Args:
        epsilon: The first polynomial coefficient's change, >= -1. Defaults to 1.0.
        from_logits: `y_pred` holds logits. Defaults to False.

    Returns:
        The per-example loss, of `y_true`'s shape.
    """
    parts = sparse_scores(y_true, y_pred, from_logits, "sparse_poly_loss")
    ce = ops.sparse_categorical_crossentropy(parts.ids, parts.scores, from_logits=True)
    loss = ce + epsilon * one_minus_exp(-ce) if epsilon else ce
    return drop_ignored(ops.where(parts.in_range, loss, float("nan")), parts.kept)


@register("poly", "poly1")
class PolyLoss(Loss):
    r"""Computes the Poly-1 loss between one-hot (or soft) labels and predictions.

    The categorical cross-entropy plus `epsilon` ($\epsilon$) times $1 - p_t$, its first term in powers of
    $1 - p_t$ (Leng et al. 2022), as the paper's listings compute it, label smoothing included. With $K$
    classes (the last axis), smoothed targets $t = y (1 - s) + s / K$ ($y$ = `y_true`) and
    $p = \operatorname{softmax}(\hat y)$ (of `y_pred`) when `from_logits=True`:

    $$
    \mathrm{loss} = -\sum_{k=1}^{K} t_k \log p_k + \epsilon \sum_{k=1}^{K} t_k (1 - p_k)
    $$

    For a one-hot label without smoothing: $\mathrm{CE} + \epsilon (1 - p_y)$. `epsilon=0` is
    `CategoricalCrossentropy` exactly; the paper found `epsilon=2` best for ImageNet classification and a
    negative `epsilon` (down to -1) for detection. `1 - p` is computed from `log(p)` without cancellation.

    Args:
        epsilon: The change of the first polynomial coefficient, a float >= -1. Defaults to `1.0`.
        from_logits: Whether `y_pred` holds logits rather than probabilities (rescaled to sum to 1, then
            clipped to `[1e-7, 1 - 1e-7]`, as Keras does). Defaults to `False`.
        label_smoothing: `s` in `[0, 1)`. Defaults to `0.0`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"poly_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: One-hot (or soft) labels, shape `(batch, K)`.
        y_pred: Class probabilities, or logits with `from_logits=True`, of the same shape.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Leng, Tan, Liu, Cubuk, Shi, Cheng & Anguelov, "PolyLoss: A Polynomial Expansion Perspective of
        Classification Loss Functions", ICLR 2022. https://arxiv.org/abs/2204.12511

    Example:

    >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> y_pred = np.array([[0.05, 0.9, 0.05], [0.1, 0.6, 0.3]])
    >>> round(float(kerasloss.PolyLoss(epsilon=1.0)(y_true, y_pred)), 4)
    1.0547
    >>> round(float(kerasloss.PolyLoss(epsilon=0.0)(y_true, y_pred)), 4)  # cross-entropy
    0.6547

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.PolyLoss(epsilon=2.0, from_logits=True))
    """

    function = staticmethod(poly_loss)
    inputs = "targets"

    def __init__(
        self,
        epsilon=1.0,
        from_logits=False,
        label_smoothing=0.0,
        *,
        reduction="sum_over_batch_size",
        name="poly_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            epsilon=epsilon,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )


@register("sparse_poly", "sparse_poly1")
class SparsePolyLoss(Loss):
    r"""Computes the Poly-1 loss between integer class ids and predictions.

    `PolyLoss` for labels given as class ids, without building a one-hot tensor (Leng et al. 2022). With
    class id $y$ and $p = \operatorname{softmax}(\hat y)$ (of `y_pred`) when `from_logits=True`:

    $$
    \mathrm{loss} = -\log p_y + \epsilon\, (1 - p_y)
    $$

    `epsilon=0` is `SparseCategoricalCrossentropy` exactly. An id outside `[0, K)` raises a `ValueError`
    eagerly and an `InvalidArgumentError` in `tf.function`; under XLA that sample's loss is NaN.

    Args:
        epsilon: The change of the first polynomial coefficient, a float >= -1. Defaults to `1.0`.
        from_logits: Whether `y_pred` holds logits rather than probabilities. Defaults to `False`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"sparse_poly_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class ids in `[0, K)`, shape `(batch,)`.
        y_pred: Class probabilities, or logits with `from_logits=True`, shape `(batch, K)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Leng, Tan, Liu, Cubuk, Shi, Cheng & Anguelov, "PolyLoss: A Polynomial Expansion Perspective of
        Classification Loss Functions", ICLR 2022. https://arxiv.org/abs/2204.12511

    Example:

    >>> y_pred = np.array([[0.05, 0.9, 0.05], [0.1, 0.6, 0.3]])
    >>> round(float(kerasloss.SparsePolyLoss(epsilon=1.0)(np.array([1, 2]), y_pred)), 4)
    1.0547

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.SparsePolyLoss(epsilon=2.0, from_logits=True))
    """

    function = staticmethod(sparse_poly_loss)
    inputs = "class_ids"
    labels_are_ids = True

    def __init__(
        self, epsilon=1.0, from_logits=False, *, reduction="sum_over_batch_size", name="sparse_poly_loss", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype, epsilon=epsilon, from_logits=from_logits)
