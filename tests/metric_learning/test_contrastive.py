"""NT-Xent, InfoNCE, SupCon and the pair loss: references at several sizes, degenerate batches,
gradients against finite differences, shape errors, the learnable temperature, and learning."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import grad, numpy, value_and_grad
from tests.reference import formulas as ref

SIZES = [(1, 3), (2, 4), (7, 5), (33, 16)]


def _views(batch, dim, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(batch, 1, dim))
    return (base + noise * rng.normal(size=(batch, 2, dim))).astype("float32")


@pytest.mark.parametrize(("batch", "dim"), SIZES)
@pytest.mark.parametrize("temperature", [0.07, 1.0])
def test_nt_xent_matches_reference(batch, dim, temperature):
    views = _views(batch, dim)
    got = numpy(kerasloss.NTXent(temperature, reduction=None)(np.zeros(batch), views))
    np.testing.assert_allclose(got, ref.nt_xent(views, temperature), rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize(("batch", "dim"), SIZES)
@pytest.mark.parametrize("negatives", [0, 1, 4])
def test_info_nce_matches_reference(batch, dim, negatives):
    candidates = np.random.default_rng(1).normal(size=(batch, 2 + negatives, dim)).astype("float32")
    got = numpy(kerasloss.InfoNCE(0.1, reduction=None)(np.zeros(batch), candidates))
    np.testing.assert_allclose(got, ref.info_nce(candidates, 0.1), rtol=2e-5, atol=1e-5)


def test_info_nce_single_negative_is_the_lessons_contrastive_loss():
    """The lesson's contrastive_loss(anchor, positive, negatives, temperature=0.07) for one example."""
    anchor, positive, negative = np.array([1.0, 0.0]), np.array([0.8, 0.6]), np.array([0.0, 1.0])
    s_pos, s_neg = anchor @ positive / 0.07, anchor @ negative / 0.07
    expected = -np.log(np.exp(s_pos) / (np.exp(s_pos) + np.exp(s_neg)))
    got = kerasloss.InfoNCE()(np.zeros(1), np.stack([anchor, positive, negative])[None].astype("float32"))
    # lse - s_pos with both near 11.4: float32 resolves the 1.1e-5 difference to ~1e-6 absolute.
    assert numpy(got) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("batch", "dim"), SIZES)
@pytest.mark.parametrize("classes", [1, 3, "each its own"])
@pytest.mark.parametrize("views", [1, 2])
def test_supervised_contrastive_matches_reference(batch, dim, classes, views):
    rng = np.random.default_rng(2)
    labels = np.arange(batch) if classes == "each its own" else rng.integers(0, classes, batch)
    features = rng.normal(size=(batch, views, dim)).astype("float32")
    if views == 1:
        features = features[:, 0]
    got = numpy(kerasloss.SupervisedContrastive(0.2, reduction=None)(labels, features))
    np.testing.assert_allclose(got, ref.supervised_contrastive(labels, features, 0.2), rtol=2e-5, atol=1e-5)


def test_supervised_contrastive_leaves_out_anchors_without_positive():
    """The batch mean is the mean over anchors that have a positive, not over all anchors."""
    labels = np.array([0, 0, 1, 2])  # anchors 2 and 3 have no positive
    features = np.random.default_rng(3).normal(size=(4, 5)).astype("float32")
    per_example = ref.supervised_contrastive(labels, features, 0.5)
    assert per_example[2] == per_example[3] == 0.0
    assert numpy(kerasloss.SupervisedContrastive(0.5)(labels, features)) == pytest.approx(per_example.mean(), rel=1e-5)


def test_supervised_contrastive_without_any_positive_pair_is_zero_with_zero_gradient():
    features = np.random.default_rng(4).normal(size=(6, 5)).astype("float32")
    value, g = value_and_grad(lambda f: kerasloss.SupervisedContrastive()(np.arange(6), f), features)
    assert value == 0.0
    np.testing.assert_array_equal(g, 0.0)


@pytest.mark.parametrize(("batch", "dim"), [(1, 4), (9, 6)])
def test_pair_contrastive_matches_reference(batch, dim):
    rng = np.random.default_rng(5)
    similar, pairs = (rng.random(batch) < 0.5).astype("float32"), rng.normal(size=(batch, 2, dim)).astype("float32")
    got = numpy(kerasloss.ContrastiveLoss(margin=1.5, reduction=None)(similar, pairs))
    np.testing.assert_allclose(got, ref.pair_contrastive(similar, pairs, 1.5), rtol=1e-5, atol=1e-6)


def _degenerate_batches():
    rng = np.random.default_rng(6)
    same = np.broadcast_to(rng.normal(size=(1, 1, 8)), (6, 2, 8)).astype("float32")
    return {
        "collapse": same,
        "zero vectors": np.zeros((6, 2, 8), np.float32),
        "batch of one": rng.normal(size=(1, 2, 8)).astype("float32"),
        "huge values": (1e4 * rng.normal(size=(6, 2, 8))).astype("float32"),
    }


@pytest.mark.parametrize("batch_name", list(_degenerate_batches()))
@pytest.mark.parametrize(
    "make",
    [
        lambda: kerasloss.NTXent(),
        lambda: kerasloss.InfoNCE(symmetric=True),
        lambda: kerasloss.SupervisedContrastive(),
        lambda: kerasloss.ContrastiveLoss(),
    ],
    ids=["ntxent", "infonce", "supcon", "pair"],
)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("labels", ["single class", "each its own"])
def test_degenerate_batches_stay_finite(batch_name, make, dtype, labels):
    views = _degenerate_batches()[batch_name]
    y = np.zeros(len(views)) if labels == "single class" else np.arange(len(views)) % 2
    loss = make()
    if (batch_name, dtype, type(loss)) == ("huge values", "float16", kerasloss.ContrastiveLoss):
        pytest.skip("members of a pair ~3e4 apart: their difference alone exceeds float16's range (65504)")
    if dtype != "float32":
        loss = type(loss).from_config({**loss.get_config(), "dtype": dtype})
    value, g = value_and_grad(lambda v: loss(y, v), views)
    assert np.isfinite(value.astype(np.float32)) and np.all(np.isfinite(g.astype(np.float32)))


def test_nt_xent_masks_self_similarity_safely_in_float16():
    """T = 0.01 puts logits at +-100; a 1e9 mask constant would overflow float16 to inf."""
    views = _views(8, 6)
    half = numpy(kerasloss.NTXent(0.01, dtype="float16")(np.zeros(8), views)).astype(np.float32)
    full = numpy(kerasloss.NTXent(0.01)(np.zeros(8), views))
    assert np.isfinite(half) and half == pytest.approx(full, rel=2e-2)


@pytest.mark.parametrize(
    ("make", "reference", "data"),
    [
        (lambda: kerasloss.NTXent(0.5, reduction="sum"), lambda y, v: ref.nt_xent(v, 0.5), lambda r: _views(5, 4)),
        (
            lambda: kerasloss.SupervisedContrastive(0.5, reduction="sum"),
            lambda y, v: ref.supervised_contrastive(y, v, 0.5),
            lambda r: r.normal(size=(6, 2, 4)),
        ),
        (
            lambda: kerasloss.InfoNCE(0.5, symmetric=True, reduction="sum"),
            lambda y, v: ref.info_nce(v, 0.5, symmetric=True),
            lambda r: r.normal(size=(5, 2, 4)),
        ),
    ],
    ids=["ntxent", "supcon", "infonce-symmetric"],
)
def test_gradient_matches_float64_finite_differences(make, reference, data):
    rng = np.random.default_rng(7)
    x = np.asarray(data(rng), np.float64)
    y = np.array([0, 1, 0, 1, 1, 0])[: len(x)]
    got = grad(lambda v: make()(y, v), x.astype("float32"))
    numeric = np.zeros_like(x)
    h = 1e-6
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = h
        numeric[index] = (reference(y, x + step).sum() - reference(y, x - step).sum()) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=1e-3, atol=2e-5)


@pytest.mark.parametrize(
    ("make", "shape", "match"),
    [
        (kerasloss.NTXent, (8, 16), r"NTXent|nt_xent expects y_pred of shape \(batch, 2, dim\)"),
        (kerasloss.NTXent, (8, 3, 16), r"\(batch, 2, dim\).*\(8, 3, 16\)"),
        (kerasloss.ContrastiveLoss, (8, 16), r"\(batch, 2, dim\)"),
        (kerasloss.InfoNCE, (8, 1, 16), r"\(batch, 2 \+ K, dim\)"),
        (kerasloss.SupervisedContrastive, (8,), r"\(batch, dim\) or \(batch, views, dim\)"),
    ],
)
def test_shape_errors_explain_the_layout(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.zeros(8), np.ones(shape, np.float32))


def test_symmetric_info_nce_needs_in_batch_negatives():
    with pytest.raises(ValueError, match="symmetric=True needs in-batch negatives"):
        kerasloss.InfoNCE(symmetric=True)(np.zeros(4), np.ones((4, 3, 5), np.float32))


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: kerasloss.NTXent(temperature=0), "temperature"),
        (lambda: kerasloss.InfoNCE(temperature=-0.1), "temperature"),
        (lambda: kerasloss.SupervisedContrastive(temperature=float("nan")), "temperature"),
        (lambda: kerasloss.NTXent(similarity="euclidean"), "similarity"),
        (lambda: kerasloss.InfoNCE(symmetric="yes"), "symmetric"),
        (lambda: kerasloss.ContrastiveLoss(margin=-1.0), "margin"),
        (lambda: kerasloss.LearnableTemperature(initial_temperature=0.0), "initial_temperature"),
    ],
)
def test_invalid_hyperparameters_raise_at_construction(make, argument):
    with pytest.raises(ValueError, match=rf"argument `{argument}`.*Received: {argument}="):
        make()


def _augmented_digits(seed):
    """scikit-learn's bundled 8x8 digits (no download) and two noisy, shifted views of each image."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images.astype("float32") / 16.0, digits.target
    rng = np.random.default_rng(seed)

    def view():
        shifted = np.stack([np.roll(im, rng.integers(-1, 2, 2), axis=(0, 1)) for im in images])
        return (shifted + 0.1 * rng.normal(size=shifted.shape)).reshape(len(images), 64).astype("float32")

    return images.reshape(len(images), 64), labels, view


def _nearest_neighbour_accuracy(embeddings, labels, split):
    z = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    similarity = z[split:] @ z[:split].T
    return float(np.mean(labels[:split][similarity.argmax(1)] == labels[split:]))


@pytest.mark.slow
def test_nt_xent_with_a_learned_temperature_learns_digit_embeddings():
    keras.utils.set_random_seed(0)
    images, labels, view = _augmented_digits(0)
    encoder = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(4)], name="encoder"
    )
    untrained = _nearest_neighbour_accuracy(numpy(encoder(images)), labels, 1200)

    pair_input = keras.Input((2, 64))
    embedded = keras.layers.TimeDistributed(encoder)(pair_input)
    temperature = kerasloss.LearnableTemperature(initial_temperature=0.2)
    model = keras.Model(pair_input, temperature(embedded))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=kerasloss.NTXent(temperature=1.0, distance="dot"))
    for _ in range(8):  # fresh augmentations each epoch
        pairs = np.stack([view(), view()], axis=1)
        model.fit(pairs, np.zeros(len(pairs)), batch_size=256, epochs=1, verbose=0)
    trained = _nearest_neighbour_accuracy(numpy(encoder(images)), labels, 1200)
    assert trained > untrained + 0.1, (untrained, trained)
    assert abs(float(numpy(temperature.temperature)) - 0.2) > 1e-3  # the temperature trained too


def test_supcon_on_a_batch_of_one_class_keeps_the_papers_value():
    """Positives and no negative: Khosla's formula, >= log(n - 1) (equal when every similarity is equal),
    not pytorch-metric-learning's 0. The README and the docstring say the same."""
    labels = np.zeros(8, np.int32)
    views = _views(8, 6)
    loss = kerasloss.SupervisedContrastive(temperature=0.5)
    value = float(numpy(loss(labels, views)))
    assert value == pytest.approx(float(np.mean(ref.supervised_contrastive(labels, views, 0.5))), rel=1e-5)
    assert value > np.log(2 * 8 - 1)
    identical = np.ones((8, 2, 6), np.float32)
    assert float(numpy(loss(labels, identical))) == pytest.approx(np.log(2 * 8 - 1), rel=1e-5)
    _, gradient = value_and_grad(lambda v: loss(labels, v), views)
    assert np.any(gradient != 0)
