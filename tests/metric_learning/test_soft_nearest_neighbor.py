"""SoftNearestNeighbor against the paper's formula (tests/reference/metric.py), exact where exp underflows,
singletons counting zero."""

import numpy as np
import pytest

import kerasloss
from tests.backend import numpy
from tests.reference import metric as ref

# (batch, classes, dim): one example, one class, all singletons, a few classes, the 40.
LAYOUTS = [(1, 1, 3), (2, 1, 3), (2, 2, 3), (5, 1, 4), (6, 6, 4), (12, 3, 4), (17, 5, 6), (40, 7, 8)]


def _batch(batch, classes, dim, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    labels = np.arange(batch) % classes
    rng.shuffle(labels)
    return labels, (scale * rng.normal(size=(batch, dim))).astype("float64")


def _per_anchor(loss, labels, x):
    return numpy(loss(labels, x)).astype(np.float64)


@pytest.mark.parametrize(("batch", "classes", "dim"), LAYOUTS)
@pytest.mark.parametrize("temperature", [0.1, 1.0, 10.0])
def test_soft_nearest_neighbor_matches_the_paper(batch, classes, dim, temperature):
    labels, x = _batch(batch, classes, dim)
    got = _per_anchor(kerasloss.SoftNearestNeighbor(temperature, reduction=None), labels, x)
    np.testing.assert_allclose(got, ref.soft_nearest_neighbor(labels, x, temperature), rtol=2e-5, atol=2e-6)


def test_soft_nearest_neighbor_is_exact_where_exp_underflows():
    """Squared distances of 1e4 at T = 1: exp underflows to 0 / 0 (TF-Similarity: log(1e-9)); log space is exact."""
    labels, x = _batch(10, 3, 4, scale=60.0)
    got = _per_anchor(kerasloss.SoftNearestNeighbor(reduction=None), labels, x.astype("float32"))
    expected = ref.soft_nearest_neighbor(labels, x)
    assert expected.max() > 100  # far beyond TF-Similarity's cap of -log(1e-9) = 20.7
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_soft_nearest_neighbor_averages_over_every_anchor_singletons_counting_zero():
    labels = np.array([0, 0, 1, 2])  # anchors 2 and 3 are singletons
    x = np.random.default_rng(0).normal(size=(4, 3))
    per_anchor = _per_anchor(kerasloss.SoftNearestNeighbor(reduction=None), labels, x)
    assert per_anchor[2] == 0 and per_anchor[3] == 0 and per_anchor[0] > 0
    assert float(numpy(kerasloss.SoftNearestNeighbor()(labels, x))) == pytest.approx(per_anchor.sum() / 4, rel=1e-6)
