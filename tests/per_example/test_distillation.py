"""KL divergence and distillation: KLDivergence is Keras' on every input Keras takes (its own published
test cases included), KL(one-hot || logits) has cross-entropy's gradient, distillation's closed-form
gradient, the teacher receives none."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import compiled, grad, graph, numpy, value_and_grad
from tests.reference import formulas as ref


def _logits(seed, shape=(8, 6), scale=3.0):
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype("float32")


def test_kl_to_one_hot_has_crossentropy_gradient():
    logits = _logits(0)
    onehot = ref.one_hot(np.random.default_rng(1).integers(0, 6, 8), 6).astype("float32")
    kl = kerasloss.KLDivergence(from_logits=True, reduction="sum")
    ce = kerasloss.CategoricalCrossentropy(from_logits=True, reduction="sum")
    g_kl, g_ce = grad(lambda x: kl(onehot, x), logits), grad(lambda x: ce(onehot, x), logits)
    np.testing.assert_allclose(g_kl, g_ce, atol=1e-6)
    np.testing.assert_allclose(g_kl, np.exp(ref.log_softmax(logits)) - onehot, atol=1e-6)
    # ...and the same value, since the entropy of a one-hot target is 0.
    np.testing.assert_allclose(numpy(kl(onehot, logits)), numpy(ce(onehot, logits)), rtol=1e-6)


# Keras' own KLDivergenceTest (keras/src/losses/losses_test.py): y_true, y_pred and the expectations it
# derives from them, the per-element y_true log(y_true / y_pred) summed over the last axis.
KERAS_TRUE = np.asarray([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], np.float32).reshape(2, 3)
KERAS_PRED = np.asarray([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], np.float32).reshape(2, 3)
KERAS_TERMS = KERAS_TRUE * np.log(KERAS_TRUE / KERAS_PRED)


def test_kl_passes_keras_published_cases():
    loss = kerasloss.KLDivergence()
    assert numpy(loss(KERAS_TRUE, KERAS_PRED)) == pytest.approx(KERAS_TERMS.sum() / 2, abs=1e-3)
    assert numpy(loss(KERAS_TRUE, KERAS_PRED)) == pytest.approx(0.5961, abs=1e-4)  # the figure
    weighted = numpy(loss(KERAS_TRUE, KERAS_PRED, sample_weight=2.3))
    assert weighted == pytest.approx(2.3 * KERAS_TERMS.sum() / 2, abs=1e-3)
    per_row = np.asarray([1.2, 3.4], np.float32).reshape(2, 1)
    assert numpy(loss(KERAS_TRUE, KERAS_PRED, sample_weight=per_row)) == pytest.approx(
        (KERAS_TERMS * per_row).sum() / 2, abs=1e-3
    )
    steps = np.asarray([3, 6, 5, 0, 4, 2], np.float32).reshape(2, 3)
    timestep = numpy(loss(KERAS_TRUE.reshape(2, 3, 1), KERAS_PRED.reshape(2, 3, 1), sample_weight=steps))
    assert timestep == pytest.approx((KERAS_TERMS * steps).sum() / 6, abs=1e-3)
    assert numpy(loss(KERAS_TRUE, KERAS_PRED, sample_weight=0)) == pytest.approx(0.0, abs=1e-3)
    assert keras.backend.standardize_dtype(kerasloss.KLDivergence(dtype="bfloat16")(KERAS_TRUE, KERAS_PRED).dtype) == (
        "bfloat16"
    )


def test_kl_with_a_last_axis_of_one_depends_on_the_prediction():
    """Renormalizing q over an axis of size 1 made it 1 everywhere: a loss blind to y_pred (-0.2618)."""
    loss = kerasloss.KLDivergence()
    y_true, y_pred = KERAS_TRUE.reshape(2, 3, 1), KERAS_PRED.reshape(2, 3, 1)
    assert numpy(loss(y_true, y_pred)) == pytest.approx(0.1987, abs=1e-4)
    assert numpy(loss(y_true, y_pred)) != pytest.approx(numpy(loss(y_true, 0.5 * y_pred)), abs=1e-3)
    assert np.any(grad(lambda q: loss(y_true, q), y_pred) != 0)


def _kl_inputs(seed):
    """Inputs Keras' KLDivergence takes: unnormalized rows, exact zeros and ones, values above 1, and
    rank 3 with a last axis of 1."""
    rng = np.random.default_rng(seed)
    p, q = rng.random((6, 4)).astype("float32"), rng.random((6, 4)).astype("float32")
    p[0], q[1] = 0.0, 0.0
    p[2, 0], q[3, 1], q[4, 2] = 1.0, 1.0, 1.7
    yield p, q
    yield p.reshape(6, 4, 1), q.reshape(6, 4, 1)
    yield p / p.sum(-1, keepdims=True).clip(1e-3), q / q.sum(-1, keepdims=True).clip(1e-3)


@pytest.mark.parametrize("mode", ["eager", "graph", "compiled"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
def test_kl_equals_keras_builtin_on_what_it_accepts(mode, reduction):
    ours = kerasloss.KLDivergence(reduction=reduction)
    theirs = keras.losses.KLDivergence(reduction=reduction)
    run = {"eager": lambda f: f, "graph": graph, "compiled": compiled}[mode]
    for seed in range(3):
        for y_true, y_pred in _kl_inputs(seed):
            weights = np.random.default_rng(seed + 10).random(y_true.shape[:-1]).astype("float32")
            got = numpy(run(lambda t, p, w: ours(t, p, sample_weight=w))(y_true, y_pred, weights))
            want = numpy(theirs(y_true, y_pred, sample_weight=weights))
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_kl_with_zero_target_entries_is_finite_with_finite_gradient():
    p = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], np.float32)
    q = np.array([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5]], np.float32)
    value, g = value_and_grad(lambda x: kerasloss.KLDivergence()(p, x), q)
    assert np.isfinite(value) and np.all(np.isfinite(g))


@pytest.mark.parametrize("temperature", [1.0, 2.0, 8.0])
def test_distillation_gradient_is_temperature_times_softened_difference(temperature):
    teacher, student = _logits(2), _logits(3)
    loss = kerasloss.DistillationLoss(temperature=temperature, reduction="sum")
    g = grad(lambda s: loss(teacher, s), student)
    p_t = np.exp(ref.log_softmax(teacher / temperature))
    p_s = np.exp(ref.log_softmax(student / temperature))
    np.testing.assert_allclose(g, temperature * (p_s - p_t), atol=1e-5)


def test_distillation_sends_no_gradient_to_the_teacher():
    teacher, student = _logits(4), _logits(5)
    g = grad(lambda t: kerasloss.DistillationLoss()(t, student), teacher)
    np.testing.assert_array_equal(g, 0.0)


def test_distillation_is_zero_when_student_matches_teacher_and_finite_at_extremes():
    teacher = _logits(6)
    assert numpy(kerasloss.DistillationLoss()(teacher, teacher)) == pytest.approx(0.0, abs=1e-6)
    extreme = np.array([[1e4, -1e4, 0.0]], np.float32)
    value, g = value_and_grad(lambda s: kerasloss.DistillationLoss(temperature=1.0)(extreme, s), -extreme)
    assert np.isfinite(value) and np.all(np.isfinite(g))


@pytest.mark.parametrize("temperature", [0, -1.0, float("inf")])
def test_invalid_temperature_raises(temperature):
    with pytest.raises(ValueError, match=r"`temperature`.*Received: temperature="):
        kerasloss.DistillationLoss(temperature=temperature)
