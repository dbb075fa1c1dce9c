"""MultiSimilarity, LiftedStructure and SoftNearestNeighbor: against independent NumPy references written
from the papers (tests/reference_metric.py), pytorch-metric-learning 2.9's values stored as literals
(tests/metric_literals.py), float64 finite differences, degenerate batches, and reference sets (the
batch compared with more candidates, as CrossBatchMemory does) for every loss that takes one."""

import keras
import numpy as np
import pytest

import kerasloss
from tests import metric_literals as pml
from tests import reference_metric as ref
from tests.backend import BACKEND, compiled, numpy, value_and_grad
from tests.reference import finite_differences

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


# ---------------------------------------------------------------------------------------------------
# MultiSimilarity


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


# ---------------------------------------------------------------------------------------------------
# LiftedStructure


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


# ---------------------------------------------------------------------------------------------------
# SoftNearestNeighbor


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


# ---------------------------------------------------------------------------------------------------
# Gradients against float64 finite differences of the references


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


# ---------------------------------------------------------------------------------------------------
# Degenerate batches: the documented finite value and a zero gradient

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


def test_multi_similarity_of_one_class_pulls_only():
    """No negative: only the pull term, (1/alpha) log(1 + sum exp(-alpha (S - base))) per anchor."""
    labels, x = DEGENERATE["one class"]
    expected = ref.multi_similarity(labels, x)
    assert float(numpy(kerasloss.MultiSimilarity()(labels, x))) == pytest.approx(expected.mean(), rel=1e-5)


# ---------------------------------------------------------------------------------------------------
# Reference sets

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


# ---------------------------------------------------------------------------------------------------
# One geometry vocabulary


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


# ---------------------------------------------------------------------------------------------------
# Training


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
