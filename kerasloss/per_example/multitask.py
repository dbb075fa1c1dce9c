"""Multi-task training: a classification head and a regression head whose regression term counts
only for positive examples, weighted per task, either by fixed weights (`MultiTaskLoss`) or by
learned uncertainty weights (`UncertaintyWeightedModel`, Kendall et al. 2018).

Layout: the model's output has 2 entries on its last axis, `[class score, regression estimate]`, and
`y_true` has `[class label in {0, 1}, regression target]`; e.g. one `Dense(2)` head, or two heads
concatenated.
"""

import keras
from keras import ops

from kerasloss.core.hyperparameters import boolean, hyperparameters, non_negative, open_unit_interval, positive
from kerasloss.core.inputs import same_shape
from kerasloss.core.loss import Loss
from kerasloss.core.registry import PACKAGE, register
from kerasloss.per_example.classification import cost_sensitive_binary_crossentropy
from kerasloss.per_example.uncertainty_weighting import UncertaintyWeighting

__all__ = ["MultiTaskLoss", "UncertaintyWeightedModel", "multitask_loss", "multitask_terms"]


@hyperparameters(
    positive_weight=positive, false_negative_weight=positive, threshold=open_unit_interval, from_logits=boolean
)
def multitask_terms(
    y_true,
    y_pred,
    *,
    positive_weight: float = 1.0,
    false_negative_weight: float = 1.0,
    threshold: float = 0.5,
    from_logits: bool = True,
):
    """Per-sample, per-task terms of shape `(batch, 2)`: `[classification, regression]`.

    classification_i = cost-sensitive binary cross-entropy of the class score (see
        `cost_sensitive_binary_crossentropy`: false negatives can cost more than false alarms);
    regression_i     = [y_i = 1] (estimate_i - target_i)^2 * n / max(n_positive, 1)
    so that the batch mean of the regression column is the mean squared error over the positive
    examples alone (0 for a batch with none), as in a loss that indexes the positives.

    Args:
        positive_weight: the cost-sensitive cross-entropy's weight of a positive example's term, applied to
            the class score. Defaults to 1.0.
        false_negative_weight: its extra weight of a positive scored below `threshold`. Defaults to 1.0.
        threshold: the score below which a positive counts as a false negative. Defaults to 0.5.
        from_logits: whether the class score is a logit. Defaults to True.

    Returns:
        The terms, of shape `y_pred.shape[:-1] + (2,)`.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "multitask_loss")
    if y_pred.shape[-1] != 2:
        raise ValueError(
            "multitask_loss: y_true and y_pred must have 2 entries on their last axis: "
            "[class label, regression target] and [class score, regression estimate]. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    labels, targets = y_true[..., 0], y_true[..., 1]
    classification = cost_sensitive_binary_crossentropy.unchecked(  # checked by this function's declaration
        y_true[..., :1],
        y_pred[..., :1],
        positive_weight=positive_weight,
        false_negative_weight=false_negative_weight,
        threshold=threshold,
        from_logits=from_logits,
    )
    positive = ops.cast(ops.equal(labels, 1.0), y_pred.dtype)
    count = ops.cast(ops.size(positive), y_pred.dtype)
    per_positive = count / ops.maximum(ops.sum(positive), 1.0)
    # where, not positive * error^2: a negative's overflowed error (inf in float16) must not become 0 * inf = NaN;
    # a negative's term is 0 * its estimate, so a NaN estimate (a diverged model) still shows.
    estimate = y_pred[..., 1]
    regression = ops.where(positive > 0, ops.square(estimate - targets) * per_positive, estimate * 0.0)
    return ops.stack([classification, regression], axis=-1)


@hyperparameters(
    classification_weight=non_negative,
    regression_weight=non_negative,
    positive_weight=positive,
    false_negative_weight=positive,
    threshold=open_unit_interval,
    from_logits=boolean,
)
def multitask_loss(
    y_true,
    y_pred,
    *,
    classification_weight: float = 1.0,
    regression_weight: float = 1.0,
    positive_weight: float = 1.0,
    false_negative_weight: float = 1.0,
    threshold: float = 0.5,
    from_logits: bool = True,
):
    r"""Fixed-weight multi-task loss, per sample $i$:

    $$
    \mathrm{loss}_i = w_c\, c_i + w_r\, r_i
    $$

    with $c_i$ the classification term and $r_i$ the regression term of `multitask_terms`. The batch mean
    is `w_c * mean(classification) + w_r * MSE over the positives`; see `multitask_terms` for each term.
    Weights >= 0 (0 switches a task off).

    Args:
        classification_weight: the classification task's weight w_c, >= 0. Defaults to 1.0.
        regression_weight: the regression task's weight w_r, >= 0. Defaults to 1.0.
        positive_weight: as in `multitask_terms`.
        false_negative_weight: as in `multitask_terms`.
        threshold: as in `multitask_terms`.
        from_logits: as in `multitask_terms`.

    Returns:
        The per-sample loss, of shape `y_pred.shape[:-1]`.
    """
    # Unchecked: the arguments were checked once by this function's own declaration (or the class), and a check
    # run again here would run inside a compiled step, where AutoGraph converts the checks themselves.
    terms = multitask_terms.unchecked(
        y_true,
        y_pred,
        positive_weight=positive_weight,
        false_negative_weight=false_negative_weight,
        threshold=threshold,
        from_logits=from_logits,
    )
    weights = ops.convert_to_tensor([classification_weight, regression_weight], dtype=terms.dtype)
    return ops.sum(terms * weights, axis=-1)


@register("multitask")
class MultiTaskLoss(Loss):
    r"""Computes a classification loss plus a regression loss counted on the positive examples only.

    For a model that says whether something happens and, if it does, how much (e.g. whether a customer
    buys, and what they spend): the regression target exists only for positives. Formula, per sample $i$
    of a batch of $n$ with $n_{+}$ positives, with $c_i$ the cost-sensitive binary cross-entropy of the
    class score (see `CostSensitiveBinaryCrossentropy`), $\hat e_i$ the estimate, $e_i$ the target,
    $w_c$ = `classification_weight` and $w_r$ = `regression_weight`:

    $$
    \begin{split}
    r_i &= [y_i = 1]\, (\hat e_i - e_i)^2\, \frac{n}{\max(n_{+}, 1)} \\
    \mathrm{loss}_i &= w_c\, c_i + w_r\, r_i
    \end{split}
    $$

    so that Keras' batch mean is `classification_weight * mean(classification)` plus
    `regression_weight` times the mean squared error over the positives alone (0 for a batch without
    one). The task weights here are fixed; to learn them, wrap the model in `UncertaintyWeightedModel`.
    `task_terms(y_true, y_pred)` returns the two unweighted terms, shape `(batch, 2)`.

    Args:
        classification_weight: Weight of the classification term, >= 0 (0 switches it off). Defaults
            to `1.0`.
        regression_weight: Weight of the regression term, >= 0 (0 switches it off). Defaults to `1.0`.
        positive_weight: Weight of every positive in the cross-entropy, > 0. Defaults to `1.0`.
        false_negative_weight: Further weight of a positive whose score is below `threshold`, > 0.
            Defaults to `1.0`.
        threshold: The decision threshold on the probability, in `(0, 1)`. Defaults to `0.5`.
        from_logits: Whether the class score is a logit rather than a probability. Defaults to `True`.
        reduction: Type of reduction to apply to the per-sample loss: `"sum_over_batch_size"` (the sum
            divided by the number of entries: the mean), `"sum"`, `"mean"` (as `"sum_over_batch_size"`),
            `"mean_with_sample_weight"` (the sum divided by the sum of the sample weights), or `None` /
            `"none"` for the per-sample losses. Defaults to `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"multitask_loss"`.
        dtype: The dtype of the loss's computations: a floating dtype, or a `keras.DTypePolicy` (e.g.
            `"mixed_float16"`) whose compute dtype is used. Defaults to `None`, which means
            `keras.backend.floatx()` (`"float32"` unless set otherwise).

    Call arguments:
        y_true: `[class label in {0, 1}, regression target]` on the last axis, shape `(batch, 2)`
            (any target for a negative; it is not used).
        y_pred: `[class score, regression estimate]` on the last axis, shape `(batch, 2)`, e.g. one
            `Dense(2)` head.
        sample_weight: Optional weights of shape `(batch,)`, or of the per-sample loss's shape.

    Returns:
        The loss reduced as `reduction` says: a scalar by default, the per-sample loss of shape
        `(batch,)` with `reduction=None`.

    References:
        Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry
        and Semantics", CVPR 2018 (learned task weights: `UncertaintyWeightedModel`).
        https://arxiv.org/abs/1705.07115

    Example:

    >>> y_true = np.array([[1.0, 2.0], [0.0, 0.0]])  # [label, target]
    >>> y_pred = np.array([[0.5, 1.5], [-1.0, 3.0]])  # [logit, estimate]
    >>> loss = kerasloss.MultiTaskLoss()
    >>> round(float(loss(y_true, y_pred)), 4)
    0.6437
    >>> print(keras.ops.convert_to_numpy(loss.task_terms(y_true, y_pred)).round(4))
    [[0.4741 0.5   ]
     [0.3133 0.    ]]

    With the `compile()` API:

    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss=kerasloss.MultiTaskLoss(false_negative_weight=3.0))
    """

    function = staticmethod(multitask_loss)
    inputs = "targets"

    def __init__(
        self,
        classification_weight=1.0,
        regression_weight=1.0,
        positive_weight=1.0,
        false_negative_weight=1.0,
        threshold=0.5,
        from_logits=True,
        *,
        reduction="sum_over_batch_size",
        name="multitask_loss",
        dtype=None,
    ):
        super().__init__(
            name=name,
            reduction=reduction,
            dtype=dtype,
            classification_weight=classification_weight,
            regression_weight=regression_weight,
            positive_weight=positive_weight,
            false_negative_weight=false_negative_weight,
            threshold=threshold,
            from_logits=from_logits,
        )

    def task_terms(self, y_true, y_pred):
        """The `(batch, 2)` per-task terms, before the task weights."""
        hyperparameters = dict(self._hyperparameters)
        del hyperparameters["classification_weight"], hyperparameters["regression_weight"]
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        return multitask_terms(ops.convert_to_tensor(y_true, dtype=self.dtype), y_pred, **hyperparameters)


@keras.saving.register_keras_serializable(package=PACKAGE)
class UncertaintyWeightedModel(keras.Model):
    """A model that trains a network on the multi-task terms weighted by learned uncertainties.

    Wraps `model`, whose output is `[class score, regression estimate]` on the last axis, and trains it
    on the two per-task terms of a `MultiTaskLoss` (`task_terms`), each averaged over the batch and
    combined by an `UncertaintyWeighting` layer (Kendall et al. 2018):

        total = exp(-s_c) * L_classification + 0.5 * exp(-s_r) * L_regression + (s_c + s_r) / 2

    The task weights are variables of this model (`model.weighting`), so `fit` trains them with the
    network; the fixed weights of `loss` (`classification_weight`, `regression_weight`) are not used.
    Compile without a loss: the model supplies it. `sample_weight` in `fit` weighs each example's terms;
    the wrapped model's own `losses` (e.g. regularizers) are added.

    Args:
        model: A Keras model whose output has 2 entries on its last axis: `[class score, regression
            estimate]`.
        loss: A `MultiTaskLoss` supplying the per-task terms (its `positive_weight`,
            `false_negative_weight`, `threshold` and `from_logits`). Defaults to `MultiTaskLoss()`.
        **kwargs: Other `keras.Model` arguments, e.g. `name`.

    Call arguments:
        inputs: The wrapped model's inputs; the output is the wrapped model's.

    Training data: `y` is `[class label in {0, 1}, regression target]` on the last axis, e.g.
    `np.stack([labels, targets], axis=-1)`.

    References:
        Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry
        and Semantics", CVPR 2018. https://arxiv.org/abs/1705.07115

    Example:

    >>> net = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    >>> model = kerasloss.UncertaintyWeightedModel(net, kerasloss.MultiTaskLoss(false_negative_weight=3.0))
    >>> model.compile(optimizer="adam")  # the wrapper supplies the loss
    >>> print(keras.ops.convert_to_numpy(model.weighting.task_weights))  # [classification, regression]
    [1.  0.5]
    >>> x = np.ones((4, 3))
    >>> y = np.array([[1.0, 2.0], [0.0, 0.0], [1.0, 0.5], [0.0, 0.0]])  # [label, target]
    >>> history = model.fit(x, y, epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
    """

    def __init__(self, model, loss=None, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.task_loss = loss if loss is not None else MultiTaskLoss()
        self.weighting = UncertaintyWeighting(("softmax", "gaussian"))

    def call(self, inputs, training=False):
        return self.model(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms = self.task_loss.task_terms(y, y_pred)
        if sample_weight is not None:
            terms = terms * ops.cast(ops.reshape(sample_weight, (-1, 1)), terms.dtype)
        total = self.weighting(ops.mean(terms, axis=0))
        if self.losses:
            total = total + ops.sum(self.losses)
        return total

    def get_config(self):
        return {
            "name": self.name,
            "model": keras.saving.serialize_keras_object(self.model),
            "loss": keras.saving.serialize_keras_object(self.task_loss),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        model = keras.saving.deserialize_keras_object(config.pop("model"))
        loss = keras.saving.deserialize_keras_object(config.pop("loss"))
        return cls(model, loss, **config)
