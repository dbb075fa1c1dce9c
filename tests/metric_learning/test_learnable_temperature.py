"""LearnableTemperature (CLIP's learned temperature): the dot product of two outputs is s * cosine with
s = 1 / T, checked against NumPy; s is clamped at max_scale; bad arguments are refused by name; the config
round-trips. Training NT-Xent with it on digits is in test_contrastive.py."""

import numpy as np
import pytest

import kerasloss
from tests.backend import numpy


def test_two_outputs_dot_to_the_scaled_cosine():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 8)), rng.normal(size=(2, 8))
    layer = kerasloss.LearnableTemperature(initial_temperature=0.25)
    out_a, out_b = (numpy(layer(x.astype("float32"))).astype(float) for x in (a, b))
    cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(np.sum(out_a * out_b, axis=1), cosine / 0.25, rtol=1e-5)
    assert float(numpy(layer.temperature)) == pytest.approx(0.25, rel=1e-6)


def test_the_scale_is_clamped_at_max_scale():
    layer = kerasloss.LearnableTemperature(initial_temperature=0.001, max_scale=100.0)  # 1 / T = 1000
    assert float(numpy(layer.temperature)) == pytest.approx(0.01, rel=1e-6)
    out = numpy(layer(np.array([[3.0, 4.0]], "float32")))
    np.testing.assert_allclose(out, [[0.6 * 10.0, 0.8 * 10.0]], rtol=1e-6)  # sqrt(100) times the unit vector


@pytest.mark.parametrize(
    ("kwargs", "argument"), [({"initial_temperature": 0.0}, "initial_temperature"), ({"max_scale": -1.0}, "max_scale")]
)
def test_bad_arguments_are_refused_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=f"Invalid value for argument `{argument}`"):
        kerasloss.LearnableTemperature(**kwargs)


def test_the_config_round_trips():
    layer = kerasloss.LearnableTemperature(initial_temperature=0.5, max_scale=50.0)
    again = kerasloss.LearnableTemperature.from_config(layer.get_config())
    assert (again.initial_temperature, again.max_scale) == (0.5, 50.0)
    assert float(numpy(again.temperature)) == pytest.approx(0.5, rel=1e-6)
