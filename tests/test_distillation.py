"""KL divergence and distillation: KL(one-hot || q) has cross-entropy's gradient, distillation's
closed-form gradient, the teacher receives none, zeros in the target contribute nothing."""

import numpy as np
import pytest

import kerasloss
from tests import reference as ref
from tests.backend import grad, numpy, value_and_grad


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
