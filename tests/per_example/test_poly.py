"""Poly-1: the paper's listings (run in TensorFlow, stored in tests/literals/imbalance.py), epsilon = 0 is
Keras' cross-entropy, the sparse and one-hot forms agree, the gradient in closed form, and epsilon >= -1."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, value_and_grad
from tests.literals import imbalance as official
from tests.reference import imbalance as ref

FLOAT64 = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="float64 end to end: Keras computes 64-bit inputs in 32 bits on JAX and PyTorch"
)


def _case(name):
    case = official.CASES[name]
    logits = np.asarray(case["logits"], np.float64)
    return np.asarray(case["labels"]), logits, np.eye(logits.shape[1])[case["labels"]]


@FLOAT64
@pytest.mark.parametrize(
    "row", official.POLY1, ids=lambda row: f"{row['case']}-eps{row['epsilon']}-s{row['label_smoothing']}"
)
def test_equals_the_papers_listing(row):
    ids, logits, onehot = _case(row["case"])
    poly = kerasloss.PolyLoss(row["epsilon"], True, row["label_smoothing"], reduction=None, dtype="float64")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(poly(onehot, logits)), row["per_example"], rtol=1e-12, atol=1e-13
    )
    if row["label_smoothing"] == 0:
        sparse = kerasloss.SparsePolyLoss(row["epsilon"], True, reduction=None, dtype="float64")
        values = keras.ops.convert_to_numpy(sparse(ids, logits))
        np.testing.assert_allclose(values, row["per_example"], rtol=1e-12, atol=1e-13)


def test_epsilon_zero_is_keras_cross_entropy():
    rng = np.random.default_rng(0)
    ids, logits = rng.integers(0, 5, 32), (3 * rng.normal(size=(32, 5))).astype("float32")
    onehot = np.eye(5, dtype="float32")[ids]
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    pairs = [
        (
            kerasloss.PolyLoss(0.0, True, 0.1)(onehot, logits),
            keras.losses.CategoricalCrossentropy(True, 0.1)(onehot, logits),
        ),
        (kerasloss.PolyLoss(0.0)(onehot, probs), keras.losses.CategoricalCrossentropy()(onehot, probs)),
        (
            kerasloss.SparsePolyLoss(0.0, True)(ids, logits),
            keras.losses.SparseCategoricalCrossentropy(True)(ids, logits),
        ),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-6)


def test_probabilities_and_logits_agree_with_the_reference():
    rng = np.random.default_rng(1)
    ids, logits = rng.integers(0, 4, 16), rng.normal(size=(16, 4)).astype("float32")
    onehot = np.eye(4, dtype="float32")[ids]
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    expected = ref.poly1(onehot, logits, 2.0, 0.1)
    from_probs = kerasloss.PolyLoss(2.0, False, 0.1, reduction=None)(onehot, probs)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(from_probs), expected, rtol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(kerasloss.SparsePolyLoss(2.0, reduction=None)(ids, probs)),
        ref.poly1(onehot, logits, 2.0),
        rtol=1e-5,
    )


@pytest.mark.parametrize("epsilon", [-1.0, 0.5, 2.0])
def test_gradient_is_the_closed_form(epsilon):
    """d/dz [CE + eps (1 - p_y)] = (p - y) + eps p_y (p - y) = (1 + eps p_y)(p - y), per example."""
    rng = np.random.default_rng(2)
    ids, logits = rng.integers(0, 3, 6), rng.normal(size=(6, 3)).astype("float32")
    onehot = np.eye(3)[ids]
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    expected = (1 + epsilon * (p * onehot).sum(-1, keepdims=True)) * (p - onehot) / len(ids)
    for loss, labels in (
        (kerasloss.PolyLoss(epsilon, True), onehot.astype("float32")),
        (kerasloss.SparsePolyLoss(epsilon, True), ids),
    ):
        _, gradient = value_and_grad(lambda x, loss=loss, labels=labels: loss(labels, x), logits)
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("logits", [50.0, -50.0, 1e4, -1e4])
def test_finite_at_extreme_logits(logits):
    x = np.full((4, 3), logits, np.float32)
    x[:, 0] = -logits
    ids = np.array([0, 1, 2, 0])
    for loss, labels in (
        (kerasloss.PolyLoss(2.0, True, 0.1), np.eye(3, dtype="float32")[ids]),
        (kerasloss.SparsePolyLoss(-1.0, True), ids),
    ):
        value, gradient = value_and_grad(lambda x, loss=loss, labels=labels: loss(labels, x), x)
        assert np.isfinite(value) and np.all(np.isfinite(gradient))


def test_probabilities_exactly_zero_and_one_stay_finite():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    for loss, labels in (
        (kerasloss.PolyLoss(), np.eye(3, dtype="float32")[[1, 1]]),
        (kerasloss.SparsePolyLoss(), np.array([1, 1])),
    ):
        value, gradient = value_and_grad(lambda p, loss=loss, labels=labels: loss(labels, p), probs)
        assert np.isfinite(value) and np.all(np.isfinite(gradient))


@pytest.mark.parametrize(
    ("make", "argument", "value"),
    [
        (lambda v: kerasloss.PolyLoss(epsilon=v), "epsilon", -1.5),
        (lambda v: kerasloss.SparsePolyLoss(epsilon=v), "epsilon", float("inf")),
        (lambda v: kerasloss.PolyLoss(label_smoothing=v), "label_smoothing", 1.0),
        (lambda v: kerasloss.SparsePolyLoss(from_logits=v), "from_logits", 1),
    ],
)
def test_invalid_arguments_are_named(make, argument, value):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        make(value)


def test_sparse_ids_out_of_range_raise():
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\]"):
        kerasloss.SparsePolyLoss(from_logits=True)(np.array([0, 3]), np.zeros((2, 3), np.float32))
