"""Multi-task training: a classification head and a regression head whose regression term counts
only for positive examples, weighted per task, either by fixed weights (`MultiTaskLoss`) or by
learned uncertainty weights (`UncertaintyWeightedModel`, Kendall et al. 2018).

Layout: the model's output has 2 entries on its last axis, `[class score, regression estimate]`, and
`y_true` has `[class label in {0, 1}, regression target]`; e.g. one `Dense(2)` head, or two heads
concatenated.
"""

import keras
from keras import ops

from kerasloss.base import (
    PACKAGE,
    Loss,
    check_bool,
    check_non_negative,
    check_open_unit_interval,
    check_positive,
    register,
)
from kerasloss.classification import cost_sensitive_binary_crossentropy
from kerasloss.inputs import same_shape
from kerasloss.layers import UncertaintyWeighting


def multitask_terms(y_true, y_pred, *, positive_weight=1.0, false_negative_weight=1.0, threshold=0.5, from_logits=True):
    """Per-sample, per-task terms of shape `(batch, 2)`: `[classification, regression]`.

    classification_i = cost-sensitive binary cross-entropy of the class score (see
        `cost_sensitive_binary_crossentropy`: false negatives can cost more than false alarms);
    regression_i     = [y_i = 1] (estimate_i - target_i)^2 * n / max(n_positive, 1)
    so that the batch mean of the regression column is the mean squared error over the positive
    examples alone (0 for a batch with none), as in a loss that indexes the positives.
    """
    y_true, y_pred = same_shape(y_true, y_pred, "multitask_loss")
    if y_pred.shape[-1] != 2:
        raise ValueError(
            "multitask_loss: y_true and y_pred must have 2 entries on their last axis: "
            "[class label, regression target] and [class score, regression estimate]. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    labels, targets = y_true[..., 0], y_true[..., 1]
    classification = cost_sensitive_binary_crossentropy(
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
    # where, not positive * error^2: a negative's overflowed error (inf in float16) must not become 0 * inf = NaN.
    regression = ops.where(positive > 0, ops.square(y_pred[..., 1] - targets) * per_positive, 0.0)
    return ops.stack([classification, regression], axis=-1)


def multitask_loss(
    y_true,
    y_pred,
    *,
    classification_weight=1.0,
    regression_weight=1.0,
    positive_weight=1.0,
    false_negative_weight=1.0,
    threshold=0.5,
    from_logits=True,
):
    """Fixed-weight multi-task loss: `w_c * classification_i + w_r * regression_i` per sample.

    The batch mean is `w_c * mean(classification) + w_r * MSE over the positives`; see
    `multitask_terms` for each term. Weights >= 0 (0 switches a task off).
    """
    classification_weight = check_non_negative("classification_weight", classification_weight)
    regression_weight = check_non_negative("regression_weight", regression_weight)
    terms = multitask_terms(
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
    """Classification + positive-only regression with fixed task weights; see
    `kerasloss.multitask.multitask_loss`. Scores are logits by default (`from_logits=True`)."""

    function = staticmethod(multitask_loss)

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
            classification_weight=check_non_negative("classification_weight", classification_weight),
            regression_weight=check_non_negative("regression_weight", regression_weight),
            positive_weight=check_positive("positive_weight", positive_weight),
            false_negative_weight=check_positive("false_negative_weight", false_negative_weight),
            threshold=check_open_unit_interval("threshold", threshold),
            from_logits=check_bool("from_logits", from_logits),
        )

    def task_terms(self, y_true, y_pred):
        """The `(batch, 2)` per-task terms, before the task weights."""
        hyperparameters = dict(self._hyperparameters)
        del hyperparameters["classification_weight"], hyperparameters["regression_weight"]
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        return multitask_terms(ops.convert_to_tensor(y_true, dtype=self.dtype), y_pred, **hyperparameters)


@keras.saving.register_keras_serializable(package=PACKAGE)
class UncertaintyWeightedModel(keras.Model):
    """Trains `model` on the multi-task terms weighted by learned uncertainties (Kendall et al. 2018).

    The task weights are variables of this model (an `UncertaintyWeighting` layer), so `fit` trains
    them with the network; the fixed weights of `loss` are not used. Compile without a loss:

        model = kerasloss.UncertaintyWeightedModel(net, kerasloss.MultiTaskLoss(false_negative_weight=3.0))
        model.compile(optimizer="adam")
        model.fit(x, np.stack([labels, targets], axis=-1))
        model.weighting.task_weights   # the learned weight of each task

    Args:
        model: a model whose output is `[class score, regression estimate]` on the last axis.
        loss: a `MultiTaskLoss` supplying the per-task terms. Defaults to `MultiTaskLoss()`.
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
