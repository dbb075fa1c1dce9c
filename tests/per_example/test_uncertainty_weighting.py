"""UncertaintyWeighting (Kendall et al. 2018): the total is sum_i c_i exp(-s_i) L_i + s_i / 2 with c_i = 1/2
for a Gaussian (regression) task and 1 for a softmax one, computed here by hand; the gradient on s_i is
-c_i exp(-s_i) L_i + 1/2; bad likelihoods are refused; the layer round-trips its config."""

import math

import numpy as np
import pytest

import kerasloss
from tests.backend import numpy


def _layer(log_variances):
    layer = kerasloss.UncertaintyWeighting(("softmax", "gaussian"))
    layer.log_variances.assign(np.array(log_variances, "float32"))
    return layer


def test_the_total_is_kendall_formula():
    s, losses = (0.3, -0.7), np.array([0.7, 2.0], "float32")
    expected = 1.0 * math.exp(-s[0]) * 0.7 + s[0] / 2 + 0.5 * math.exp(-s[1]) * 2.0 + s[1] / 2
    assert float(numpy(_layer(s)(losses))) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(numpy(_layer(s).task_weights), [math.exp(-0.3), 0.5 * math.exp(0.7)], rtol=1e-6)


def test_the_gradient_on_each_log_variance_is_the_closed_form():
    """Central differences of the layer's output in float64 arithmetic against -c_i exp(-s_i) L_i + 1/2."""
    losses, s, h = np.array([0.7, 2.0], "float32"), np.array([0.2, -0.4]), 1e-2
    numeric = []
    for i in range(2):
        step = np.eye(2)[i] * h
        high, low = float(numpy(_layer(s + step)(losses))), float(numpy(_layer(s - step)(losses)))
        numeric.append((high - low) / (2 * h))
    closed = [-math.exp(-0.2) * 0.7 + 0.5, -0.5 * math.exp(0.4) * 2.0 + 0.5]
    np.testing.assert_allclose(numeric, closed, rtol=1e-3)


def test_an_unknown_likelihood_is_refused_by_name():
    with pytest.raises(ValueError, match=r"Invalid value for argument `likelihoods`.*Received: likelihoods='poisson'"):
        kerasloss.UncertaintyWeighting(("softmax", "poisson"))


def test_the_config_round_trips():
    layer = kerasloss.UncertaintyWeighting(("gaussian", "gaussian", "softmax"))
    again = kerasloss.UncertaintyWeighting.from_config(layer.get_config())
    assert again.likelihoods == ("gaussian", "gaussian", "softmax")
    np.testing.assert_allclose(numpy(again.task_weights), [0.5, 0.5, 1.0])
