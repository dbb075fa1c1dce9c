"""MSE, MAE, Huber: closed-form gradients, the seed's outlier example, shape errors."""

import numpy as np
import pytest

import kerasloss
from tests.backend import grad, numpy

Y = np.array([[1.0, 2.0, 3.0, 4.0, 100.0]], np.float32)  # the seed's targets, one outlier
P = np.array([[1.1, 2.1, 2.9, 4.2, 5.0]], np.float32)


def test_outlier_example_mse_dominated_mae_and_huber_robust():
    assert numpy(kerasloss.MeanSquaredError()(Y, P)) == pytest.approx(1805.014, rel=1e-5)
    assert numpy(kerasloss.MeanAbsoluteError()(Y, P)) == pytest.approx(19.1, rel=1e-5)
    # Huber(1): 0.5 e^2 for the four small errors, 1 * (95 - 0.5) for the outlier.
    assert numpy(kerasloss.Huber()(Y, P)) == pytest.approx((0.005 * 3 + 0.02 + 94.5) / 5, rel=1e-5)


def test_mse_gradient_is_two_errors_over_n():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    g = grad(lambda q: kerasloss.MeanSquaredError()(y, q), p.astype("float32"))
    np.testing.assert_allclose(g, 2 * (p - y) / p.size, rtol=1e-5)


def test_mae_gradient_is_sign_over_n():
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    g = grad(lambda q: kerasloss.MeanAbsoluteError()(y, q), p.astype("float32"))
    np.testing.assert_allclose(g, np.sign(p - y) / p.size, rtol=1e-5)


def test_huber_gradient_is_clipped_error():
    rng = np.random.default_rng(2)
    y, p = rng.normal(size=(4, 6)), 3 * rng.normal(size=(4, 6))
    g = grad(lambda q: kerasloss.Huber(delta=0.7)(y, q), p.astype("float32"))
    np.testing.assert_allclose(g, np.clip(p - y, -0.7, 0.7) / p.size, rtol=1e-5)


def test_huber_huge_errors_stay_finite_in_float16():
    y = np.zeros((2, 3), np.float32)
    p = np.full((2, 3), 6e4, np.float32)  # e^2 = 3.6e9 would overflow float16; the linear part does not
    per_sample = numpy(kerasloss.Huber(dtype="float16", reduction=None)(y, p)).astype(np.float32)
    np.testing.assert_allclose(per_sample, 6e4 - 0.5, rtol=1e-3)


@pytest.mark.parametrize("cls", [kerasloss.MeanSquaredError, kerasloss.MeanAbsoluteError, kerasloss.Huber])
def test_mismatched_shapes_raise_instead_of_broadcasting(cls):
    with pytest.raises(ValueError, match=r"same shape.*\(8, 3\).*\(8, 1\)"):
        cls()(np.zeros((8, 3)), np.zeros((8, 1)))


def test_rank_one_targets_align_with_single_output():
    y, p = np.arange(4.0), np.arange(4.0).reshape(4, 1) + 1
    assert numpy(kerasloss.MeanSquaredError()(y, p)) == pytest.approx(1.0)


@pytest.mark.parametrize("delta", [0, -1.0, float("nan"), float("inf"), "1"])
def test_huber_rejects_bad_delta(delta):
    with pytest.raises(ValueError, match=r"`delta`.*Received: delta="):
        kerasloss.Huber(delta=delta)
