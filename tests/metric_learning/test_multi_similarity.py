"""MultiSimilarity against an independent NumPy reference written from the paper (tests/reference/metric.py),
pytorch-metric-learning 2.9's values stored as literals (tests/literals/metric.py), ties and duplicates, and a
one-class batch."""

import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, numpy, value_and_grad
from tests.literals import metric as pml
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


@pytest.mark.parametrize("row", pml.MULTI_SIMILARITY, ids=lambda r: f"{r['case']}-{r['alpha']}-{r['epsilon']}")
def test_multi_similarity_equals_pytorch_metric_learning(row):
    """pml 2.9's MultiSimilarityLoss (with MultiSimilarityMiner for epsilon), computed once in float64."""
    case = pml.CASES[row["case"]]
    labels, x = np.asarray(case["labels"]), np.asarray(case["x"], np.float64)
    loss = kerasloss.MultiSimilarity(
        row["alpha"], row["beta"], row["base"], row["epsilon"], row["distance"], reduction=None, dtype="float64"
    )
    result = loss(labels, x)
    got = numpy(result).astype(np.float64)
    # float64 on TensorFlow: pml's values to 1e-9. On JAX and PyTorch, Keras' type promotion demotes any
    # 64-bit result to 32 bits (keras.src.backend.common.dtypes, BIT64_TO_BIT32_DTYPE, "aligned with JAX's
    # default"): float32's 2e-6 there.
    rtol, atol = (1e-9, 1e-12) if BACKEND == "tensorflow" else (2e-6, 1e-7)
    if row["pml_zero_shortcut"]:
        # pml returns 0 whenever at most one pair of each kind survives; the formula is used here instead.
        expected = ref.multi_similarity(
            labels, x, row["alpha"], row["beta"], row["base"], row["epsilon"], row["distance"]
        )
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
        assert row["loss"] == 0.0
        return
    np.testing.assert_allclose(got, row["per_anchor"], rtol=rtol, atol=atol)
    assert got.mean() == pytest.approx(row["loss"], rel=rtol, abs=atol)


def test_multi_similarity_differs_from_pml_only_where_pml_takes_its_shortcut():
    """The one input where pml's length <= 1 shortcut hides a non-zero formula value (documented)."""
    labels, x = pml.CASES["single_mined_pair"]["labels"], np.asarray(pml.CASES["single_mined_pair"]["x"])
    got = float(numpy(kerasloss.MultiSimilarity(epsilon=0.1)(np.asarray(labels), x)))
    assert got == pytest.approx(ref.multi_similarity(labels, x, epsilon=0.1).mean(), rel=1e-5) and got > 0.1


@pytest.mark.parametrize(("batch", "classes", "dim"), LAYOUTS)
@pytest.mark.parametrize("epsilon", [None, 0.1])
@pytest.mark.parametrize("distance", ["cosine", "dot"])
def test_multi_similarity_matches_the_paper(batch, classes, dim, epsilon, distance):
    labels, x = _batch(batch, classes, dim)
    x = x if distance == "cosine" else x / np.sqrt(dim)  # dot products of order 1: beta = 50 keeps them finite
    got = _per_anchor(kerasloss.MultiSimilarity(epsilon=epsilon, distance=distance, reduction=None), labels, x)
    expected = ref.multi_similarity(labels, x, epsilon=epsilon, distance=distance)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("epsilon", [None, 0.0, 0.1])
def test_multi_similarity_with_ties_and_duplicates(epsilon):
    labels, x = _with_duplicates()
    value, gradient = value_and_grad(lambda e: kerasloss.MultiSimilarity(epsilon=epsilon)(labels, e), x)
    assert value == pytest.approx(ref.multi_similarity(labels, x, epsilon=epsilon).mean(), rel=1e-5, abs=1e-6)
    assert np.all(np.isfinite(gradient))


DEGENERATE = {
    "one example": (np.array([4]), np.array([[0.3, -1.0, 2.0]])),
    "one class": (np.array([1, 1, 1, 1]), np.random.default_rng(0).normal(size=(4, 3))),
    "all singletons": (np.arange(5), np.random.default_rng(1).normal(size=(5, 3))),
    "all identical": (np.array([0, 0, 1, 1]), np.ones((4, 3))),
    "zero embeddings": (np.array([0, 0, 1, 1]), np.zeros((4, 3))),
}


def test_multi_similarity_of_one_class_pulls_only():
    """No negative: only the pull term, (1/alpha) log(1 + sum exp(-alpha (S - base))) per anchor."""
    labels, x = DEGENERATE["one class"]
    expected = ref.multi_similarity(labels, x)
    assert float(numpy(kerasloss.MultiSimilarity()(labels, x))) == pytest.approx(expected.mean(), rel=1e-5)
