"""Ordinal classification: the weighted kappa loss, a differentiable form of Cohen's weighted kappa.

Shapes: y_true one-hot (batch, C) or integer class ids (batch,); y_pred class probabilities (batch, C)
-> (batch,): the batch's loss carried by each example (kappa is a statistic of the batch).
"""

from typing import Literal

from keras import ops

from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import hyperparameters, integer, one_of, positive
from kerasloss.core.inputs import empty_batch_loss, is_empty_batch, sparse_ids, valid_class_ids
from kerasloss.core.loss import Loss
from kerasloss.core.numerics import computed_in_float32
from kerasloss.core.registry import register

__all__ = ["WeightedKappa", "weighted_kappa"]


def _num_classes(argument, value):
    value = integer(argument, value)
    if value < 2:
        raise invalid_argument(argument, "an integer >= 2", value)
    return value


@hyperparameters(num_classes=_num_classes, weightage=one_of("quadratic", "linear"), epsilon=positive)
@computed_in_float32
def weighted_kappa(
    y_true,
    y_pred,
    *,
    num_classes: int,
    weightage: Literal["quadratic", "linear"] = "quadratic",
    epsilon: float = 1e-6,
):
    r"""Weighted kappa loss (de la Torre, Puig & Valls 2018), as TensorFlow Addons' `WeightedKappaLoss`,
    with classes $i, j \in \{0, \ldots, C - 1\}$ and a batch of $B$:

    $$
    \begin{split}
    w_{ij} &= (i - j)^2 \ \text{(quadratic)} \quad\text{or}\quad \lvert i - j \rvert \ \text{(linear)} \\
    \mathrm{numerator} &= \sum_b \sum_j w_{y_b j}\, p_{bj} \\
    \mathrm{denominator} &= \frac{1}{B} \sum_{i,j} w_{ij} \Bigl( \sum_b t_{bi} \Bigr) \Bigl( \sum_b p_{bj} \Bigr) \\
    \mathrm{loss} &= \log\left( \frac{\mathrm{numerator}}{\mathrm{denominator}} + \epsilon \right)
    \end{split}
    $$

    $t$ the one-hot labels, $p$ the predicted probabilities, $\epsilon$ = epsilon. numerator / denominator is
    $1 - \kappa$ of the soft confusion matrix, so the loss falls as the agreement rises; where the denominator
    is 0 (labels and predictions all in one class) the ratio is 0 (TFA's divide_no_nan) and the loss
    $\log \epsilon$.

    Args:
        num_classes: C >= 2 (required).
        weightage: "quadratic" (default) or "linear".
        epsilon: added inside the log, > 0. Defaults to 1e-6 (TFA's).

    Returns:
        The batch's loss carried by each example, shape `(batch,)`.

    References:
        de la Torre, Puig & Valls, "Weighted kappa loss function for multi-class classification of
        ordinal data in deep learning", Pattern Recognition Letters 105, 2018.
        https://doi.org/10.1016/j.patrec.2017.05.018
    """
    if len(y_pred.shape) != 2 or y_pred.shape[-1] != num_classes:
        raise ValueError(
            f"weighted_kappa expects y_pred of shape (batch, {num_classes}): class probabilities. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    if len(y_true.shape) == 2 and y_true.shape[-1] == num_classes:
        one_hot = ops.cast(y_true, y_pred.dtype)
    else:
        ids = sparse_ids(y_true, y_pred, "weighted_kappa")
        in_range = valid_class_ids(ids, num_classes, "weighted_kappa")
        one_hot = ops.one_hot(ids, num_classes, dtype=y_pred.dtype)
        # Under XLA nothing can raise: an id out of range makes the batch's loss NaN, not a zero label row.
        one_hot = ops.where(ops.all(in_range), one_hot, float("nan"))
    if is_empty_batch(y_pred):
        return empty_batch_loss(y_pred)
    classes = ops.cast(ops.arange(num_classes), y_pred.dtype)
    difference = ops.expand_dims(classes, 1) - ops.expand_dims(classes, 0)
    weights = ops.square(difference) if weightage == "quadratic" else ops.abs(difference)  # (C, C)
    numerator = ops.sum(ops.matmul(one_hot, weights) * y_pred)
    label_counts = ops.sum(one_hot, axis=0)
    predicted_counts = ops.sum(y_pred, axis=0)
    batch = ops.cast(ops.shape(y_pred)[0], y_pred.dtype)
    denominator = ops.sum(ops.expand_dims(label_counts, 1) * weights * ops.expand_dims(predicted_counts, 0)) / batch
    ratio = ops.where(denominator != 0, numerator / ops.where(denominator != 0, denominator, 1.0), 0.0)
    return ops.log(ratio + epsilon) + ops.zeros_like(y_pred[:, 0])


@register("weighted_kappa", "kappa")
class WeightedKappa(Loss):
    r"""Computes the weighted kappa loss of ordinal classification (de la Torre et al. 2018).

    Cohen's weighted kappa scores agreement between labels and predictions, penalizing a prediction by
    how many classes it is off (quadratically by default): predicting grade 4 for a grade-1 example
    costs more than predicting grade 2. This loss is log(1 - kappa) of the soft confusion matrix (the
    predicted probabilities instead of hard predictions), as TensorFlow Addons' `WeightedKappaLoss`
    computes it (for users of TFA, which no longer imports), over a batch of $B$ with labels $y_b$ and
    predicted probabilities $p_{bj}$:

    $$
    w_{ij} = (i - j)^2 \ \text{(quadratic)} \quad\text{or}\quad \lvert i - j \rvert \ \text{(linear)},
    \qquad
    \mathrm{loss} = \log\left( \frac{\sum_b \sum_j w_{y_b j}\, p_{bj}}
    {\sum_{i,j} w_{ij}\, n_i\, m_j / B} + \epsilon \right)
    $$

    with $n_i$ the batch's count of label $i$, $m_j$ its summed probability of class $j$ and $\epsilon$ =
    `epsilon`. Kappa is a statistic
    of the batch, not of single examples: every example carries the batch's value, so Keras' mean is the
    loss; use batches large enough to hold the classes. `sample_weight` scales the batch's value and takes
    no example out of the confusion matrix; under `tf.distribute` each replica scores its own share.
    Labels must be one-hot (or ids): with soft labels this weighs E[w(y, j)], where TFA weighed w(E[y],
    j). An id out of range raises where it can be seen and makes the batch's loss NaN under XLA. Where the
    denominator is 0 (labels and predictions all in one class) the loss is log(epsilon), as in TFA. In
    float16 and bfloat16 the loss is computed in float32.

    Args:
        num_classes: The number of ordered classes C, an integer >= 2.
        weightage: `"quadratic"` or `"linear"`. Defaults to `"quadratic"`.
        epsilon: Added inside the log, a float > 0. Defaults to `1e-6` (TFA's).
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"weighted_kappa"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: One-hot labels of shape `(batch, num_classes)` (TFA's input), or integer class ids of
            shape `(batch,)`.
        y_pred: Class probabilities (a softmax output), shape `(batch, num_classes)`.
        sample_weight: Optional weights of shape `(batch,)`.

    Returns:
        The loss reduced as `reduction` says: a scalar by default; with `reduction=None` the batch's loss
        carried by each example, shape `(batch,)`.

    References:
        de la Torre, Puig & Valls, "Weighted kappa loss function for multi-class classification of
        ordinal data in deep learning", Pattern Recognition Letters 105, 2018.
        https://doi.org/10.1016/j.patrec.2017.05.018

    Example:

    >>> y_pred = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.05, 0.25, 0.7]])
    >>> round(float(kerasloss.WeightedKappa(num_classes=3)(np.array([0, 1, 2]), y_pred)), 4)
    -1.2657

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")])
    >>> model.compile(optimizer="adam", loss=kerasloss.WeightedKappa(num_classes=3))
    """

    function = staticmethod(weighted_kappa)
    inputs = "class_ids"
    labels_are_ids = True

    def __init__(
        self,
        num_classes,
        weightage="quadratic",
        epsilon=1e-6,
        *,
        reduction="sum_over_batch_size",
        name="weighted_kappa",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            num_classes=num_classes,
            weightage=weightage,
            epsilon=epsilon,
        )
