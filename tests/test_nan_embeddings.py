"""A NaN or inf embedding makes the pairwise losses NaN, as Keras' own losses and
`MultiSimilarity()` are: before, the Euclidean distance's zero-safe square root, the masked log-sum-exp
and the minings' comparisons and sort keys dropped it, and a batch of six with one NaN row gave a
plausible value (`TripletLoss` 0.62, `LiftedStructure` 6.1, `SoftNearestNeighbor` 2.2,
`MultiSimilarity(epsilon=0.1)` 0.087). A finite batch keeps its value to the bit."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, compiled, numpy, value_and_grad

LABELS = np.array([0, 0, 1, 1, 2, 2])

LOSSES = {
    **{
        f"triplet-{mining}-{distance}": (kerasloss.TripletLoss, {"mining": mining, "distance": distance})
        for mining in ("semi-hard", "hard", "all", "random")
        for distance in ("euclidean", "squared_euclidean", "cosine")
    },
    **{
        f"triplet-{mining}-soft": (kerasloss.TripletLoss, {"mining": mining, "soft": True})
        for mining in ("semi-hard", "hard", "random")
    },
    **{
        f"multi_similarity-{epsilon}-{distance}": (
            kerasloss.MultiSimilarity,
            {"epsilon": epsilon, "distance": distance},
        )
        for epsilon in (None, 0.1)
        for distance in ("cosine", "dot")
    },
    **{
        f"lifted-{distance}": (kerasloss.LiftedStructure, {"distance": distance})
        for distance in ("euclidean", "squared_euclidean", "cosine")
    },
    **{
        f"snn-{distance}": (kerasloss.SoftNearestNeighbor, {"distance": distance})
        for distance in ("squared_euclidean", "euclidean", "cosine")
    },
}
WITH_REFERENCE = [name for name in LOSSES if not name.startswith("lifted")]


def _embeddings(row=None, value=np.nan):
    """Six embeddings of dimension 4 (seed 0), with `row` set to `value`."""
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    if row is not None:
        x[row] = value
    return x


def _make(name, **kwargs):
    cls, options = LOSSES[name]
    return cls(**options, **kwargs)


@pytest.mark.parametrize("row, value", [(3, np.nan), (0, np.inf), (5, -np.inf)], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_a_non_finite_embedding_makes_every_anchor_nan(name, row, value):
    """Every anchor is compared with every other embedding, so each per-anchor value is NaN."""
    x = _embeddings(row, value)
    assert np.isnan(float(numpy(_make(name)(LABELS, x))))
    assert np.isnan(numpy(_make(name, reduction=None)(LABELS, x))).all()


@pytest.mark.parametrize("name", ["triplet-semi-hard-euclidean", "multi_similarity-0.1-cosine", "lifted-euclidean"])
def test_a_nan_embedding_gives_a_nan_gradient(name):
    """As Keras' own losses: the NaN reaches the gradient too. (It did before the value said so: a guard
    that the check on the value does not cut the gradient off, as a stop_gradient or a 0 * NaN would.)"""
    _, gradient = value_and_grad(lambda p: keras.ops.mean(_make(name, reduction=None)(LABELS, p)), _embeddings(3))
    assert not np.isfinite(gradient).all()


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_a_nan_reference_entry_counts_only_where_valid(name):
    """A valid NaN reference entry makes the loss NaN; an invalid one (an unfilled memory slot) is
    ignored, as its finite placeholder is."""
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(4, 4)).astype("float32")
    reference[2] = np.nan
    reference_labels = np.array([0, 1, 2, 3])
    loss = _make(name, reduction=None)
    x = _embeddings()
    valid = np.array([True, True, True, False])
    assert np.isnan(numpy(loss(LABELS, x, reference=(reference, reference_labels, valid)))).all()
    ignored = numpy(loss(LABELS, x, reference=(reference, reference_labels, ~valid)))
    placeholder = np.where(np.isnan(reference), 0.0, reference).astype("float32")
    np.testing.assert_allclose(ignored, numpy(loss(LABELS, x, reference=(placeholder, reference_labels, ~valid))))
    assert np.isfinite(ignored).all()


@pytest.mark.parametrize("name", ["triplet-semi-hard-euclidean", "triplet-all-euclidean", "lifted-euclidean"])
def test_a_nan_embedding_is_nan_under_xla(name):
    """tf.function(jit_compile=True) on TensorFlow, jax.jit on JAX."""
    loss = _make(name, reduction=None)
    assert np.isnan(numpy(compiled(lambda y, p: loss(y, p))(LABELS, _embeddings(3)))).all()


@pytest.mark.parametrize("name", ["triplet-hard-euclidean", "snn-squared_euclidean", "multi_similarity-0.1-cosine"])
def test_a_nan_embedding_or_reference_entry_is_nan_with_an_unknown_batch_under_xla(name):
    """A step traced with batch None (Keras' last partial batch), with a reference set as a memory passes it."""
    if BACKEND != "tensorflow":
        pytest.skip("input signatures with an unknown batch are a tf.function feature")
    import tensorflow as tf

    loss = _make(name, reduction=None)
    spec = [tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([3, 4], tf.float32)]
    reference_labels, valid = np.array([0, 1, 2]), np.array([True, True, False])
    step = tf.function(
        lambda y, p, r: loss(y, p, reference=(r, reference_labels, valid)), input_signature=spec, jit_compile=True
    )

    def reference(nan_row=None):
        r = np.ones((3, 4), "float32")
        if nan_row is not None:
            r[nan_row] = np.nan
        return r

    assert np.isnan(numpy(step(LABELS, _embeddings(3), reference()))).all()
    assert np.isnan(numpy(step(LABELS, _embeddings(), reference(1)))).all()
    assert np.isfinite(numpy(step(LABELS, _embeddings(), reference(2)))).all()  # not a valid entry


def _triplet_reference(labels, x, mining, margin):
    """Per-anchor triplet loss in float32 from squared distances of integer points: the NumPy formula of
    each mining, scaled as the loss scales it (the sum over the anchor's terms, times B, over the count)."""
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1).astype("float32")
    same = labels[:, None] == labels[None, :]
    positives, negatives = same & ~np.eye(len(labels), dtype=bool), ~same
    batch, margin = np.float32(len(labels)), np.float32(margin)
    if mining == "hard":
        hardest_negative = np.where(negatives, d, np.inf).min(1)
        return np.maximum(margin + np.where(positives, d, 0).max(1) - hardest_negative, 0).astype("float32")
    if mining == "all":
        triplets = positives[:, :, None] & negatives[:, None, :]
        hinge = np.where(triplets, np.maximum(margin + d[:, :, None] - d[:, None, :], 0), 0).astype("float32")
        active = np.float32((triplets & (margin + d[:, :, None] > d[:, None, :])).sum())
        return (hinge.sum((1, 2)) * batch / max(active, np.float32(1))).astype("float32")
    if mining == "semi-hard":
        farther = np.where(negatives[:, None, :] & (d[:, None, :] > d[:, :, None]), d[:, None, :], np.inf).min(-1)
        negative = np.where(np.isfinite(farther), farther, np.where(negatives, d, -np.inf).max(1, keepdims=True))
    else:  # "random": the negative of the largest position hash, as triplet._random_negative draws it
        positions = np.arange(len(labels), dtype=np.int32)
        mixed = (positions * np.int32(73856093))[:, None] ^ (positions * np.int32(19349663))[None, :]
        mixed = ((mixed ^ (mixed >> 13)) * np.int32(1274126177)) & np.int32(0x7FFFFFFF)
        negative = np.take_along_axis(d, np.where(negatives, mixed, -1).argmax(1)[:, None], 1)
    pair_losses = np.where(positives, np.maximum(margin + d - negative, 0), 0).astype("float32")
    return (pair_losses.sum(1) * batch / np.float32(positives.sum())).astype("float32")


@pytest.mark.parametrize("mining", ["semi-hard", "hard", "all", "random"])
def test_a_finite_batch_keeps_its_value_to_the_bit(mining):
    """Integer points and squared Euclidean distances make every distance and sum exact; a margin that
    makes every triplet count makes every divisor a power of two (4 anchor-positive pairs, 8 triplets),
    so the one rounding left is the same however a backend divides (XLA multiplies by the reciprocal)."""
    labels = np.array([0, 0, 1, 1])
    x = np.random.default_rng(2).integers(-3, 4, size=(4, 4)).astype("float32")
    loss = kerasloss.TripletLoss(margin=200.0, mining=mining, distance="squared_euclidean", reduction=None)
    np.testing.assert_array_equal(numpy(loss(labels, x)), _triplet_reference(labels, x, mining, 200.0))
