"""Losses for long-tailed classification, built from the training set's class counts: the logit-adjusted
loss (Menon et al. 2021), balanced softmax (Ren et al. 2020), LDAM (Cao et al. 2019), and the
class-balanced weights of Cui et al. (2019) with the post-hoc logit adjustment as NumPy vectors.

A plain cross-entropy trained on long-tailed data learns the training prior: its argmax favours the
frequent classes, and the balanced error (the mean of the per-class errors) suffers. The logit-adjusted
loss and balanced softmax add log-priors to the logits during training, so the model's own logits estimate
the balanced posterior (both are Fisher-consistent for the balanced error); post-hoc adjustment subtracts
them from a plain model's logits instead. LDAM enforces larger margins for rarer classes, and is usually
paired with deferred re-weighting (`kerasloss.DeferredReweighting`).

All of them take integer class ids and logits; the counts are hyperparameters, stored in `get_config()`.
"""

import math
from collections.abc import Sequence

# NumPy for the per-class constants only (log-priors, margins, weights: float64 on the host, then one tensor);
# the public helpers return them as NumPy vectors. The loss math itself is keras.ops.
import numpy as np
from keras import ops

from kerasloss.core.hyperparameters import (
    class_counts as counts_check,
)
from kerasloss.core.hyperparameters import (
    class_weights as weights_check,
)
from kerasloss.core.hyperparameters import (
    half_open_unit_interval,
    hyperparameters,
    non_negative,
    positive,
)
from kerasloss.core.inputs import check_last_axis, drop_ignored
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register
from kerasloss.per_example.classification import sparse_scores

__all__ = [
    "LDAM",
    "BalancedSoftmax",
    "LogitAdjusted",
    "balanced_softmax_loss",
    "class_balanced_weights",
    "ldam_loss",
    "ldam_margins",
    "logit_adjusted_loss",
    "logit_adjustment",
]


def logit_adjustment(class_counts: Sequence[float], tau: float = 1.0) -> np.ndarray:
    """`tau * log(prior)`, prior = counts / sum(counts): what post-hoc logit adjustment subtracts from a
    model trained with plain cross-entropy (Menon et al. 2021, eq. 4), in float64.

        adjusted_logits = model.predict(x) - kerasloss.logit_adjustment(counts, tau=1.0)

    The argmax of the adjusted logits estimates the balanced-error-optimal class. The official code
    (google-research/logit_adjustment) computes `log(prior ** tau + 1e-12)`; this is the exact
    `tau * log(prior)` (they differ by at most 1e-12 / prior ** tau, relative to the prior, which is below
    1e-6 for priors above 1e-6 at tau = 1).

    Args:
        class_counts: The number of training examples of each class, each > 0.
        tau: The adjustment's strength, >= 0 (0: no adjustment). Defaults to 1.0.

    Returns:
        A float64 NumPy vector of one entry per class.

    References:
        Menon, Jayasumana, Rawat, Jain, Veit & Kumar, "Long-tail learning via logit adjustment", ICLR 2021.
        https://arxiv.org/abs/2007.07314
    """
    counts = np.asarray(counts_check("class_counts", class_counts), np.float64)
    tau = non_negative("tau", tau)
    largest = counts.max()  # counts / sum(counts) without forming a sum that could overflow
    return tau * (np.log(counts / largest) - np.log(np.sum(counts / largest)))


def class_balanced_weights(class_counts: Sequence[float], beta: float = 0.9999) -> np.ndarray:
    """Per-class weights by the effective number of examples (Cui et al. 2019), in float64:

        w_j = (1 - beta) / (1 - beta ** n_j),   then scaled so that sum_j w_j = number of classes

    as the official code normalises them. beta = 0 gives equal weights; as beta -> 1 the weights approach
    inverse class frequency. `1 - beta ** n` is computed as `-expm1(n * log(beta))`, exact where the
    official `1 - np.power(beta, n)` loses digits (beta near 1, small n).

    Two ways to use them, normalised differently:

    * as the per-class `alpha` of `CategoricalFocalLoss` / `SparseCategoricalFocalLoss` (the paper's
      class-balanced focal loss): `SparseCategoricalFocalLoss(gamma=2.0, alpha=w)`; each example's loss is
      multiplied by its class's weight and the batch mean divides by the batch size;
    * as Keras' `class_weight`: `model.fit(..., class_weight=dict(enumerate(w)))`; Keras turns it into a
      sample weight, and the default reduction still divides by the batch size (the same arithmetic).

    PyTorch's `cross_entropy(weight=w)`, used by the official code, divides by the sum of the batch's
    weights instead: with Keras' `reduction="mean_with_sample_weight"` and `class_weight`, you get that.

    Args:
        class_counts: The number of training examples of each class, each > 0.
        beta: In [0, 1). Defaults to 0.9999 (the paper's choice for long-tailed CIFAR).

    Returns:
        A float64 NumPy vector of one weight per class, summing to the number of classes.

    References:
        Cui, Jia, Lin, Song & Belongie, "Class-Balanced Loss Based on Effective Number of Samples",
        CVPR 2019. https://arxiv.org/abs/1901.05555
    """
    counts = np.asarray(counts_check("class_counts", class_counts), np.float64)
    beta = half_open_unit_interval("beta", beta)
    if beta == 0:
        return np.ones_like(counts)
    effective = -np.expm1(counts * math.log(beta)) / (1.0 - beta)  # (1 - beta^n) / (1 - beta)
    weights = 1.0 / effective
    return weights * (len(counts) / weights.sum())


def ldam_margins(class_counts: Sequence[float], max_margin: float = 0.5) -> np.ndarray:
    """LDAM's per-class margins, `n_j ** -0.25` scaled so that the largest (the rarest class's) is
    `max_margin`, in float64 (Cao et al. 2019, eq. 13)."""
    counts = np.asarray(counts_check("class_counts", class_counts), np.float64)
    max_margin = positive("max_margin", max_margin)
    raw = counts**-0.25
    return raw * (max_margin / raw.max())


def _checked_scores(y_true, y_pred, class_counts, loss_name):
    parts = sparse_scores(y_true, y_pred, True, loss_name)
    check_last_axis(class_counts, parts.scores, "class_counts", loss_name)
    return parts


def _per_class(values, like):
    return ops.convert_to_tensor(np.asarray(values, np.float64), dtype=like.dtype)


def _crossentropy(parts, logits):
    ce = ops.sparse_categorical_crossentropy(parts.ids, logits, from_logits=True)
    return drop_ignored(ops.where(parts.in_range, ce, math.nan), parts.kept)


@hyperparameters(class_counts=counts_check, tau=non_negative)
@computed_in_float32
def logit_adjusted_loss(y_true, y_pred, *, class_counts: Sequence[float], tau: float = 1.0):
    r"""Softmax cross-entropy of the prior-adjusted logits (Menon et al. 2021, eq. 10):

    $$
    \mathrm{loss} = -\log \operatorname{softmax}\!\left( x + \tau \log \pi \right)_y,
    \qquad \pi_j = \frac{n_j}{\sum_k n_k}
    $$

    with $x$ the logits, $y$ the class id, $\pi$ the prior, $n$ the class counts and $\tau$ = tau. A model
    trained with it estimates the balanced posterior in its raw logits: predict with `argmax(x)`, no
    correction needed. At tau = 0 it is the plain cross-entropy.

    Args:
        class_counts: The training examples of each class (one per logit), each > 0.
        tau: The adjustment's strength, >= 0. Defaults to 1.0.

    Returns:
        The per-example loss, of `y_true`'s shape.
    """
    parts = _checked_scores(y_true, y_pred, class_counts, "logit_adjusted_loss")
    if tau == 0:
        return _crossentropy(parts, parts.scores)
    return _crossentropy(parts, parts.scores + _per_class(logit_adjustment(class_counts, tau), parts.scores))


@hyperparameters(class_counts=counts_check)
@computed_in_float32
def balanced_softmax_loss(y_true, y_pred, *, class_counts: Sequence[float]):
    r"""Softmax cross-entropy of the logits plus the log class counts (Ren et al. 2020, eq. 4): the softmax of
    the logits reweighted by the class counts. With $x$ the logits, $y$ the class id and $n$ the class counts:

    $$
    \mathrm{loss} = -\log \operatorname{softmax}\!\left( x + \log n \right)_y
    $$

    Per example it equals `logit_adjusted_loss` at tau = 1 (log counts and
    log prior differ by a constant, which the softmax ignores), up to rounding.

    Args:
        class_counts: The training examples of each class (one per logit), each > 0.

    Returns:
        The per-example loss, of `y_true`'s shape.
    """
    parts = _checked_scores(y_true, y_pred, class_counts, "balanced_softmax_loss")
    return _crossentropy(parts, parts.scores + _per_class(np.log(np.asarray(class_counts)), parts.scores))


@hyperparameters(class_counts=counts_check, max_margin=positive, scale=positive, class_weights=weights_check)
@computed_in_float32
def ldam_loss(
    y_true,
    y_pred,
    *,
    class_counts: Sequence[float],
    max_margin: float = 0.5,
    scale: float = 30.0,
    class_weights: Sequence[float] | None = None,
):
    r"""Label-distribution-aware margin loss (Cao et al. 2019), as the official code computes it, with $x$ the
    logits, $y$ the class id, $e_y$ its one-hot vector, $n$ the class counts, $m_{\max}$ = max_margin,
    $s$ = scale and $w$ = class_weights:

    $$
    \begin{split}
    m_j &= m_{\max} \frac{n_j^{-1/4}}{\max_k n_k^{-1/4}} \\
    \mathrm{loss} &= w_y \cdot \left( -\log \operatorname{softmax}\!\left( s\, (x - m_y\, e_y) \right)_y \right)
    \end{split}
    $$

    The true class's logit gives up its class's margin, the rarest class's the most. The official models
    feed it cosines (a normalised linear head, `x` in [-1, 1]) and `scale` stretches them.

    Args:
        class_counts: The training examples of each class (one per logit), each > 0.
        max_margin: The rarest class's margin, > 0. Defaults to 0.5.
        scale: The logits' scale, > 0. Defaults to 30.0.
        class_weights: None, or one weight >= 0 per class (deferred re-weighting sets them). Defaults
            to None.

    Returns:
        The per-example loss, of `y_true`'s shape.
    """
    name = "ldam_loss"
    parts = _checked_scores(y_true, y_pred, class_counts, name)
    margins = _per_class(ldam_margins(class_counts, max_margin), parts.scores)
    # The true class's logit less its margin, by comparison with the class index: fused under XLA, and no
    # scatter (whose gradient gathers) in a plain graph.
    is_target = ops.expand_dims(parts.ids, -1) == ops.arange(ops.shape(parts.scores)[-1], dtype=parts.ids.dtype)
    shifted = parts.scores - ops.where(is_target, ops.expand_dims(ops.take(margins, parts.ids), -1), 0.0)
    loss = _crossentropy(parts, scale * shifted)
    if class_weights is None:
        return loss
    check_last_axis(class_weights, parts.scores, "class_weights", name)
    return ops.take(_per_class(class_weights, parts.scores), parts.ids) * loss


@register("logit_adjusted", "logit_adjustment_loss")
class LogitAdjusted(Loss):
    r"""Computes the logit-adjusted softmax cross-entropy for long-tailed classification.

    The cross-entropy of the logits shifted by the scaled log-prior of each class (Menon et al. 2021), with
    $x$ = `y_pred`, $y$ = `y_true`, $n$ = `class_counts`, the prior $\pi$ and $\tau$ = `tau`:

    $$
    \mathrm{loss} = -\log \operatorname{softmax}\!\left( x + \tau \log \pi \right)_y,
    \qquad \pi_j = \frac{n_j}{\sum_k n_k}
    $$

    Rare classes get a negative shift, so the model must raise their logits further to fit them: trained
    this way, `argmax(y_pred)` estimates the class that minimises the balanced error (the mean of the
    per-class error rates), with no correction at prediction time. It is Fisher-consistent for the
    balanced error at `tau=1`; `tau=0` is the plain cross-entropy. To correct a model trained with the
    plain cross-entropy instead, subtract `kerasloss.logit_adjustment(class_counts, tau)` from its logits.

    The official code adds `1e-12` inside the log (`log(prior ** tau + 1e-12)`); this loss uses the exact
    `tau * log(prior)`.

    Args:
        class_counts: The number of training examples of each class, one per logit, each > 0 (a list or
            a NumPy array; stored in `get_config()` as a list of floats).
        tau: The adjustment's strength, a float >= 0. Defaults to `1.0` (the paper's choice).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"logit_adjusted"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class ids in `[0, K)`, shape `(batch,)`.
        y_pred: Logits, shape `(batch, K)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Menon, Jayasumana, Rawat, Jain, Veit & Kumar, "Long-tail learning via logit adjustment", ICLR 2021.
        https://arxiv.org/abs/2007.07314

    Example:

    >>> counts = [900, 90, 10]
    >>> logits = np.array([[2.0, 0.5, -1.0], [0.3, 1.2, 0.1]])
    >>> loss = kerasloss.LogitAdjusted(counts, tau=1.0)
    >>> round(float(loss(np.array([0, 2]), logits)), 4)
    2.4748
    >>> round(float(kerasloss.LogitAdjusted(counts, tau=0.0)(np.array([0, 2]), logits)), 4)  # plain CE
    0.9474

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.LogitAdjusted(class_counts=counts))
    """

    function = staticmethod(logit_adjusted_loss)
    inputs = "class_ids"
    labels_are_ids = True

    def __init__(self, class_counts, tau=1.0, *, reduction="sum_over_batch_size", name="logit_adjusted", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, class_counts=class_counts, tau=tau)


@register("balanced_softmax")
class BalancedSoftmax(Loss):
    r"""Computes the balanced softmax cross-entropy for long-tailed classification.

    The softmax cross-entropy of the logits plus the log of each class's training count (Ren et al. 2020),
    with $x$ = `y_pred`, $y$ = `y_true` and $n$ = `class_counts`:

    $$
    \mathrm{loss} = -\log \operatorname{softmax}\!\left( x + \log n \right)_y
    $$

    It models the label shift between the long-tailed training set and a balanced test set: the model's
    own `softmax(y_pred)` estimates the balanced posterior, and `argmax(y_pred)` is the prediction. Per
    example it equals `LogitAdjusted(class_counts, tau=1.0)`: the log-counts and the log-prior differ by
    `log(sum(class_counts))`, a shift of every logit that the softmax ignores (up to rounding).

    Args:
        class_counts: The number of training examples of each class, one per logit, each > 0.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"balanced_softmax"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class ids in `[0, K)`, shape `(batch,)`.
        y_pred: Logits, shape `(batch, K)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Ren, Yu, Sheng, Ma, Zhao, Yi & Li, "Balanced Meta-Softmax for Long-Tailed Visual Recognition",
        NeurIPS 2020. https://arxiv.org/abs/2007.10740

    Example:

    >>> counts = [900, 90, 10]
    >>> logits = np.array([[2.0, 0.5, -1.0], [0.3, 1.2, 0.1]])
    >>> round(float(kerasloss.BalancedSoftmax(counts)(np.array([0, 2]), logits)), 4)
    2.4748

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=kerasloss.BalancedSoftmax(class_counts=counts))
    """

    function = staticmethod(balanced_softmax_loss)
    inputs = "class_ids"
    labels_are_ids = True

    def __init__(self, class_counts, *, reduction="sum_over_batch_size", name="balanced_softmax", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype, class_counts=class_counts)


@register("ldam")
class LDAM(Loss):
    r"""Computes the label-distribution-aware margin (LDAM) loss for long-tailed classification.

    A softmax cross-entropy in which the true class's logit gives up a margin that grows as its class
    gets rarer (Cao et al. 2019), as the official code computes it. With $x$ = `y_pred`, $y$ the class id,
    $e_y$ its one-hot vector, $n$ = `class_counts`, $m_{\max}$ = `max_margin`, $s$ = `scale` and
    $w$ = `class_weights`:

    $$
    \begin{split}
    m_j &= m_{\max} \frac{n_j^{-1/4}}{\max_k n_k^{-1/4}} \\
    \mathrm{loss} &= w_y \cdot \left( -\log \operatorname{softmax}\!\left( s\, (x - m_y\, e_y) \right)_y \right)
    \end{split}
    $$

    The rarest class's margin is `max_margin`. The official models feed it cosines: the output of a
    linear layer whose weights and inputs are L2-normalised, in `[-1, 1]`, which `scale` stretches. In
    Keras, `kerasloss.CosineProxies(num_classes)` on the embedding is that layer (its proxies are the
    normalised weights); a plain `Dense` head also trains, with logits that `scale` multiplies.

    Deferred re-weighting (DRW), the paper's schedule: train with `class_weights=None`, then from a later
    epoch on with the class-balanced weights, `kerasloss.class_balanced_weights(class_counts, 0.9999)`:
    `kerasloss.DeferredReweighting(weights, start_epoch=...)` switches them on inside `model.fit`. The
    weights multiply each example's loss and the default reduction divides by the batch size; the official
    code's `cross_entropy(weight=...)` divides by the sum of the batch's weights (a per-batch rescaling of
    the learning rate).

    Args:
        class_counts: The number of training examples of each class, one per logit, each > 0.
        max_margin: The rarest class's margin, a float > 0. Defaults to `0.5` (the official default).
        scale: The factor applied to the margin-adjusted logits, > 0. Defaults to `30.0` (official).
        class_weights: `None`, or one weight >= 0 per class multiplying each example's loss. Defaults to
            `None`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"ldam"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: Integer class ids in `[0, K)`, shape `(batch,)`.
        y_pred: Cosines (or logits), shape `(batch, K)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Cao, Wei, Gaidon, Arechiga & Ma, "Learning Imbalanced Datasets with Label-Distribution-Aware
        Margin Loss", NeurIPS 2019. https://arxiv.org/abs/1906.07413

    Example:

    >>> counts = [900, 90, 10]
    >>> cosines = np.array([[0.8, 0.1, -0.3], [0.1, 0.2, 0.4]])
    >>> kerasloss.ldam_margins(counts, max_margin=0.5).round(4)
    array([0.1623, 0.2887, 0.5   ])
    >>> round(float(kerasloss.LDAM(counts)(np.array([0, 2]), cosines)), 4)
    4.5244

    With the `compile()` API, on class cosines:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), kerasloss.CosineProxies(3)])
    >>> model.compile(optimizer="sgd", loss=kerasloss.LDAM(class_counts=counts))
    """

    function = staticmethod(ldam_loss)
    inputs = "class_ids"
    labels_are_ids = True

    def __init__(
        self,
        class_counts,
        max_margin=0.5,
        scale=30.0,
        class_weights=None,
        *,
        reduction="sum_over_batch_size",
        name="ldam",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            class_counts=class_counts,
            max_margin=max_margin,
            scale=scale,
            class_weights=class_weights,
        )
