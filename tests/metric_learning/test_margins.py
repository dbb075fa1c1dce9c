"""ArcFace's additive angular margin in radians (pytorch-metric-learning takes degrees): past pi - m it follows
pml's rule and keeps falling, its gradient is finite where arccos's is not, and a margin in degrees is refused
naming its radians. The values against the papers and pml are in test_proxies.py with the other losses over
CosineProxies."""

import math

import numpy as np
import pytest

import kerasloss
from tests.backend import numpy, value_and_grad
from tests.reference import proxies as ref


def test_arcface_past_pi_minus_the_margin_uses_pml_rule_and_keeps_falling():
    """theta + m > pi: cos(theta) - m sin(m), continuous at theta = pi - m and decreasing in cos."""
    margin = 0.5
    cos = np.linspace(-1.0, 1.0, 201)
    cosines = np.stack([cos, np.zeros_like(cos)], axis=1)
    labels = np.zeros(len(cos), "int64")
    got = numpy(kerasloss.ArcFace(scale=8.0, margin=margin, reduction=None)(labels, cosines))
    np.testing.assert_allclose(got, ref.arcface(labels, cosines, 8.0, margin), rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(got) <= 1e-6)  # the loss never rises as the target cosine rises


def test_arcface_gradient_is_finite_where_arccos_is_not():
    """The target cosine at exactly +-1: arccos' slope is infinite there, the sin-cos form's is not."""
    labels = np.array([0, 1])
    cosines = np.array([[1.0, 0.2], [0.3, -1.0]], "float32")
    _, gradient = value_and_grad(lambda c: kerasloss.ArcFace()(labels, c), cosines)
    assert np.all(np.isfinite(gradient))


def test_arcface_margin_is_in_radians_as_documented():
    """ArcFace(margin=0.5) is pml's ArcFaceLoss(margin=28.65 degrees): the target logit is cos(theta + 0.5)."""
    cos = np.array([[math.cos(1.0), 0.0]])
    per_example = float(numpy(kerasloss.ArcFace(scale=1.0, margin=0.5, reduction=None)(np.array([0]), cos))[0])
    target = math.cos(1.5)
    assert per_example == pytest.approx(math.log(math.exp(target) + 1.0) - target, rel=1e-6)


def test_an_arcface_margin_in_degrees_is_refused_naming_its_radians():
    """pml's ArcFaceLoss takes degrees (28.6 by default); 28.6 radians here wrapped cos(theta + m) around
    and silently gave a zero loss and gradient (found in review)."""
    with pytest.raises(ValueError, match=r"Expected radians in \[0, pi\).*math.radians\(28.6\) = 0.4992"):
        kerasloss.ArcFace(margin=28.6)
    with pytest.raises(ValueError, match="radians"):
        kerasloss.arcface(np.array([0]), np.zeros((1, 2), "float32"), margin=math.pi)
