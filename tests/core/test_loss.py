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


def test_update_hyperparameters_checks_the_values_and_the_config_follows():
    loss = kerasloss.LDAM([30, 10, 2])
    loss.update_hyperparameters(class_weights=[0.5, 1.0, 2.0])
    assert loss.class_weights == (0.5, 1.0, 2.0)
    assert loss.get_config()["class_weights"] == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="argument `max_margin`"):
        loss.update_hyperparameters(max_margin=-1.0)
    assert loss.max_margin == 0.5  # a refused update changes nothing
    with pytest.raises(TypeError, match="no hyperparameter 'margin'"):
        loss.update_hyperparameters(margin=1.0)
