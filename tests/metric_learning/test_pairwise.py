"""What the pairwise losses share (pairwise.py): float64 finite-difference gradients, degenerate batches, reference
sets (the batch compared with more candidates, as CrossBatchMemory does), the one distance vocabulary, and each
loss training an embedding on digits."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import compiled, numpy, value_and_grad
from tests.reference import metric as ref
from tests.reference.formulas import finite_differences


def _batch(batch, classes, dim, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    labels = np.arange(batch) % classes
    rng.shuffle(labels)
    return labels, (scale * rng.normal(size=(batch, dim))).astype("float64")


def _per_anchor(loss, labels, x):
    return numpy(loss(labels, x)).astype(np.float64)


GRADIENTS = [
    ("multi_similarity", kerasloss.MultiSimilarity(dtype="float64"), lambda y, x: ref.multi_similarity(y, x).mean()),
    (
        "multi_similarity_mined",
        kerasloss.MultiSimilarity(alpha=1.0, beta=10.0, epsilon=0.3, dtype="float64"),
        lambda y, x: ref.multi_similarity(y, x, 1.0, 10.0, 0.5, epsilon=0.3).mean(),
    ),
    (
        "lifted",
        kerasloss.LiftedStructure(margin=2.0, dtype="float64"),
        lambda y, x: ref.lifted_structure_paper(y, x, 2.0),
    ),
    (
        "soft_nearest_neighbor",
        kerasloss.SoftNearestNeighbor(temperature=2.0, dtype="float64"),
        lambda y, x: ref.soft_nearest_neighbor(y, x, 2.0).mean(),
    ),
]


@pytest.mark.parametrize(("name", "loss", "reference"), GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_gradient_matches_float64finite_differences(name, loss, reference):
    labels, x = _batch(9, 3, 3, seed=5)
    _, gradient = value_and_grad(lambda e: loss(labels, e), x)
    expected = finite_differences(lambda e: reference(labels, e), x)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-7)


DEGENERATE = {
    "one example": (np.array([4]), np.array([[0.3, -1.0, 2.0]])),
    "one class": (np.array([1, 1, 1, 1]), np.random.default_rng(0).normal(size=(4, 3))),
    "all singletons": (np.arange(5), np.random.default_rng(1).normal(size=(5, 3))),
    "all identical": (np.array([0, 0, 1, 1]), np.ones((4, 3))),
    "zero embeddings": (np.array([0, 0, 1, 1]), np.zeros((4, 3))),
}


@pytest.mark.parametrize("batch", list(DEGENERATE))
@pytest.mark.parametrize(
    "make",
    [kerasloss.MultiSimilarity, kerasloss.LiftedStructure, kerasloss.SoftNearestNeighbor],
    ids=lambda c: c.__name__,
)
def test_degenerate_batches_are_finite_and_documented(make, batch):
    labels, x = DEGENERATE[batch]
    x = x.astype("float32")
    value, gradient = value_and_grad(lambda e: make()(labels, e), x)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    no_pair = batch in ("one example", "all singletons")
    if make is kerasloss.LiftedStructure and (no_pair or batch == "one class"):
        assert value == 0 and np.all(gradient == 0)  # TFA: NaN
    if make is kerasloss.SoftNearestNeighbor and (no_pair or batch == "one class"):
        assert value == 0 and np.all(gradient == 0)
    if make is kerasloss.MultiSimilarity and batch == "one example":
        assert value == 0 and np.all(gradient == 0)


REFERENCE_LOSSES = [
    kerasloss.MultiSimilarity(),
    kerasloss.MultiSimilarity(epsilon=0.1),
    kerasloss.SoftNearestNeighbor(),
    kerasloss.SupervisedContrastive(temperature=0.5),
    *[kerasloss.TripletLoss(mining=m) for m in ("semi-hard", "hard", "all", "random")],
    kerasloss.TripletLoss(mining="semi-hard", distance="cosine"),
]


@pytest.mark.parametrize("loss", REFERENCE_LOSSES, ids=repr)
def test_a_reference_set_is_the_rest_of_a_batch(loss):
    """Anchors compared with a reference set see exactly what they see in a batch holding both: the same
    per-anchor values (the means over pairs are taken over this batch's anchors, so the triplet's differ
    by one factor), and no gradient flows into the reference."""
    labels, x = _batch(14, 4, 5, seed=2)
    x = x.astype("float32")
    full = _per_anchor(type(loss).from_config({**loss.get_config(), "reduction": None}), labels, x)[:6]
    per_anchor = type(loss).from_config({**loss.get_config(), "reduction": None})
    part = numpy(per_anchor(labels[:6], x[:6], reference=(x[6:], labels[6:]))).astype(np.float64)
    if isinstance(loss, kerasloss.TripletLoss):
        scale = part.sum() / full.sum()
        np.testing.assert_allclose(part, full * scale, rtol=1e-4, atol=1e-6)
    else:
        np.testing.assert_allclose(part, full, rtol=1e-4, atol=1e-6)
    _, gradient = value_and_grad(lambda r: loss(labels[:6], x[:6], reference=(r, labels[6:])), x[6:])
    assert np.all(gradient == 0)


@pytest.mark.parametrize("loss", REFERENCE_LOSSES, ids=repr)
def test_invalid_reference_entries_are_ignored(loss):
    """A memory's unfilled slots (valid = False) change nothing, whatever they hold."""
    labels, x = _batch(14, 4, 5, seed=4)
    x = x.astype("float32")
    kept = loss(labels[:8], x[:8], reference=(x[8:11], labels[8:11]))
    junk = np.concatenate([x[8:11], np.full((3, 5), 1e3, "float32")])
    valid = np.array([True] * 3 + [False] * 3)
    masked = loss(labels[:8], x[:8], reference=(junk, np.concatenate([labels[8:11], labels[:3]]), valid))
    assert float(numpy(masked)) == pytest.approx(float(numpy(kept)), rel=1e-5, abs=1e-7)


def test_reference_sets_compile_under_xla():
    labels, x = _batch(12, 3, 4, seed=6)
    x = x.astype("float32")
    valid = np.arange(6) < 4
    for loss in REFERENCE_LOSSES:

        def run(y, e, r, rl, v, loss=loss):
            return loss(y, e, reference=(r, rl, v))

        eager = float(numpy(run(labels[:6], x[:6], x[6:], labels[6:], valid)))
        xla = float(numpy(compiled(run)(labels[:6], x[:6], x[6:], labels[6:], valid)))
        assert xla == pytest.approx(eager, rel=1e-5, abs=1e-6), loss


def test_a_loss_without_reference_support_says_so():
    with pytest.raises(ValueError, match="LiftedStructure does not compare the batch with a reference set"):
        kerasloss.LiftedStructure()(np.zeros(4), np.zeros((4, 3), "float32"), reference=(np.zeros((2, 3)), np.zeros(2)))
    with pytest.raises(ValueError, match=r"reference embeddings must be \(M, dim\) with the batch's dim"):
        kerasloss.MultiSimilarity()(np.zeros(4), np.zeros((4, 3), "float32"), reference=(np.zeros((2, 5)), np.zeros(2)))


def test_every_pairwise_loss_names_its_geometry_distance():
    from kerasloss.metric_learning.pairwise import DISTANCES

    pairwise = [
        kerasloss.NTXent,
        kerasloss.InfoNCE,
        kerasloss.SupervisedContrastive,
        kerasloss.ContrastiveLoss,
        kerasloss.TripletLoss,
        kerasloss.MultiSimilarity,
        kerasloss.LiftedStructure,
        kerasloss.SoftNearestNeighbor,
    ]
    for cls in pairwise:
        default = cls().get_config()["distance"]
        assert default in DISTANCES, cls
        with pytest.raises(ValueError, match=r"Invalid value for argument `distance`. Expected one of \["):
            cls(distance="manhattan")
    assert kerasloss.metric_learning.retrieval.DISTANCES == DISTANCES


@pytest.mark.parametrize("cls", [kerasloss.NTXent, kerasloss.InfoNCE, kerasloss.SupervisedContrastive])
def test_the_former_similarity_argument_still_works(cls):
    """Models saved before the rename carry `similarity` in their config; it loads as `distance`."""
    config = {**cls().get_config(), "similarity": "dot"}
    del config["distance"]
    loaded = cls.from_config(config)
    assert loaded.get_config()["distance"] == "dot" and "similarity" not in loaded.get_config()
    assert cls(similarity="dot").get_config() == cls(distance="dot").get_config()
    with pytest.raises(ValueError, match="Pass `distance` only"):
        cls(distance="dot", similarity="cosine")
    function = cls.function
    with pytest.raises(ValueError, match="Pass `distance` only"):  # a call names both explicitly: no guessing
        function(np.zeros(2), np.zeros((2, 2, 3), "float32"), similarity="dot", distance="cosine")
    with pytest.raises(ValueError, match=r"argument `similarity`.*Received: similarity='cosin'"):
        cls(similarity="cosin")


@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "cosine"])
def test_pair_contrastive_takes_every_distance(distance):
    rng = np.random.default_rng(7)
    pairs, similar = rng.normal(size=(8, 2, 3)), (rng.random(8) < 0.5).astype("float64")
    a, b = pairs[:, 0], pairs[:, 1]
    if distance == "cosine":
        d = 1 - np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    else:
        d = np.linalg.norm(a - b, axis=1) ** (2 if distance == "squared_euclidean" else 1)
    expected = 0.5 * similar * d**2 + 0.5 * (1 - similar) * np.maximum(1.5 - d, 0) ** 2
    got = _per_anchor(kerasloss.ContrastiveLoss(1.5, distance, reduction=None), similar, pairs)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "loss",
    [
        kerasloss.MultiSimilarity(),
        kerasloss.LiftedStructure(margin=1.0),
        kerasloss.SoftNearestNeighbor(temperature=0.5),
    ],
    ids=lambda loss: type(loss).__name__,
)
@pytest.mark.slow
def test_each_loss_trains_an_embedding_on_digits(loss):
    """Digits, a linear embedding: held-out MAP@R (sensitive to the whole ranking; 1-NN accuracy on digits
    is already 0.9 untrained) rises far above the untrained one."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    train, test = slice(0, 1200), slice(1200, None)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16)])
    before = kerasloss.metric_learning.retrieval.evaluate(numpy(model(x[test])), y[test], k=1)["map@r"]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    batches = kerasloss.ClassBalancedBatches(x[train], y[train], classes_per_batch=8, examples_per_class=8, seed=0)
    model.fit(batches, epochs=6, verbose=0)
    after = kerasloss.metric_learning.retrieval.evaluate(numpy(model(x[test])), y[test], k=1)["map@r"]
    assert after > before + 0.2, (before, after)
