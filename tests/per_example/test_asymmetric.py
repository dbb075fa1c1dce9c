"""The asymmetric loss: the official class's values (stored in tests/literals/imbalance.py), its special cases
(the summed binary cross-entropy; focal loss's focusing), the detached focusing weights of the official training,
the gradient against finite differences, stability at logits of +-50, and the refused arguments."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, value_and_grad
from tests.literals import imbalance as official
from tests.reference import imbalance as ref
from tests.reference.formulas import finite_differences

FLOAT64 = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="float64 end to end: Keras computes 64-bit inputs in 32 bits on JAX and PyTorch"
)


def _row_id(row):
    return f"{row['case']}-{row['gamma_positive']}-{row['gamma_negative']}-{row['clip']}"


@FLOAT64
@pytest.mark.parametrize("row", official.ASYMMETRIC, ids=_row_id)
def test_equals_the_official_class(row):
    case = official.MULTI_CASES[row["case"]]
    targets, logits = np.asarray(case["targets"], np.float64), np.asarray(case["logits"], np.float64)
    loss = kerasloss.AsymmetricLoss(
        row["gamma_positive"], row["gamma_negative"], row["clip"], dtype="float64", reduction=None
    )
    values = keras.ops.convert_to_numpy(loss(targets, logits))
    # The official 1 - sigmoid(x) cancels for a negative at large x (7e-9 relative at x = 18, then logged);
    # ours is sigmoid(-x), exact (next test): 1e-9 covers the official code's own error.
    np.testing.assert_allclose(values, row["per_example"], rtol=1e-9, atol=1e-13)
    # The official class returns the sum over the batch.
    summed = kerasloss.AsymmetricLoss(
        row["gamma_positive"], row["gamma_negative"], row["clip"], dtype="float64", reduction="sum"
    )
    np.testing.assert_allclose(float(summed(targets, logits)), row["loss"], rtol=1e-9)


@FLOAT64
@pytest.mark.parametrize("x", [12.0, 16.0, 18.0])  # below the official clamp at log(1e-8) = -18.42
def test_a_negative_at_a_large_logit_is_exact_where_the_official_one_minus_sigmoid_cancels(x):
    loss = kerasloss.AsymmetricLoss(0.0, 0.0, 0.0, dtype="float64", reduction=None)
    value = float(keras.ops.convert_to_numpy(loss(np.zeros((1, 1)), np.full((1, 1), x)))[0])
    assert value == pytest.approx(x + np.log1p(np.exp(-x)), rel=2e-16)  # -log(sigmoid(-x)) = softplus(x)


def _data(seed=0, shape=(8, 5), scale=3.0):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < 0.3).astype("float32"), (scale * rng.normal(size=shape)).astype("float32")


def test_without_focusing_or_clip_it_is_the_summed_binary_cross_entropy():
    targets, logits = _data(1)
    asl = kerasloss.AsymmetricLoss(0.0, 0.0, 0.0, reduction=None)(targets, logits)
    bce = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)(targets, logits)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(asl), 5 * keras.ops.convert_to_numpy(bce), rtol=1e-5)


def test_without_clip_and_with_one_gamma_it_is_the_summed_focal_loss():
    targets, logits = _data(2)
    asl = kerasloss.AsymmetricLoss(2.0, 2.0, 0.0, reduction=None)(targets, logits)
    focal = kerasloss.FocalLoss(gamma=2.0, alpha=None, from_logits=True, reduction=None)(targets, logits)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(asl), 5 * keras.ops.convert_to_numpy(focal), rtol=1e-5)


def test_a_negative_below_the_clip_costs_nothing():
    targets = np.zeros((1, 3), np.float32)
    probabilities = np.array([[0.01, 0.04, 0.2]], np.float32)
    loss = kerasloss.AsymmetricLoss(0.0, 4.0, 0.05, from_logits=False, reduction=None)
    value = float(keras.ops.convert_to_numpy(loss(targets, probabilities))[0])
    assert value == pytest.approx(-(0.15**4) * np.log(0.85), rel=1e-5)


def test_probabilities_and_logits_agree():
    targets, logits = _data(3)
    probabilities = keras.ops.convert_to_numpy(keras.ops.sigmoid(logits))
    a = kerasloss.AsymmetricLoss(1.0, 3.0, 0.1, reduction=None)(targets, logits)
    b = kerasloss.AsymmetricLoss(1.0, 3.0, 0.1, from_logits=False, reduction=None)(targets, probabilities)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), rtol=1e-5)


@FLOAT64
@pytest.mark.parametrize(
    ("gamma_positive", "gamma_negative", "clip"), [(0.0, 4.0, 0.05), (1.0, 2.5, 0.2), (0.5, 0.5, 0.0)]
)
def test_gradient_matches_float64_finite_differences(gamma_positive, gamma_negative, clip):
    targets, logits = _data(4, (4, 6), scale=2.0)
    loss = kerasloss.AsymmetricLoss(gamma_positive, gamma_negative, clip, dtype="float64")
    _, gradient = value_and_grad(lambda x: loss(targets.astype("float64"), x), logits.astype("float64"))
    expected = finite_differences(
        lambda x: ref.asymmetric(targets, x, gamma_positive, gamma_negative, clip).mean(), logits.astype("float64")
    )
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-9)


def test_detached_focusing_weights_give_the_official_training_gradient():
    """With the weights held constant, d/dx of a positive's -w log p is -w (1 - p), of a negative's
    -w log(1 - p_m) is w p (1 - p) / (1 - p_m) where p_m = max(p - clip, 0) > 0 (w from the current p)."""
    targets, logits = _data(5, (3, 4))
    gp, gn, clip = 1.0, 4.0, 0.05
    loss = kerasloss.AsymmetricLoss(gp, gn, clip, focusing_gradient=False, reduction="sum")
    _, gradient = value_and_grad(lambda x: loss(targets, x), logits)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    shifted = np.maximum(p - clip, 0)
    positive = -((1 - p) ** gp) * (1 - p)
    negative = np.where(shifted > 0, shifted**gn * p * (1 - p) / (1 - shifted), 0.0)
    np.testing.assert_allclose(gradient, np.where(targets == 1, positive, negative), rtol=1e-4, atol=1e-7)
    exact = kerasloss.AsymmetricLoss(gp, gn, clip, reduction="sum")
    assert not np.allclose(value_and_grad(lambda x: exact(targets, x), logits)[1], gradient)


@pytest.mark.parametrize("focusing_gradient", [True, False])
@pytest.mark.parametrize("logits", [50.0, -50.0, 1e4, -1e4])
def test_finite_at_extreme_logits(logits, focusing_gradient):
    targets = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    x = np.array([[logits, logits, -logits, -logits]], np.float32)
    loss = kerasloss.AsymmetricLoss(1.0, 4.0, 0.05, focusing_gradient=focusing_gradient)
    value, gradient = value_and_grad(lambda x: loss(targets, x), x)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "mixed_float16"])
def test_half_precision_keeps_the_official_clamp_and_stays_finite(dtype):
    """1e-8 is no float16 number: clamping a float16 probability at it would clamp at 0, and log(0) * 0 is NaN."""
    targets = np.array([[1.0, 0.0, 1.0, 0.0]], np.float32)
    logits = np.array([[-20.0, 20.0, -50.0, 3.0]], np.float32)
    expected = float(kerasloss.AsymmetricLoss(1.0, 4.0, 0.05)(targets, logits))
    value, gradient = value_and_grad(
        lambda x: kerasloss.AsymmetricLoss(1.0, 4.0, 0.05, dtype=dtype)(targets, x), logits
    )
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert float(value) == pytest.approx(expected, rel=1e-2)


def test_a_confident_negative_at_plus_50_is_exact_where_one_minus_sigmoid_is_zero():
    """sigmoid(-50) = 1.9e-22: a negative predicted at +50 costs -log(max(sigmoid(-50) + clip, 1e-8)) weighted by
    (1 - clip)^gamma; with clip = 0 its log is clamped at log(1e-8), as in the official code."""
    loss = kerasloss.AsymmetricLoss(0.0, 0.0, 0.0, reduction=None)
    value = float(keras.ops.convert_to_numpy(loss(np.zeros((1, 1), np.float32), np.full((1, 1), 50.0, np.float32)))[0])
    assert value == pytest.approx(-np.log(1e-8), rel=1e-6)
    loss = kerasloss.AsymmetricLoss(0.0, 1.0, 0.05, reduction=None)
    value = float(keras.ops.convert_to_numpy(loss(np.zeros((1, 1), np.float32), np.full((1, 1), 50.0, np.float32)))[0])
    assert value == pytest.approx(-0.95 * np.log(0.05), rel=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"gamma_positive": -1.0}, "gamma_positive"),
        ({"gamma_negative": -0.1}, "gamma_negative"),
        ({"clip": 1.0}, "clip"),
        ({"clip": -0.01}, "clip"),
        ({"focusing_gradient": "no"}, "focusing_gradient"),
    ],
)
def test_invalid_arguments_are_named(kwargs, argument):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        kerasloss.AsymmetricLoss(**kwargs)


def test_labels_and_predictions_of_different_shapes_raise():
    with pytest.raises(ValueError):
        kerasloss.AsymmetricLoss()(np.zeros((2, 3)), np.zeros((2, 4)))
