"""Training diagnostics: gradient norms against the closed form, and each failure mode the loss monitor
knows provoked for real (with a healthy run beside it that must stay quiet)."""

import glob
import math

import keras
import numpy as np
import pytest

import kerasloss
from kerasloss.tools.callbacks import (
    Diagnosis,
    GradientNormLogger,
    LossMonitor,
    constant_predictor_loss,
    embedding_spread,
    layer_gradient_norms,
)


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


@pytest.mark.slow
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


@pytest.mark.slow
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


def _dead_relu_model(loss, inputs=2, activation="sigmoid"):
    """Hidden ReLUs that never fire (bias -10 on inputs of a few units): the output sees a constant input
    and can only learn one value: the constant-prediction failure, reached by training, not set by hand."""
    model = keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(8, activation="relu", bias_initializer=keras.initializers.Constant(-10.0)),
            keras.layers.Dense(1, activation=activation),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("loss", [kerasloss.MeanSquaredError(), kerasloss.BinaryCrossentropy()], ids=["mse", "bce"])
def test_monitor_recognises_constant_predictions(loss):
    """The best constant probability is the base rate p for both: MSE p (1 - p), cross-entropy H(p)."""
    rng = _seed()
    x, y = _circle(rng)
    model = _dead_relu_model(loss)
    monitor = LossMonitor(data=(x, y), verbose=False)
    model.fit(x, y, epochs=25, batch_size=64, verbose=0, callbacks=[monitor])
    assert _kinds(monitor) == ["constant"]
    p = float(y.mean())
    assert loss.name in monitor.diagnoses[0].message
    expected = p * (1 - p) if loss.name == "mean_squared_error" else -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert f"{expected:.4g}" in monitor.diagnoses[0].message


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


def _rare(rng, n=4000, rate=0.02, shift=0.6):
    """About 2% positives with a weak but real signal: the positives' first two of eight features are
    shifted by `shift` standard deviations, so a model ranks them well above chance yet its loss stays
    near a constant predictor's (within 10-20%) and its accuracy at the majority rate."""
    y = (rng.random((n, 1)) < rate).astype("float32")
    x = rng.normal(size=(n, 8)).astype("float32")
    x[:, :2] += shift * y
    return x, y


def _average_precision(y, scores):
    """Area under the precision-recall curve (average precision), by its definition: the mean over the
    positives of the precision at each one's rank."""
    hits = np.asarray(y).reshape(-1)[np.argsort(-np.asarray(scores).reshape(-1), kind="stable")]
    return float(np.sum(np.cumsum(hits) / np.arange(1, len(hits) + 1) * hits) / hits.sum())


def _reference_best_constant(y, gamma=0.0, alpha=None):
    """min over logits z of the mean focal loss of predicting z for every example (gamma = 0, alpha = None:
    binary cross-entropy), on a dense grid, in NumPy from the formula."""
    z = np.linspace(-15.0, 15.0, 300_001)
    log_p, log_q = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)  # log sigmoid(z), log(1 - sigmoid(z))
    pos = (1.0 if alpha is None else alpha) * np.exp(gamma * log_q) * -log_p
    neg = (1.0 if alpha is None else 1.0 - alpha) * np.exp(gamma * log_p) * -log_q
    rate = float(np.mean(y))
    return float(np.min(rate * pos + (1.0 - rate) * neg))


_RARE_LOSSES = [
    (kerasloss.FocalLoss(alpha=0.75, from_logits=True), {"gamma": 2.0, "alpha": 0.75}),
    (kerasloss.BinaryCrossentropy(from_logits=True), {}),
]


def _entropy(rate):
    return -(rate * math.log(rate) + (1 - rate) * math.log(1 - rate))


def _mean_squared_error_reduced(y_true, y_pred):
    """A loss function that reduces by itself (one value for the whole batch)."""
    return keras.ops.mean(keras.ops.square(y_true - y_pred))


def test_constant_predictor_loss_is_the_base_rate_for_cross_entropy_and_mse_in_every_form():
    """Closed forms: cross-entropy's best constant is the base rate r (log(r / (1 - r)) as a logit) with loss
    H(r); MSE's is r with loss r (1 - r). Objects (ours, Keras'), names, functions, one-entry dicts."""
    rng = np.random.default_rng(2)
    y = (rng.random((1000, 1)) < 0.1).astype("float32")
    r = float(y.mean())
    logit = math.log(r / (1 - r))
    cases = [
        (kerasloss.BinaryCrossentropy(from_logits=True), _entropy(r), logit),
        (kerasloss.BinaryCrossentropy(), _entropy(r), r),
        (keras.losses.BinaryCrossentropy(from_logits=True), _entropy(r), logit),
        ("binary_crossentropy", _entropy(r), r),
        ({"out": kerasloss.MeanSquaredError()}, r * (1 - r), r),
        (_mean_squared_error_reduced, r * (1 - r), r),
    ]
    for loss, value, constant in cases:
        best, at = constant_predictor_loss(loss, y)
        assert best == pytest.approx(value, rel=1e-5), loss
        assert at == pytest.approx(constant, abs=5e-3), loss
    weights = np.where(y[:, 0] > 0, 4.0, 1.0)  # weighted, the share of ones is 4r / (4r + 1 - r)
    weighted = 4 * r / (4 * r + 1 - r)
    assert constant_predictor_loss(kerasloss.BinaryCrossentropy(), y, weights)[0] == pytest.approx(
        _entropy(weighted), rel=1e-5
    )


def test_constant_predictor_loss_finds_focal_losses_best_constant_away_from_the_base_rate():
    """Focal loss weighs each example by its own error, so its best constant is not the base rate's: the
    search matches the NumPy reference's minimum, for logits and probabilities, ours and Keras' focal loss."""
    rng = np.random.default_rng(3)
    y = (rng.random((2000, 1)) < 0.02).astype("float32")
    expected = _reference_best_constant(y, gamma=2.0, alpha=0.75)
    best, logit = constant_predictor_loss(kerasloss.FocalLoss(alpha=0.75, from_logits=True), y)
    assert best == pytest.approx(expected, rel=1e-5)
    assert abs(logit - math.log(y.mean() / (1 - y.mean()))) > 1  # far from the base rate's logit
    best, probability = constant_predictor_loss(kerasloss.FocalLoss(alpha=0.75), y)
    assert best == pytest.approx(expected, rel=1e-5)
    assert probability == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-3)
    keras_focal = keras.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)  # no alpha by default
    assert constant_predictor_loss(keras_focal, y)[0] == pytest.approx(_reference_best_constant(y, gamma=2.0), rel=1e-5)


def test_constant_predictor_loss_refuses_what_is_not_one_loss_per_example():
    y = np.array([[0.0], [1.0], [0.0]], "float32")
    with pytest.raises(ValueError, match="one loss"):
        constant_predictor_loss({"a": kerasloss.MeanSquaredError(), "b": kerasloss.MeanSquaredError()}, y)
    with pytest.raises(ValueError, match="values for"):
        constant_predictor_loss(lambda t, p: keras.ops.concatenate([t, p]), y)


def test_monitor_skips_the_constant_check_under_a_loss_it_cannot_score():
    """Rather than guess from another loss's constant: a dead network, an epoch loss at H(base rate)."""

    def unscorable(y_true, y_pred):
        raise ValueError("scored only inside the training step")

    rng = _seed()
    x, y = _circle(rng)
    model = _dead_relu_model(kerasloss.BinaryCrossentropy())
    model.compile(loss=unscorable)
    monitor = LossMonitor(data=(x, y), verbose=False)
    monitor.set_model(model)
    monitor.on_train_begin()
    for epoch in range(5):
        monitor.on_epoch_begin(epoch)
        monitor.on_epoch_end(epoch, {"loss": _entropy(float(y.mean()))})
    assert monitor.diagnoses == []


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "hyperparameters"), _RARE_LOSSES, ids=["focal", "bce"])
def test_monitor_stays_quiet_on_a_healthy_model_with_rare_positives(loss, hyperparameters):
    """The issue: a healthy focal-loss model on 2% positives was told it predicts one value for every
    input (its focal loss was compared with binary cross-entropy's and MSE's constants, and accuracy is
    always near the majority rate on such labels). Its predictions vary and rank the positives."""
    rng = _seed()
    x, y = _rare(rng)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    monitor = LossMonitor(data=(x, y), verbose=False)
    model.fit(x, y, epochs=6, batch_size=128, verbose=0, callbacks=[monitor])
    assert monitor.diagnoses == []
    assert _average_precision(y, model.predict(x, verbose=0)) > 4 * y.mean()  # it learned: healthy


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "hyperparameters"), _RARE_LOSSES, ids=["focal", "bce"])
def test_monitor_recognises_constant_logits_with_rare_positives(loss, hyperparameters):
    """A dead network on the same labels learns only the best constant logit under its own loss; the
    diagnosis reports that constant's loss (for focal loss not the base rate's: the search finds it)."""
    rng = _seed()
    x, y = _rare(rng)
    model = _dead_relu_model(loss, inputs=8, activation=None)
    monitor = LossMonitor(data=(x, y), verbose=False)
    model.fit(x, y, epochs=8, batch_size=128, verbose=0, callbacks=[monitor])
    assert _kinds(monitor) == ["constant"]
    assert loss.name in monitor.diagnoses[0].message
    assert f"{_reference_best_constant(y, **hyperparameters):.4g}" in monitor.diagnoses[0].message


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
    with pytest.raises(ValueError, match=r"Invalid value for argument `patience`. Expected .* Received: patience=0"):
        LossMonitor(patience=0)
    with pytest.raises(ValueError, match="tolerance"):
        LossMonitor(tolerance=1.0)
    with pytest.raises(ValueError, match="min_spread"):
        LossMonitor(min_spread=0.0)
    with pytest.raises(ValueError, match="explode_factor"):
        LossMonitor(explode_factor=1.0)
    with pytest.raises(ValueError, match="collapse_ratio"):
        LossMonitor(collapse_ratio=1.5)
    with pytest.raises(ValueError, match="every"):
        GradientNormLogger(data=(np.zeros((1, 1)), np.zeros((1, 1))), every=0)


@pytest.mark.parametrize("loss", [kerasloss.BarlowTwins(), kerasloss.VICReg(), kerasloss.NTXent()], ids=str)
def test_monitor_watches_every_loss_that_declares_embeddings(loss):
    """The issue: the monitor chose from a list of class names that lacked BarlowTwins, VICReg and SimSiam,
    so their collapse went unreported. It now reads what the loss declares (`inputs`)."""
    rng = _seed()
    x = rng.normal(size=(64, 2, 6)).astype("float32")
    model = keras.Sequential([keras.Input((2, 6)), keras.layers.Dense(4)])
    model.compile(loss=loss)
    monitor = LossMonitor(data=(x, np.zeros(64, "float32")), verbose=False)
    monitor.set_model(model)
    monitor.on_train_begin()
    assert monitor._task_kind == "embedding"
    model.layers[-1].set_weights([np.zeros((6, 4), "float32"), np.ones(4, "float32")])  # every input to one point
    monitor.on_epoch_begin(0)
    monitor.on_epoch_end(0, {"loss": 1.0})
    assert _kinds(monitor) == ["collapse"]
