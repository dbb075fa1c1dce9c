"""BarlowTwins, VICReg and SimSiam: against independent NumPy references written from the papers and the
official code (tests/reference/self_supervised.py), pytorch-metric-learning 2.9's VICReg values stored as
literals, float64 finite differences, degenerate batches (one example, a constant dimension, collapse),
and a learning test: on digits with noise augmentation neither Barlow Twins nor VICReg collapses."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, numpy, value_and_grad
from tests.literals import proxy as pml
from tests.reference import self_supervised as ref
from tests.reference.formulas import finite_differences


def _views(batch=16, dim=6, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(batch, 1, dim))
    return base + 0.3 * rng.normal(size=(batch, 2, dim))


@pytest.mark.parametrize(("batch", "dim"), [(2, 3), (16, 6), (40, 8)])
@pytest.mark.parametrize("weight", [5e-3, 0.1])
def test_barlow_twins_matches_the_official_code(batch, dim, weight):
    views = _views(batch, dim)
    got = float(numpy(kerasloss.BarlowTwins(weight)(np.zeros(batch), views)))
    assert got == pytest.approx(ref.barlow_twins(views, weight), rel=2e-5, abs=1e-6)  # eps 1e-5, as BatchNorm


def test_barlow_twins_population_and_unbiased_std_differ_by_about_one_over_b():
    """The official code's BatchNorm (population std) is kept; the paper's Algorithm 1 (unbiased) is
    another loss (C scaled by (B - 1)/B; 25% apart here): the test shows which one this is."""
    views = _views(64, 8, seed=1)
    got = float(numpy(kerasloss.BarlowTwins()(np.zeros(64), views)))
    assert got == pytest.approx(ref.barlow_twins(views, unbiased=False), rel=2e-5)
    assert abs(got - ref.barlow_twins(views, unbiased=True)) > 1e-3 * got


@pytest.mark.parametrize(("batch", "dim"), [(2, 3), (16, 6), (40, 8)])
@pytest.mark.parametrize("weights", [(25.0, 25.0, 1.0, 1e-4), (1.0, 5.0, 0.5, 1e-2)], ids=["defaults", "other weights"])
def test_vicreg_matches_the_official_code(batch, dim, weights):
    views = _views(batch, dim)
    got = float(numpy(kerasloss.VICReg(*weights)(np.zeros(batch), views)))
    assert got == pytest.approx(ref.vicreg(views, *weights), rel=2e-5, abs=1e-6)


@pytest.mark.parametrize("row", pml.VICREG, ids=lambda r: f"{r['case']}-{r['invariance']}-{r['epsilon']}")
def test_vicreg_equals_pytorch_metric_learning(row):
    """pml 2.9's VICRegLoss(invariance_lambda, variance_mu, covariance_v, eps)(view_a, ref_emb=view_b),
    computed once in float64 and stored."""
    views = np.asarray(pml.VIEWS[row["case"]])
    loss = kerasloss.VICReg(row["invariance"], row["variance"], row["covariance"], row["epsilon"])
    if len(views) == 1:  # pml: NaN (an unbiased variance of one example); kerasloss takes B - 1 as 1
        assert np.isnan(row["loss"]) and np.isfinite(float(numpy(loss(np.zeros(1), views))))
        return
    assert float(numpy(loss(np.zeros(len(views)), views))) == pytest.approx(row["loss"], rel=2e-5, abs=1e-6)


def test_simsiam_matches_the_paper_and_stops_the_gradient_at_the_projections():
    rng = np.random.default_rng(2)
    p_and_z = rng.normal(size=(8, 2, 2, 5))
    got = float(numpy(kerasloss.SimSiam()(np.zeros(8), p_and_z)))
    p1, z1, p2, z2 = p_and_z[:, 0, 0], p_and_z[:, 0, 1], p_and_z[:, 1, 0], p_and_z[:, 1, 1]
    assert got == pytest.approx(ref.simsiam(p1, p2, z1, z2), rel=1e-5)
    _, gradient = value_and_grad(lambda x: kerasloss.SimSiam()(np.zeros(8), x), p_and_z.astype("float32"))
    assert np.all(gradient[:, :, 1] == 0) and np.any(gradient[:, :, 0] != 0)


# ---------------------------------------------------------------------------------------------------
# Gradients against float64 finite differences


@pytest.mark.parametrize(
    ("loss", "reference"),
    [
        (kerasloss.BarlowTwins(0.05, dtype="float64"), lambda v: ref.barlow_twins(v, 0.05)),
        (kerasloss.VICReg(dtype="float64"), lambda v: ref.vicreg(v)),
    ],
    ids=["barlow_twins", "vicreg"],
)
def test_gradient_matches_float64finite_differences(loss, reference):
    if BACKEND != "tensorflow":
        pytest.skip("float64 end to end: Keras computes 64-bit inputs in 32 bits on JAX and PyTorch")
    views = _views(6, 3, seed=4)
    _, gradient = value_and_grad(lambda v: loss(np.zeros(6), v), views)
    np.testing.assert_allclose(gradient, finite_differences(reference, views), rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------------------------------------------
# Degenerate batches


@pytest.mark.parametrize("make", [kerasloss.BarlowTwins, kerasloss.VICReg], ids=lambda c: c.__name__)
@pytest.mark.parametrize("batch", ["one example", "a constant dimension", "collapse"])
def test_degenerate_batches_are_finite_and_documented(make, batch):
    views = _views(8, 4).astype("float32")
    if batch == "one example":
        views = views[:1]
    elif batch == "a constant dimension":
        views[:, :, 2] = 3.0
    else:
        views[:] = views[0, 0]
    value, gradient = value_and_grad(lambda v: make()(np.zeros(len(v)), v), views)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    if make is kerasloss.VICReg and batch == "collapse":  # the variance hinge at its largest
        assert value == pytest.approx(25.0 * (1 - np.sqrt(1e-4)), rel=1e-4)
    if make is kerasloss.BarlowTwins and batch in ("one example", "collapse"):  # every dimension adds 1
        assert value == pytest.approx(4.0, rel=1e-5)


@pytest.mark.parametrize(
    ("make", "shape"),
    [(kerasloss.BarlowTwins, (4, 3, 5)), (kerasloss.VICReg, (4, 5)), (kerasloss.SimSiam, (4, 2, 5))],
    ids=["barlow_twins", "vicreg", "simsiam"],
)
def test_wrong_layouts_are_named(make, shape):
    with pytest.raises(ValueError, match="expects y_pred of shape"):
        make()(np.zeros(4), np.zeros(shape, "float32"))


# ---------------------------------------------------------------------------------------------------
# Learning: no collapse


@pytest.mark.slow
@pytest.mark.parametrize("loss", [kerasloss.BarlowTwins(), kerasloss.VICReg()], ids=lambda loss: type(loss).__name__)
def test_two_view_training_on_digits_does_not_collapse(loss):
    """Two noisy views of each digit; a small encoder trained with the loss keeps its embeddings spread
    (every dimension's std well above 0) and its nearest-neighbour recall above chance."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    rng = np.random.default_rng(0)
    views = np.stack([x + 0.2 * rng.normal(size=x.shape), x + 0.2 * rng.normal(size=x.shape)], axis=1).astype("float32")
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(16)])
    inputs = keras.Input((2, 64))
    model = keras.Model(inputs, keras.layers.TimeDistributed(encoder)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    model.fit(views, np.zeros(len(x)), batch_size=128, epochs=10, verbose=0)
    embeddings = numpy(encoder(x))
    assert embeddings.std(axis=0).min() > 0.05, embeddings.std(axis=0)
    assert kerasloss.metric_learning.retrieval.evaluate(embeddings, y, k=1)["recall@1"] > 0.8
