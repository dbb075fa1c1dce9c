"""Training diagnostics: gradient norms against the closed form, and each failure mode the loss monitor
knows provoked for real (with a healthy run beside it that must stay quiet)."""

import glob
import math

import keras
import numpy as np
import pytest

import kerasloss
from kerasloss.callbacks import Diagnosis, GradientNormLogger, LossMonitor, embedding_spread, layer_gradient_norms


def _seed():
    keras.utils.set_random_seed(0)
    return np.random.default_rng(0)


# ---- embedding_spread, gradient norms ----


def test_embedding_spread_is_zero_for_one_point_and_about_one_for_a_cloud():
    rng = np.random.default_rng(1)
    assert embedding_spread(np.tile([[3.0, -1.0, 2.0]], (50, 1))) == pytest.approx(0.0, abs=1e-9)
    cloud = rng.normal(size=(4000, 16))  # centred: distance to centroid ~ norm
    assert embedding_spread(cloud) == pytest.approx(1.0, abs=0.02)
    assert embedding_spread(cloud.reshape(2000, 2, 16)) == pytest.approx(embedding_spread(cloud))


def test_layer_gradient_norms_match_the_closed_form_of_mse_on_a_linear_layer():
    """L = mean((x w + b - y)^2): dL/dw = 2/N x^T r, dL/db = 2/N sum r, with r the residuals."""
    rng = _seed()
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="linear")])
    model.compile(loss=kerasloss.MeanSquaredError())
    w, b = (v.astype(np.float64) for v in model.get_layer("linear").get_weights())
    r = x.astype(np.float64) @ w + b - y
    expected = math.sqrt(np.sum((2 / 32 * x.T @ r) ** 2) + np.sum(2 / 32 * r.sum(axis=0)) ** 2)

    norms = layer_gradient_norms(model, (x, y), batch_size=32)
    assert norms == {"linear": pytest.approx(expected, rel=1e-5)}
    halves = layer_gradient_norms(model, (x, y), batch_size=16)  # the mean of the two batches' norms
    r1, r2 = r[:16], r[16:]
    per_half = [
        math.sqrt(np.sum((2 / 16 * xs.T @ rs) ** 2) + np.sum(2 / 16 * rs.sum()) ** 2)
        for xs, rs in ((x[:16].astype(np.float64), r1), (x[16:].astype(np.float64), r2))
    ]
    assert halves["linear"] == pytest.approx(np.mean(per_half), rel=1e-5)


def test_gradient_norm_logger_records_every_layer_before_and_after_each_epoch(tmp_path):
    pytest.importorskip("tensorflow", reason="the TensorBoard writer is TensorFlow's (a dependency of kerasloss)")
    rng = _seed()
    x = rng.normal(size=(64, 2)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(4, activation="relu", name="hidden"), keras.layers.Dense(1, name="out")]
    )
    model.compile(optimizer="sgd", loss=kerasloss.BinaryCrossentropy(from_logits=True))
    logger = GradientNormLogger(data=(x, y), log_dir=str(tmp_path))
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[logger])
    assert logger.epochs == [0, 1, 2, 3]
    assert set(logger.history) == {"hidden", "out"}
    assert all(len(v) == 4 and all(n > 0 and math.isfinite(n) for n in v) for v in logger.history.values())
    assert logger.history["out"][-1] == pytest.approx(layer_gradient_norms(model, (x, y))["out"], rel=1e-5)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    events = EventAccumulator(glob.glob(str(tmp_path / "events.out.tfevents*"))[0], size_guidance={"tensors": 0})
    events.Reload()
    assert set(events.Tags()["tensors"]) == {"gradient_norm/hidden", "gradient_norm/out"}
    logged = [(e.step, float(make_ndarray(e.tensor_proto))) for e in events.Tensors("gradient_norm/out")]
    assert [s for s, _ in logged] == [0, 1, 2, 3]
    assert [v for _, v in logged] == pytest.approx(logger.history["out"], rel=1e-6)


def test_cross_entropy_gives_larger_gradients_than_mse_on_a_saturated_sigmoid():
    """The lesson's claim in its sharpest form: confidently wrong sigmoid outputs give MSE a vanishing
    gradient (it carries sigma'(z)) and cross-entropy a gradient of about 1 per example."""
    rng = _seed()
    x = rng.normal(size=(64, 2)).astype("float32")
    y = np.ones((64, 1), "float32")
    norms = {}
    for name, loss in (("mse", kerasloss.MeanSquaredError()), ("bce", kerasloss.BinaryCrossentropy())):
        model = keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(1, activation="sigmoid", bias_initializer=keras.initializers.Constant(-8.0)),
            ]
        )
        model.compile(loss=loss)
        norms[name] = next(iter(layer_gradient_norms(model, (x, y)).values()))
    assert norms["bce"] > 100 * norms["mse"]


# ---- the loss monitor ----


def _circle(rng, n=512):
    x = rng.uniform(-2, 2, size=(n, 2)).astype("float32")
    y = (np.sum(x**2, axis=1, keepdims=True) < 1.5).astype("float32")
    return x, y


def _kinds(monitor):
    return [d.kind for d in monitor.diagnoses]


def test_monitor_reports_the_first_nan_batch_and_stops():
    rng = _seed()
    x, y = _circle(rng, 256)
    x[3 * 32 + 5, 0] = np.nan  # a bad value in batch 3 of the first epoch
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=kerasloss.BinaryCrossentropy(from_logits=True))
    monitor = LossMonitor(verbose=False)
    history = model.fit(x, y, epochs=5, batch_size=32, shuffle=False, verbose=0, callbacks=[monitor])
    assert monitor.diagnoses[0] == Diagnosis("nan", 1, 3, monitor.diagnoses[0].message)
    assert "batch 3" in monitor.diagnoses[0].message and "from_logits=True" in monitor.diagnoses[0].message
    assert len(history.history["loss"]) == 1  # stopped


def _dead_relu_model(loss):
    """Hidden ReLUs that never fire (bias -10 on inputs in [-2, 2]): the output sees a constant input and
    can only learn the base rate: the constant-prediction failure, reached by training, not set by hand."""
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(8, activation="relu", bias_initializer=keras.initializers.Constant(-10.0)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    return model


@pytest.mark.slow
@pytest.mark.parametrize(
    ("loss", "named"),
    [(kerasloss.MeanSquaredError(), "MSE"), (kerasloss.BinaryCrossentropy(), "binary cross-entropy")],
)
def test_monitor_recognises_constant_predictions(loss, named):
    rng = _seed()
    x, y = _circle(rng)
    model = _dead_relu_model(loss)
    monitor = LossMonitor(data=(x, y), verbose=False)
    model.fit(x, y, epochs=25, batch_size=64, verbose=0, callbacks=[monitor])
    assert _kinds(monitor) == ["constant"]
    p = float(y.mean())
    assert named in monitor.diagnoses[0].message
    expected = p * (1 - p) if named == "MSE" else -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert f"{expected:.4f}" in monitor.diagnoses[0].message


@pytest.mark.slow
def test_monitor_stays_quiet_on_a_healthy_run():
    rng = _seed()
    x, y = _circle(rng)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=kerasloss.BinaryCrossentropy())
    monitor = LossMonitor(data=(x, y), verbose=False)
    history = model.fit(x, y, epochs=25, batch_size=64, verbose=0, callbacks=[monitor])
    assert monitor.diagnoses == []
    assert history.history["loss"][-1] < 0.3


def test_monitor_recognises_an_exploding_loss_before_it_overflows():
    """Plain gradient descent on least squares diverges once the step exceeds 2 / (largest curvature)."""
    rng = _seed()
    x = rng.normal(size=(128, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1.5), loss=kerasloss.MeanSquaredError())
    monitor = LossMonitor(verbose=False, stop_on=("nan", "exploding"))
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0, callbacks=[monitor])
    assert _kinds(monitor) == ["exploding"]
    assert all(math.isfinite(v) for v in history.history["loss"])
    assert len(history.history["loss"]) < 10  # stopped on it


def _pairs(rng, n=512, classes=5, dim=6):
    centres = rng.normal(scale=3.0, size=(classes, dim))
    a, b = rng.integers(0, classes, size=n), rng.integers(0, classes, size=n)
    b = np.where(rng.random(n) < 0.5, a, b)  # about half the pairs similar
    points = np.stack([centres[a], centres[b]], axis=1) + rng.normal(size=(n, 2, dim))
    return points.astype("float32"), (a == b).astype("float32")


@pytest.mark.slow
@pytest.mark.parametrize(("margin", "collapses"), [(0.0, True), (2.0, False)])
def test_monitor_recognises_embedding_collapse(margin, collapses):
    """Margin contrastive loss with margin 0 only pulls similar pairs together: nothing stops every
    embedding going to the same point. With a margin, dissimilar pairs hold it apart."""
    rng = _seed()
    x, similar = _pairs(rng)
    model = keras.Sequential([keras.Input((2, 6)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=kerasloss.ContrastiveLoss(margin=margin))
    monitor = LossMonitor(data=(x, similar), verbose=False)
    model.fit(x, similar, epochs=30, batch_size=64, verbose=0, callbacks=[monitor])
    assert _kinds(monitor) == (["collapse"] if collapses else [])


def test_monitor_validates_its_arguments():
    with pytest.raises(ValueError, match="stop_on"):
        LossMonitor(stop_on=("nan", "boredom"))
    with pytest.raises(ValueError, match="patience"):
        LossMonitor(patience=0)
    with pytest.raises(ValueError, match="explode_factor"):
        LossMonitor(explode_factor=1.0)
    with pytest.raises(ValueError, match="collapse_ratio"):
        LossMonitor(collapse_ratio=1.5)
    with pytest.raises(ValueError, match="every"):
        GradientNormLogger(data=(np.zeros((1, 1)), np.zeros((1, 1))), every=0)
