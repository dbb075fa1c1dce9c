"""TripletLoss: each mining mode against brute-force references (TFA's semi-hard and hard algorithms),
degenerate batches, the O(B^2) search under XLA, errors, and learning."""

import keras
import numpy as np
import pytest

import kerasloss
from kerasloss.metric_learning import triplet
from tests.backend import compiled, grad, numpy, value_and_grad
from tests.reference import formulas as ref

LAYOUTS = [(4, 2, 3), (12, 3, 5), (33, 5, 8), (40, 40, 4)]  # (batch, classes, dim); 40 classes: all singletons


def _batch(batch, classes, dim, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(batch) % classes
    rng.shuffle(labels)
    return labels, rng.normal(size=(batch, dim)).astype("float32")


REFERENCES = {
    "semi-hard": ref.triplet_semi_hard,
    "hard": ref.triplet_hard,
    "all": ref.triplet_all,
}


@pytest.mark.parametrize("mining", list(REFERENCES))
@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "cosine"])
@pytest.mark.parametrize(("batch", "classes", "dim"), LAYOUTS)
@pytest.mark.parametrize("margin", [0.2, 1.0])
def test_matches_brute_force_reference(mining, distance, batch, classes, dim, margin):
    labels, x = _batch(batch, classes, dim)
    got = numpy(kerasloss.TripletLoss(margin, mining, distance)(labels, x))
    expected = REFERENCES[mining](labels, x, margin, distance).mean()
    assert got == pytest.approx(expected, rel=2e-4, abs=2e-5)
    per_anchor = numpy(kerasloss.TripletLoss(margin, mining, distance, reduction=None)(labels, x))
    np.testing.assert_allclose(per_anchor, REFERENCES[mining](labels, x, margin, distance), rtol=5e-4, atol=5e-5)


def test_soft_hard_mining_matches_reference():
    labels, x = _batch(20, 4, 6, seed=1)
    got = numpy(kerasloss.TripletLoss(mining="hard", soft=True)(labels, x))
    assert got == pytest.approx(ref.triplet_hard(labels, x, 1.0, soft=True).mean(), rel=1e-5)


@pytest.mark.parametrize("mining", ["semi-hard", "hard", "all"])
def test_duplicate_embeddings_with_exact_zero_distances(mining):
    """Duplicates (d = 0 exactly: small integer coordinates make the expansion exact) and ties."""
    rng = np.random.default_rng(2)
    points = rng.integers(-2, 3, size=(6, 3)).astype("float32")
    x = np.concatenate([points, points])  # every point twice
    labels = np.concatenate([np.arange(6) % 3, np.arange(6) % 2])
    value, g = value_and_grad(lambda e: kerasloss.TripletLoss(mining=mining)(labels, e), x)
    assert value == pytest.approx(REFERENCES[mining](labels, x, 1.0).mean(), rel=1e-5, abs=1e-6)
    assert np.all(np.isfinite(g))


def test_random_mining_picks_a_real_negative():
    """Between the hardest and the easiest negative: each pair's loss uses one of the anchor's negatives."""
    labels, x = _batch(24, 4, 5, seed=3)
    d = ref.pairwise_distances(x)
    positives, negatives = ref._triplet_sets(labels, len(d))
    low = np.mean([max(1 + d[a, p] - max(d[a, k] for k in negatives[a]), 0) for a in range(24) for p in positives[a]])
    high = np.mean([max(1 + d[a, p] - min(d[a, k] for k in negatives[a]), 0) for a in range(24) for p in positives[a]])
    got = numpy(kerasloss.TripletLoss(mining="random")(labels, x))
    assert low - 1e-5 <= got <= high + 1e-5


@pytest.mark.parametrize("mining", ["semi-hard", "hard", "all", "random"])
@pytest.mark.parametrize(
    ("name", "labels", "x"),
    [
        ("single class", np.zeros(6), np.random.default_rng(4).normal(size=(6, 4))),
        ("every example its own class", np.arange(6), np.random.default_rng(5).normal(size=(6, 4))),
        ("batch of one", np.zeros(1), np.ones((1, 4))),
        ("collapse", np.arange(6) % 2, np.ones((6, 4))),
        ("zero vectors", np.arange(6) % 2, np.zeros((6, 4))),
    ],
)
def test_degenerate_batches(mining, name, labels, x):
    loss = kerasloss.TripletLoss(mining=mining, distance="cosine" if name == "zero vectors" else "euclidean")
    value, g = value_and_grad(lambda e: loss(labels, e), x.astype("float32"))
    assert np.isfinite(value) and np.all(np.isfinite(g))
    if name in ("single class", "every example its own class", "batch of one") and mining != "hard":
        assert value == 0.0 and np.all(g == 0.0)
    if name in ("single class", "batch of one"):  # no negative at all
        assert value == 0.0 and np.all(g == 0.0)


@pytest.mark.parametrize("mining", ["semi-hard", "hard", "all", "random"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_finite_and_close(mining, dtype):
    labels, x = _batch(16, 4, 6, seed=6)
    full = numpy(kerasloss.TripletLoss(mining=mining)(labels, x))
    value, g = value_and_grad(lambda e: kerasloss.TripletLoss(mining=mining, dtype=dtype)(labels, e), x)
    assert np.isfinite(value.astype(np.float32)) and np.all(np.isfinite(g.astype(np.float32)))
    if mining != "random":  # the random draw hashes the distances, so half precision draws others
        assert float(value) == pytest.approx(float(full), rel=0.05, abs=0.02)


@pytest.mark.parametrize("mining", ["semi-hard", "hard", "all", "random"])
def test_compiled_equals_eager(mining):
    labels, x = _batch(33, 5, 8, seed=7)
    loss = kerasloss.TripletLoss(mining=mining)
    np.testing.assert_allclose(numpy(compiled(loss)(labels, x)), numpy(loss(labels, x)), rtol=1e-5)


@pytest.mark.parametrize("formulation", ["search", "sort"])
@pytest.mark.parametrize("jit_compile", [False, True])
def test_unknown_batch_size_in_a_traced_step(jit_compile, formulation, monkeypatch):
    """A step traced with batch None (Keras retraces so for a last partial batch) agrees with the
    reference, ties and duplicates included (integer points): the search with a list of traced length
    (or of length batch^2 under XLA), the sort (outside XLA) with the looped running minimum."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("input signatures with an unknown batch are a tf.function feature")
    if formulation == "sort" and jit_compile:
        pytest.skip("XLA always searches")
    import tensorflow as tf

    monkeypatch.setattr(triplet, "_SORT_ABOVE", 0 if formulation == "sort" else 2**20)
    loss = kerasloss.TripletLoss(mining="semi-hard")
    spec = [tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, 3], tf.float32)]
    step = tf.function(lambda y, e: loss(y, e), input_signature=spec, jit_compile=jit_compile)
    rng = np.random.default_rng(8)
    for batch in (1, 2, 7, 19, 32):
        labels = rng.integers(0, 3, batch)
        x = rng.integers(-2, 3, size=(batch, 3)).astype("float32")
        expected = ref.triplet_semi_hard(labels, x, 1.0).mean()
        assert float(step(labels, x)) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def _semi_hard_brute_force(d, positives, negatives, weights):
    """Per anchor-positive pair, the semi-hard negative distance and where d(sum(weights * it)) / d(d)
    goes, by one scan per pair: the closest negative strictly farther than the positive (distances below
    0 count as 0), at equal distances the one in the lowest column; else the farthest negatives, which
    share the gradient (as `max` does)."""
    key = np.maximum(d, 0)
    value, routed = np.zeros_like(d), np.zeros_like(d, dtype=np.float64)
    for a, p in np.argwhere(positives):
        columns = np.flatnonzero(negatives[a])
        if not len(columns):
            continue
        farther = columns[key[a, columns] > key[a, p]]
        if len(farther):
            n = farther[np.argmin(key[a, farther])]  # argmin: the first (lowest) column among equals
            value[a, p], routed[a, n] = d[a, n], routed[a, n] + weights[a, p]
        else:
            farthest = columns[d[a, columns] == d[a, columns].max()]
            value[a, p] = d[a, farthest[0]]
            routed[a, farthest] += weights[a, p] / len(farthest)
    return value, routed


def _tied_candidates(seed):
    """Random anchors x candidates: labels of few classes, so many pairs (several chunks of them), a
    reference set with unusable entries, and distances full of ties (small integers, between positives
    and negatives too, exact zeros, and -0.0 and -1e-7 as cosine distances round)."""
    rng = np.random.default_rng(seed)
    rows, extra = [(20, 3), (7, 0), (23, 0), (13, 5)][seed % 4]  # few shapes: JAX compiles each once
    labels = rng.integers(0, rng.integers(1, 5), rows + extra)
    usable = np.concatenate([np.ones(rows, bool), rng.random(extra) < 0.7])
    same = labels[:rows, None] == labels[None, :]
    itself = np.eye(rows, rows + extra, dtype=bool)
    positives, negatives = same & ~itself & usable, ~same & usable
    d = rng.integers(0, 4, (rows, rows + extra)).astype("float32") / 2
    d[rng.random(d.shape) < 0.1] = -0.0
    d[rng.random(d.shape) < 0.1] = -1e-7
    return d, positives, negatives, rng.normal(size=d.shape).astype("float32")


def _semi_hard_and_grad(mode, d, positives, negatives, weights):
    """The semi-hard negative distances and d(sum over pairs of weights * them) / d(d), computed eagerly or
    in a TensorFlow graph (the distances of the positive pairs listed row-major) or under XLA (a (rows, n)
    block of every entry); the masks are arguments, so that a compiled step does not know them."""
    pairs = positives & negatives.any(axis=1, keepdims=True)

    def weighted(x, positives_, negatives_):  # a torch tensor that requires grad times an ndarray fails
        _, values, anchor = triplet._semi_hard_triplets(x, positives_, negatives_)
        if anchor is None:  # (rows, n): every entry
            used, w = pairs, weights
        else:  # the positive pairs listed row-major
            used, w = pairs[positives], weights[positives]
        total = keras.ops.sum(keras.ops.where(used, values, 0.0) * keras.ops.convert_to_tensor(w))
        return total, values

    masks = keras.ops.convert_to_tensor(positives), keras.ops.convert_to_tensor(negatives)
    if mode == "eager":
        return numpy(weighted(keras.ops.convert_to_tensor(d), *masks)[1]), grad(lambda x: weighted(x, *masks)[0], d)
    backend = keras.backend.backend()
    if backend == "jax" and mode == "xla":
        import jax

        (_, values), g = jax.jit(jax.value_and_grad(weighted, has_aux=True))(d, *masks)
        return numpy(values), numpy(g)
    if backend != "tensorflow":
        pytest.skip(f"no {mode} mode on the {backend} backend")
    import tensorflow as tf

    @tf.function(jit_compile=mode == "xla")
    def step(x, positives, negatives):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total, values = weighted(x, positives, negatives)
        return values, tape.gradient(total, x)

    values, g = step(tf.constant(d), *masks)
    return numpy(values), numpy(g)


@pytest.mark.parametrize("formulation", ["search", "sort"])
@pytest.mark.parametrize("mode", ["eager", "graph", "xla"])
@pytest.mark.parametrize("seed", range(8))
def test_semi_hard_negative_equals_brute_force_with_ties(formulation, mode, seed, monkeypatch):
    """Both formulations, the sort-free search (pairs taken `rows` at a time, one wrapped-integer argmin
    each) and the sort per anchor (outside XLA, for many pairs per anchor), against one scan per pair:
    the same distance bit for bit on every pair, and the gradient in the same column (the lowest among
    tied negatives). Eager code and a graph list the pairs themselves, XLA a fixed-length list."""
    if formulation == "sort" and mode == "xla":
        pytest.skip("XLA always searches")
    threshold = 0 if formulation == "sort" else 2**20  # pairs per anchor above which the sort is taken
    monkeypatch.setattr(triplet, "_SORT_ABOVE", threshold)
    d, positives, negatives, weights = _tied_candidates(seed)
    pairs = positives & negatives.any(axis=1, keepdims=True)
    expected, expected_grad = _semi_hard_brute_force(d, positives, negatives, np.where(pairs, weights, 0))
    values, g = _semi_hard_and_grad(mode, d, positives, negatives, weights)
    if values.ndim == 1:  # listed: the positive pairs, row-major
        values, listed = np.zeros_like(d), values
        values[positives] = listed
    np.testing.assert_array_equal(np.where(pairs, values, 0.0), expected)
    np.testing.assert_allclose(g, expected_grad, rtol=1e-6, atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match=r"argument `margin`.*Received: margin=-0.5"):
        kerasloss.TripletLoss(margin=-0.5)
    with pytest.raises(ValueError, match=r"argument `mining`.*Received: mining='semihard'"):
        kerasloss.TripletLoss(mining="semihard")
    with pytest.raises(ValueError, match=r"argument `distance`"):
        kerasloss.TripletLoss(distance="manhattan")
    with pytest.raises(ValueError, match=r"argument `soft`"):
        kerasloss.TripletLoss(mining="all", soft=True)
    with pytest.raises(ValueError, match=r"expects y_pred of shape \(batch, dim\)"):
        kerasloss.TripletLoss()(np.zeros(4), np.zeros((4, 2, 3), np.float32))


def _blobs(n, seed):
    """The lesson's five-class 2-D data, hidden in a 2-D subspace of 20 noisy dimensions: a random
    projection of it to 2-D sees mostly noise; a learned one finds the subspace."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, n)
    centres = np.array([[0, 0], [3, 0], [0, 3], [3, 3], [1.5, 1.5]])
    points = centres[labels] + 0.6 * rng.normal(size=(n, 2))
    basis = np.linalg.qr(np.random.default_rng(99).normal(size=(20, 2)))[0]  # orthonormal 20 x 2
    return (points @ basis.T + 1.2 * rng.normal(size=(n, 20))).astype("float32"), labels


@pytest.mark.slow
def test_semi_hard_mining_learns_an_embedding():
    keras.utils.set_random_seed(0)
    x, labels = _blobs(1200, 0)
    encoder = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2)])

    def accuracy():
        z = numpy(encoder(x))
        d = ((z[900:, None] - z[None, :900]) ** 2).sum(-1)
        return float(np.mean(labels[:900][d.argmin(1)] == labels[900:]))

    untrained = accuracy()
    encoder.compile(optimizer=keras.optimizers.Adam(1e-2), loss=kerasloss.TripletLoss(margin=0.5))
    encoder.fit(x[:900], labels[:900], batch_size=128, epochs=15, verbose=0)
    trained = accuracy()
    print(f"1-NN accuracy: untrained {untrained:.3f}, trained {trained:.3f}")
    assert trained > untrained + 0.15, (untrained, trained)
