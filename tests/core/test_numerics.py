"""The numerically careful pieces, each against the value computed another way (math in float64, or the
exact limit): cross-entropy on any finite logit, sigmoid to full relative precision on both sides, 1 - exp(a)
near 0, u**gamma's gradient at 0, probabilities clipped inside the half-precision range, all-zero rows."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from kerasloss.core import numerics
from tests.backend import grad, numpy


def _f64_logit_crossentropy(t, x):
    return np.array([max(v, 0.0) - v * s + math.log1p(math.exp(-abs(v))) for s, v in zip(t, x, strict=True)])


def test_logit_crossentropy_is_exact_for_any_finite_logit():
    x = np.array([-1e4, -40.0, -1e-3, 0.0, 1e-3, 40.0, 1e4], "float32")
    t = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0], "float32")
    got = numpy(numerics.logit_crossentropy(t, x))
    np.testing.assert_allclose(got, _f64_logit_crossentropy(t.astype(float), x.astype(float)), rtol=2e-7)
    assert got[0] == 1e4 and got[-1] == 1e4  # no overflow, no cancellation for hard labels


def test_sigmoid_pair_keeps_the_small_side_exact():
    x = np.array([-80.0, -20.0, 0.0, 20.0, 80.0], "float32")  # exp(-80) = 1.8e-35: normal in float32
    high, low = (numpy(v) for v in numerics.sigmoid_pair(x))
    expected_low = np.exp(-np.abs(x.astype(float))) / (1 + np.exp(-np.abs(x.astype(float))))
    np.testing.assert_allclose(np.where(x >= 0, low, high), expected_low, rtol=1e-6)  # 1 - sigmoid(80) would be 0
    assert low[-1] > 0  # 1.8e-35, not 1 - 1 = 0


def test_one_minus_exp_near_zero_keeps_every_digit():
    a = np.array([-1e-10, -1e-4, -0.5, -1.0, -30.0], "float32")
    np.testing.assert_allclose(numpy(numerics.one_minus_exp(a)), -np.expm1(a.astype(float)), rtol=1e-6)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 2.5])
def test_focal_modulation_has_a_finite_gradient_at_zero(gamma):
    u = np.array([0.0, 1e-30, 0.25, 1.0], "float32")
    value = numpy(numerics.focal_modulation(ops.convert_to_tensor(u), gamma))
    np.testing.assert_allclose(value, np.power(u.astype(float), gamma), rtol=1e-6, atol=1e-30)
    gradient = numpy(grad(lambda v: ops.sum(numerics.focal_modulation(v, gamma)), u))
    assert np.isfinite(gradient).all(), gradient


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_clipped_probabilities_keep_both_logs_finite(dtype):
    p = ops.cast(np.array([0.0, 1.0]), dtype)
    clipped = ops.cast(numerics.clip_probability(p), "float32")
    assert numpy(ops.all(ops.isfinite(ops.log(clipped)))) and numpy(ops.all(ops.isfinite(ops.log(1.0 - clipped))))
    clipped_in_dtype = numerics.clip_probability(p)
    assert numpy(ops.cast(clipped_in_dtype[1], "float32")) < 1.0  # 1 - eps did not round back to 1


def test_an_all_zero_row_normalizes_to_zeros_not_nan():
    p = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 2.0]], "float32")
    np.testing.assert_array_equal(numpy(numerics.normalize_probabilities(p)), [[0, 0, 0], [0.25, 0.25, 0.5]])


def test_computed_in_float32_returns_the_input_dtype_and_the_float32_value():
    @numerics.computed_in_float32
    def norm(y_true, y_pred):
        return ops.sqrt(ops.sum(ops.square(y_pred), axis=-1))

    y_pred = ops.cast(np.full((1, 128), 25.0), "float16")  # 25^2 * 128 = 80000 overflows float16 inside
    out = norm(np.zeros((1,), "float32"), y_pred)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert float(numpy(ops.cast(out, "float32"))[0]) == pytest.approx(25 * math.sqrt(128), rel=1e-3)  # 282.8
    plain = ops.sqrt(ops.sum(ops.square(y_pred), axis=-1))  # the same in float16 throughout
    assert math.isinf(float(numpy(ops.cast(plain, "float32"))[0]))
