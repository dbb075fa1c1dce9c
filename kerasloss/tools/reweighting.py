"""Deferred re-weighting (Cao et al. 2019): train with a loss's plain form first, then switch per-class
weights on from a given epoch, inside one `model.fit`, on every backend.

A compiled training step reads a loss's hyperparameters when it is traced: setting them afterwards changes
nothing that runs. `DeferredReweighting` changes the loss's hyperparameter between epochs
(`Loss.update_hyperparameters`, checked as at construction) and has the model rebuild its train and test
steps, which then trace the new weights as constants. One retrace, at the switch.
"""

import keras

from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import class_weights as weights_check
from kerasloss.core.hyperparameters import integer, one_of
from kerasloss.core.loss import Loss

__all__ = ["DeferredReweighting"]


class DeferredReweighting(keras.callbacks.Callback):
    """Switches per-class weights on from a given epoch of `model.fit`: deferred re-weighting (DRW).

    LDAM-DRW (Cao et al. 2019) trains with equal weights, so the representation learns from every
    example, and then re-weights by class (the class-balanced weights of Cui et al. 2019) to move the
    decision boundaries toward the rare classes. The paper switches at epoch 160 of 200 on CIFAR.

    Before `start_epoch`, the loss keeps the value it was compiled with; from `start_epoch` on (0-based,
    as Keras counts epochs) it gets `class_weights`; when `fit` ends it is given back the compiled value, so
    a later `fit` (with this callback or a new one) starts without the weights again. Weights the loss cannot
    take (a wrong length, or above 1 for a sigmoid focal loss's alpha) are refused when training starts.
    It works with any kerasloss loss that takes per-class weights: `LDAM(class_weights=...)` (the default
    `argument`), or the per-class `alpha` of `CategoricalFocalLoss` and `SparseCategoricalFocalLoss`
    (`argument="alpha"`).

    Args:
        class_weights: One weight >= 0 per class, e.g.
            `kerasloss.class_balanced_weights(class_counts, beta=0.9999)`.
        start_epoch: The first epoch (0-based) trained with the weights, an integer >= 0.
        argument: The loss's hyperparameter that takes them: `"class_weights"` or `"alpha"`. Defaults to
            `"class_weights"`.
        loss: The loss to re-weight. Defaults to `None`: the model's compiled loss, `model.loss`.

    Example:

    >>> counts = [60, 12, 4]
    >>> loss = kerasloss.LDAM(counts)
    >>> model = keras.Sequential([keras.Input(shape=(5,)), kerasloss.CosineProxies(3)])
    >>> model.compile(optimizer="sgd", loss=loss)
    >>> drw = kerasloss.DeferredReweighting(kerasloss.class_balanced_weights(counts), start_epoch=2)
    >>> x, y = np.random.default_rng(0).normal(size=(76, 5)), np.repeat([0, 1, 2], counts)
    >>> [round(w, 3) for w in drw.class_weights]
    [0.143, 0.714, 2.142]
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[drw])
    >>> loss.class_weights is None  # given back when fit ends
    True

    References:
        Cao, Wei, Gaidon, Arechiga & Ma, "Learning Imbalanced Datasets with Label-Distribution-Aware
        Margin Loss", NeurIPS 2019. https://arxiv.org/abs/1906.07413
    """

    def __init__(self, class_weights, start_epoch, argument="class_weights", loss=None):
        super().__init__()
        self.class_weights = weights_check("class_weights", class_weights)
        if self.class_weights is None:
            raise invalid_argument("class_weights", "a non-empty list of weights >= 0, one per class", None)
        self.start_epoch = integer("start_epoch", start_epoch)
        if self.start_epoch < 0:
            raise invalid_argument("start_epoch", "an integer >= 0", start_epoch)
        self.argument = one_of("class_weights", "alpha")("argument", argument)
        if loss is not None and not isinstance(loss, Loss):
            raise invalid_argument("loss", "a kerasloss loss", loss)
        self.loss = loss
        self._target = None
        self._before = None

    def on_train_begin(self, logs=None):
        loss = self.loss if self.loss is not None else getattr(self.model, "loss", None)
        if not isinstance(loss, Loss) or self.argument not in loss.get_config():
            raise ValueError(
                f"DeferredReweighting: the model's loss must be a kerasloss loss taking `{self.argument}` "
                f"(LDAM, CategoricalFocalLoss, SparseCategoricalFocalLoss); pass it as `loss=` when the model "
                f"has several. Received: {loss!r}"
            )
        if self.loss is not None and not any(loss is compiled for compiled in _flat(self.model.loss)):
            raise ValueError(
                "DeferredReweighting: `loss` is not a loss the model was compiled with, so re-weighting it would "
                f"change nothing that trains. Received: loss={loss!r}"
            )
        self._check_weights(loss)
        self._target, self._before = loss, getattr(loss, self.argument)

    def _check_weights(self, loss):
        """Refuse weights the loss cannot take now, not at `start_epoch` (epoch 160 of 200 in the paper)."""
        type(loss).from_config({**loss.get_config(), self.argument: list(self.class_weights)})  # its own checks
        counts = loss.get_config().get("class_counts")
        if counts is not None and len(counts) != len(self.class_weights):
            raise ValueError(
                f"DeferredReweighting: {len(self.class_weights)} class weights for a loss of {len(counts)} classes "
                f"(its class_counts). Received: class_weights={list(self.class_weights)}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._set(self.class_weights if epoch >= self.start_epoch else self._before)

    def on_train_end(self, logs=None):
        # Back to the value the loss was compiled with: a later fit (with this callback or a new one) starts
        # without the weights, and `evaluate` after fit computes the compiled loss.
        self._set(self._before)

    def _set(self, wanted):
        if getattr(self._target, self.argument) == wanted:
            return
        self._target.update_hyperparameters(**{self.argument: wanted})
        # The compiled steps traced the old value: rebuild them (fit calls model.train_function each step).
        self.model.make_train_function(force=True)
        self.model.make_test_function(force=True)


def _flat(losses):
    if isinstance(losses, dict):
        return [loss for value in losses.values() for loss in _flat(value)]
    if isinstance(losses, (list, tuple)):
        return [loss for value in losses for loss in _flat(value)]
    return [losses]
