"""LiftedStructure: TensorFlow Addons' value where TFA is finite and zero where it is NaN, duplicates and far-apart
points."""

import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, numpy, value_and_grad
from tests.reference import metric as ref

# (batch, classes, dim): one example, one class, all singletons, a few classes, the 40.
LAYOUTS = [(1, 1, 3), (2, 1, 3), (2, 2, 3), (5, 1, 4), (6, 6, 4), (12, 3, 4), (17, 5, 6), (40, 7, 8)]


def _batch(batch, classes, dim, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    labels = np.arange(batch) % classes
    rng.shuffle(labels)
    return labels, (scale * rng.normal(size=(batch, dim))).astype("float64")


def _with_duplicates(seed=3):
    """Ties and d = 0: every point twice (integer coordinates: exact distances), labels crossing the copies."""
    points = np.random.default_rng(seed).integers(-2, 3, size=(6, 3)).astype("float64")
    return np.concatenate([np.arange(6) % 3, np.arange(6) % 2]), np.concatenate([points, points])


def _per_anchor(loss, labels, x):
    return numpy(loss(labels, x)).astype(np.float64)


@pytest.mark.parametrize(("batch", "classes", "dim"), LAYOUTS)
@pytest.mark.parametrize("margin", [0.5, 1.0, 3.0])
def test_lifted_structure_is_tfa_where_tfa_is_finite_and_zero_where_it_is_nan(batch, classes, dim, margin):
    labels, x = _batch(batch, classes, dim)
    got = float(numpy(kerasloss.LiftedStructure(margin, dtype="float64")(labels, x)))
    rtol = 1e-9 if BACKEND == "tensorflow" else 2e-6  # see test_multi_similarity_equals_pytorch_metric_learning
    tfa = ref.lifted_structure(labels, x, margin)
    if np.isnan(tfa):  # no positive pair (0 / 0) or one class (log 0)
        assert got == 0.0
        assert ref.lifted_structure_paper(labels, x, margin) == 0.0
    else:
        assert got == pytest.approx(tfa, rel=rtol, abs=1e-12)
    assert got == pytest.approx(ref.lifted_structure_paper(labels, x, margin), rel=rtol, abs=1e-12)
    per_anchor = _per_anchor(kerasloss.LiftedStructure(margin, reduction=None), labels, x)
    np.testing.assert_allclose(per_anchor, ref.lifted_structure_per_anchor(labels, x, margin), rtol=2e-5, atol=2e-6)


def test_lifted_structure_with_duplicates_and_far_apart_points():
    """d = 0 pairs, and distances near 500 (TFA's float32 exp underflowed there to NaN)."""
    labels, x = _with_duplicates()
    value, gradient = value_and_grad(lambda e: kerasloss.LiftedStructure()(labels, e), x)
    assert value == pytest.approx(ref.lifted_structure_paper(labels, x), rel=1e-5)
    assert np.all(np.isfinite(gradient))
    labels, far = _batch(12, 3, 4, scale=300.0)
    got = float(numpy(kerasloss.LiftedStructure()(labels, far.astype("float32"))))
    assert np.isfinite(got) and got == pytest.approx(ref.lifted_structure_paper(labels, far), rel=1e-4)
