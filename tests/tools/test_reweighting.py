"""DeferredReweighting: the weights reach the compiled training step from the epoch named (not before), on every
backend, with and without XLA; validation follows; the loss's config records them; misuse is refused."""

import keras
import numpy as np
import pytest

import kerasloss

COUNTS = [24, 6, 2]
WEIGHTS = kerasloss.class_balanced_weights(COUNTS, 0.99)


def _frozen_model(loss, jit_compile):
    """A model whose predictions never change (learning rate 0): each epoch's loss is the same data's loss."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss, jit_compile=jit_compile)
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 4)).astype("float32"), np.repeat([0, 1, 2], COUNTS)


@pytest.mark.parametrize("jit_compile", [False, "auto"])
@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: kerasloss.LDAM(COUNTS, scale=5.0), "class_weights"),
        (lambda: kerasloss.SparseCategoricalFocalLoss(gamma=1.0, from_logits=True), "alpha"),
    ],
    ids=["ldam", "sparse_focal"],
)
def test_the_weights_reach_the_compiled_step_from_the_epoch_named(make, argument, jit_compile):
    loss = make()
    model = _frozen_model(loss, jit_compile)
    x, y = _data()
    plain = float(loss(y, model.predict(x, verbose=0)))
    weighted = float(type(loss)(**{**loss.get_config(), argument: WEIGHTS.tolist()})(y, model.predict(x, verbose=0)))
    drw = kerasloss.DeferredReweighting(WEIGHTS, start_epoch=2, argument=argument)
    history = model.fit(x, y, batch_size=32, epochs=4, verbose=0, callbacks=[drw], validation_data=(x, y))
    np.testing.assert_allclose(history.history["loss"], [plain, plain, weighted, weighted], rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"], [plain, plain, weighted, weighted], rtol=1e-5)
    assert loss.get_config()[argument] is None  # given back when fit ends
    assert model.evaluate(x, y, batch_size=32, verbose=0) == pytest.approx(plain, rel=1e-5)


def test_a_fit_resumed_past_the_switch_trains_with_the_weights_at_once():
    loss = kerasloss.LDAM(COUNTS, scale=5.0)
    model = _frozen_model(loss, "auto")
    x, y = _data()
    weighted = float(kerasloss.LDAM(COUNTS, scale=5.0, class_weights=WEIGHTS)(y, model.predict(x, verbose=0)))
    drw = kerasloss.DeferredReweighting(WEIGHTS, start_epoch=1)
    history = model.fit(x, y, batch_size=32, initial_epoch=3, epochs=4, verbose=0, callbacks=[drw])
    np.testing.assert_allclose(history.history["loss"], [weighted], rtol=1e-5)


def test_a_second_fit_from_epoch_zero_starts_without_the_weights_again():
    loss = kerasloss.LDAM(COUNTS, scale=5.0)
    model = _frozen_model(loss, "auto")
    x, y = _data()
    plain = float(loss(y, model.predict(x, verbose=0)))
    drw = kerasloss.DeferredReweighting(WEIGHTS, start_epoch=1)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[drw])
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[drw])
    np.testing.assert_allclose(history.history["loss"], [plain], rtol=1e-5)
    assert loss.class_weights is None


def test_a_new_callback_on_a_second_fit_starts_without_the_weights():
    """The loss is given back its compiled value when fit ends, so a fresh callback does not take the weights
    the last one left as the value to start from (a notebook's second cell)."""
    loss = kerasloss.LDAM(COUNTS, scale=5.0)
    model = _frozen_model(loss, "auto")
    x, y = _data()
    plain = float(loss(y, model.predict(x, verbose=0)))
    weighted = float(kerasloss.LDAM(COUNTS, scale=5.0, class_weights=WEIGHTS)(y, model.predict(x, verbose=0)))
    for _ in range(2):
        drw = kerasloss.DeferredReweighting(WEIGHTS, start_epoch=1)
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[drw])
        np.testing.assert_allclose(history.history["loss"], [plain, weighted], rtol=1e-5)


@pytest.mark.parametrize(
    ("make", "weights", "argument", "message"),
    [
        (lambda: kerasloss.LDAM(COUNTS), [1.0, 1.0, 1.0, 1.0], "class_weights", "4 class weights for a loss of 3"),
        (lambda: kerasloss.FocalLoss(from_logits=True), WEIGHTS.tolist(), "alpha", "argument `alpha`"),
    ],
    ids=["wrong_length", "above_one_for_a_sigmoid_alpha"],
)
def test_weights_the_loss_cannot_take_are_refused_when_training_starts(make, weights, argument, message):
    model = _frozen_model(make(), "auto")
    x, y = _data()
    labels = y if argument == "class_weights" else np.eye(3, dtype="float32")[y]
    drw = kerasloss.DeferredReweighting(weights, start_epoch=5, argument=argument)
    with pytest.raises(ValueError, match=message):
        model.fit(x, labels, epochs=1, verbose=0, callbacks=[drw])


def test_a_loss_the_model_was_not_compiled_with_is_refused():
    model = _frozen_model(kerasloss.LDAM(COUNTS), "auto")
    x, y = _data()
    drw = kerasloss.DeferredReweighting(WEIGHTS, start_epoch=1, loss=kerasloss.LDAM(COUNTS))
    with pytest.raises(ValueError, match="not a loss the model was compiled with"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[drw])


def test_a_loss_without_the_argument_is_refused_naming_it():
    model = _frozen_model(kerasloss.PolyLoss(from_logits=True), "auto")
    x, y = _data()
    drw = kerasloss.DeferredReweighting(WEIGHTS, start_epoch=1)
    with pytest.raises(ValueError, match="must be a kerasloss loss taking `class_weights`"):
        model.fit(x, np.eye(3)[y], epochs=1, verbose=0, callbacks=[drw])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"class_weights": [1.0, -1.0], "start_epoch": 1}, "class_weights"),
        ({"class_weights": None, "start_epoch": 1}, "class_weights"),
        ({"class_weights": [1.0], "start_epoch": -1}, "start_epoch"),
        ({"class_weights": [1.0], "start_epoch": 1.5}, "start_epoch"),
        ({"class_weights": [1.0], "start_epoch": 1, "argument": "gamma"}, "argument"),
        ({"class_weights": [1.0], "start_epoch": 1, "loss": "mse"}, "loss"),
    ],
)
def test_invalid_arguments_are_named(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        kerasloss.DeferredReweighting(**kwargs)
