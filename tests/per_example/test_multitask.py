"""Multi-task training: the seed's classification + positive-only regression loss, and uncertainty
weights that really train inside `model.fit` (and survive saving)."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import numpy
from tests.reference import formulas as ref


def _batch(seed, n=64, positive_rate=0.3):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < positive_rate).astype("float32")
    y = np.stack([labels, rng.normal(size=n)], -1).astype("float32")
    return y, rng.normal(size=(n, 2)).astype("float32")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_the_seed_loss_on_a_batch(seed):
    y, pred = _batch(seed)
    loss = kerasloss.MultiTaskLoss(classification_weight=1.0, regression_weight=0.5, false_negative_weight=3.0)
    expected = ref.multitask_batch_loss(y, pred, 1.0, 0.5, 3.0)
    assert numpy(loss(y, pred)) == pytest.approx(expected, rel=1e-5)


def test_regression_counts_only_positives_and_vanishes_without_any():
    y, pred = _batch(3, positive_rate=0.0)
    terms = numpy(kerasloss.MultiTaskLoss().task_terms(y, pred))
    np.testing.assert_array_equal(terms[:, 1], 0.0)
    y, pred = _batch(4)
    negatives = y[:, 0] == 0
    moved = pred.copy()
    moved[negatives, 1] += 100.0  # wild regression estimates on negatives change nothing
    loss = kerasloss.MultiTaskLoss()
    assert numpy(loss(y, moved)) == pytest.approx(numpy(loss(y, pred)), rel=1e-6)


def test_a_negative_with_an_overflowing_estimate_stays_finite_in_float16():
    """A negative's regression error is left out, so its square overflowing float16 (1e4^2 > 65504) must
    not turn into 0 * inf = NaN (found by the property test)."""
    y_true = np.array([[0.0, 0.5], [1.0, 0.2]], "float32")
    y_pred = np.array([[2.0, 1e4], [1.0, 0.3]], "float32")
    half = numpy(kerasloss.MultiTaskLoss(dtype="float16", reduction=None)(y_true, y_pred)).astype("float64")
    full = numpy(kerasloss.MultiTaskLoss(reduction=None)(y_true, y_pred))
    assert np.all(np.isfinite(half))
    np.testing.assert_allclose(half, full, rtol=1e-2)


def test_rejects_layouts_other_than_two_columns():
    with pytest.raises(ValueError, match=r"2 entries on their last axis"):
        kerasloss.MultiTaskLoss()(np.zeros((4, 3)), np.zeros((4, 3)))


def _problem(n=512, seed=0):
    """Positives are x0 > 0; the regression target (positives only) is 3 x1, with unit noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = (x[:, 0] > 0).astype("float32")
    targets = 3 * x[:, 1] + rng.normal(size=n)
    return x, np.stack([labels, targets], -1).astype("float32")


def _network():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])


@pytest.mark.slow
def test_uncertainty_weights_train_in_fit():
    keras.utils.set_random_seed(0)
    x, y = _problem()
    model = kerasloss.UncertaintyWeightedModel(_network(), kerasloss.MultiTaskLoss(false_negative_weight=2.0))
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    before = numpy(model.weighting.log_variances).copy()
    history = model.fit(x, y, epochs=15, batch_size=64, verbose=0).history["loss"]
    after = numpy(model.weighting.log_variances)
    np.testing.assert_array_equal(before, 0.0)
    task_losses = numpy(model.task_loss.task_terms(y, model.predict(x, verbose=0))).mean(axis=0)
    # d total / d s_i = 0 at s_i = log(2 c_i L_i). The regression task's loss stops falling at its unit
    # noise, so its s sits at that stationary point (which is near 0: moving little is correct there).
    assert after[1] == pytest.approx(np.log(task_losses[1]), abs=0.25), (after, task_losses)
    # The separable classifier's loss keeps falling, its s follows it down: the task is upweighted.
    assert after[0] < -2.0, (after, task_losses)
    assert after[1] > after[0]
    assert history[-1] < history[0]


class _LossWithVariable(keras.losses.Loss):
    def __init__(self):
        super().__init__()
        self.scale = keras.Variable(1.0, name="scale")

    def call(self, y_true, y_pred):
        return self.scale * keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1) + self.scale


@pytest.mark.slow
def test_a_variable_inside_a_loss_is_not_trained_but_the_layer_is():
    """Why the task weights live in a layer: fit updates only the model's own variables."""
    x, y = _problem(128)
    model = _network()
    loss = _LossWithVariable()
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=loss)
    model.fit(x, y, epochs=2, verbose=0)
    assert float(numpy(loss.scale)) == 1.0  # its gradient is nonzero, yet it never moved
    paths = [v.path for v in kerasloss.UncertaintyWeightedModel(_network()).trainable_variables]
    assert any("log_variances" in p for p in paths)


@pytest.mark.slow
def test_uncertainty_model_saves_and_reloads_in_a_fresh_process(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = _problem(128)
    model = kerasloss.UncertaintyWeightedModel(_network(), kerasloss.MultiTaskLoss(false_negative_weight=2.0))
    model.compile(optimizer="adam")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "multitask.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "expected.npy", numpy(model.predict(x, verbose=0)))
    np.save(tmp_path / "log_variances.npy", numpy(model.weighting.log_variances))
    script = textwrap.dedent(
        f"""
        import keras, numpy as np
        import kerasloss
        d = {str(tmp_path)!r}
        model = keras.models.load_model(d + "/multitask.keras")
        assert type(model).__name__ == "UncertaintyWeightedModel", type(model)
        assert model.task_loss.get_config()["false_negative_weight"] == 2.0
        x = np.load(d + "/x.npy")
        np.testing.assert_allclose(model.predict(x, verbose=0), np.load(d + "/expected.npy"), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model.weighting.log_variances),
                                   np.load(d + "/log_variances.npy"))
        model.compile(optimizer="adam")
        model.fit(x, np.load(d + "/y.npy"), epochs=1, verbose=0)
        print("RELOADED")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "RELOADED" in result.stdout, result.stderr[-3000:]
