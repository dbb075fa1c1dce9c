"""The Loss base class: a half-precision loss reduces in float32 and returns its own dtype."""

import keras
import numpy as np
import pytest

import kerasloss


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_half_precision_loss_reduces_in_float32(dtype):
    """Each example's 40,000 fits float16 (max 65,504); Keras' float16 sum of three of them would not."""
    errors = kerasloss.MeanSquaredError(dtype=dtype)(np.zeros((3, 1)), np.full((3, 1), 200.0))
    assert keras.backend.standardize_dtype(errors.dtype) == dtype
    assert float(errors) == pytest.approx(40000.0, rel=1e-2)
    rng = np.random.default_rng(0)
    x, labels = (rng.normal(size=(6, 4)) * 100).astype("float32"), np.array([0, 0, 1, 1, 2, 2])
    snn = kerasloss.SoftNearestNeighbor(dtype=dtype)(labels, x.astype(dtype))
    every = kerasloss.SoftNearestNeighbor(reduction=None)(labels, x)
    expected = float(np.mean(keras.ops.convert_to_numpy(every)))
    assert np.isfinite(float(snn)) and float(snn) == pytest.approx(expected, rel=1e-2)
