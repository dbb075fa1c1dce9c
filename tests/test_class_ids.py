"""Class ids are data, never cast to the loss dtype: in bfloat16 (8 significant bits) Keras' own
`Loss.__call__` would read class 257 as 256 and, in float16, every id past 2048 as a neighbour. Float
labels with a fractional part are an error, not a truncation."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, numpy

SPARSE = [
    lambda dtype: kerasloss.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype),
    lambda dtype: kerasloss.SparseCategoricalFocalLoss(gamma=2.0, from_logits=True, dtype=dtype),
]


def _logits(classes, label):
    z = np.full((1, classes), -4.0, np.float32)
    z[0, label] = 4.0  # confident and right: the loss is small
    return z


@pytest.mark.parametrize("make", SPARSE, ids=["sparse_ce", "sparse_focal"])
@pytest.mark.parametrize(("dtype", "classes", "label"), [("bfloat16", 300, 257), ("float16", 4000, 2049)])
def test_a_class_id_past_the_dtype_s_integers_is_read_exactly(make, dtype, classes, label):
    z = _logits(classes, label)
    exact = numpy(make("float32")(np.array([label]), z))
    low = numpy(make(dtype)(np.array([label]), z))
    wrong = numpy(make("float32")(np.array([label - 1]), z))  # what reading the id one off would give
    assert abs(float(low) - float(exact)) < 0.05 * float(exact) + 0.02, (low, exact)
    assert float(wrong) > 5.0 > float(low)


@pytest.mark.parametrize(
    "make",
    [
        *SPARSE,
        lambda dtype: kerasloss.SupervisedContrastive(dtype=dtype),
        lambda dtype: kerasloss.TripletLoss(dtype=dtype),
        lambda dtype: kerasloss.MultiSimilarity(dtype=dtype),
        lambda dtype: kerasloss.LiftedStructure(dtype=dtype),
        lambda dtype: kerasloss.SoftNearestNeighbor(dtype=dtype),
    ],
    ids=["sparse_ce", "sparse_focal", "supcon", "triplet", "multi_similarity", "lifted", "soft_nearest_neighbor"],
)
def test_fractional_float_labels_are_an_error(make):
    y_pred = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    with pytest.raises(ValueError, match=r"class ids must be whole numbers.*Received: \[1.7"):
        make("float32")(np.array([0.0, 1.7, 2.0, 1.0], np.float32), y_pred)
    whole = numpy(make("float32")(np.array([0.0, 1.0, 2.0, 1.0], np.float32), y_pred))
    assert np.isfinite(whole)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="graph-mode assertions are TensorFlow's")
def test_fractional_labels_raise_inside_tf_function():
    import tensorflow as tf

    loss = kerasloss.SparseCategoricalCrossentropy(from_logits=True)
    step = tf.function(lambda y, z: loss(y, z))
    with pytest.raises(tf.errors.InvalidArgumentError, match="whole numbers"):
        step(tf.constant([0.5, 1.0]), tf.zeros((2, 3)))


def test_integer_labels_in_a_bfloat16_model_fit():
    """A mixed-precision model trained on 300 classes: the loss Keras reports equals the float32 value."""
    x = np.eye(300, dtype="float32")[:, :32]
    y = np.arange(300) % 300
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(300, dtype="bfloat16")])
    loss = kerasloss.SparseCategoricalCrossentropy(from_logits=True, dtype="bfloat16")
    model.compile(loss=loss)
    reported = model.evaluate(x, y, verbose=0, batch_size=300)
    logits = numpy(model(x))
    reference = kerasloss.SparseCategoricalCrossentropy(from_logits=True)(y, logits.astype("float32"))
    assert abs(reported - float(numpy(reference))) < 0.02 * float(numpy(reference))


# Ids past int32 (hashes, database keys): never wrapped to a small id, which would read 2**32 as class 0.
WIDE = 2**32
ID_LOSSES = {
    "arcface": (lambda: kerasloss.ArcFace(), "cosines"),
    "cosface": (lambda: kerasloss.CosFace(), "cosines"),
    "proxy_nca": (lambda: kerasloss.ProxyNCA(), "cosines"),
    "proxy_anchor": (lambda: kerasloss.ProxyAnchor(), "cosines"),
    "sparse_ce": (lambda: kerasloss.SparseCategoricalCrossentropy(from_logits=True), "logits"),
    "sparse_focal": (lambda: kerasloss.SparseCategoricalFocalLoss(from_logits=True), "logits"),
}


def _scores(kind):
    """(2, 3) cosines in [-1, 1] (CosineProxies' output) or logits."""
    scores = np.random.default_rng(0).uniform(-1.0, 1.0, size=(2, 3)).astype("float32")
    return scores if kind == "cosines" else 4.0 * scores


def _refused_by_the_backend(dtype):
    """Keras' PyTorch backend holds no uint64 and refuses it on conversion (naming the dtype)."""
    return BACKEND == "torch" and dtype == "uint64"


@pytest.mark.parametrize("dtype", ["int64", "uint64", "float64"])
@pytest.mark.parametrize("name", list(ID_LOSSES))
def test_a_class_id_past_int32_is_out_of_range_not_wrapped(name, dtype):
    make, kind = ID_LOSSES[name]
    ids = np.array([WIDE, 1]).astype(dtype)
    match = "uint64" if _refused_by_the_backend(dtype) else "4294967296"
    with pytest.raises(ValueError, match=match):
        make()(ids, _scores(kind))


def test_the_functional_form_refuses_an_id_past_int32_too():
    with pytest.raises(ValueError, match="4294967296"):
        kerasloss.arcface(np.array([WIDE, 1], np.int64), _scores("cosines"))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="int64 tensors inside XLA: TensorFlow's (JAX converts at jit)")
def test_under_xla_an_id_past_int32_gives_nan_for_its_sample():
    import tensorflow as tf

    loss = kerasloss.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    step = tf.function(lambda y, z: loss(y, z), jit_compile=True)
    per_sample = numpy(step(tf.constant([WIDE, 1], tf.int64), tf.constant(_scores("logits"))))
    assert np.isnan(per_sample[0]) and np.isfinite(per_sample[1])


@pytest.mark.skipif(BACKEND != "tensorflow", reason="graph-mode assertions are TensorFlow's")
def test_an_id_past_int32_raises_inside_tf_function():
    import tensorflow as tf

    loss = kerasloss.SparseCategoricalCrossentropy(from_logits=True)
    step = tf.function(lambda y, z: loss(y, z))
    with pytest.raises(tf.errors.InvalidArgumentError, match="class ids must lie in"):
        step(tf.constant([WIDE, 1], tf.int64), tf.constant(_scores("logits")))


PAIRWISE = {
    "triplet": lambda: kerasloss.TripletLoss(),
    "multi_similarity": lambda: kerasloss.MultiSimilarity(),
    "soft_nearest_neighbor": lambda: kerasloss.SoftNearestNeighbor(),
    "lifted": lambda: kerasloss.LiftedStructure(),
    "supcon": lambda: kerasloss.SupervisedContrastive(),
}
# JAX without jax_enable_x64 holds integers as int32: ids it cannot hold are refused before conversion.


def _jax_holds_int32():
    if BACKEND != "jax":
        return False
    import jax

    return not jax.config.jax_enable_x64


JAX_INT32 = _jax_holds_int32()


def _embeddings(n=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3)).astype("float32")


@pytest.mark.parametrize(
    ("dtype", "wide"),
    [("int64", [0, 0, WIDE, WIDE]), ("uint64", [5, 5, WIDE + 5, WIDE + 5]), ("uint64", [1, 1, 2**64 - 1, 2**64 - 1])],
    ids=["int64", "uint64", "uint64_top"],
)
@pytest.mark.parametrize("name", list(PAIRWISE))
def test_pairwise_losses_compare_ids_past_int32_exactly(name, dtype, wide):
    loss, x = PAIRWISE[name](), _embeddings()
    ids = np.array(wide, dtype=dtype)
    if _refused_by_the_backend(dtype) or JAX_INT32:
        with pytest.raises(ValueError, match="uint64" if _refused_by_the_backend(dtype) else "jax_enable_x64"):
            loss(ids, x)
        return
    small = float(numpy(loss(np.array([0, 0, 1, 1]), x)))
    merged = float(numpy(loss(np.zeros(4, "int32"), x)))
    assert small != pytest.approx(merged)  # the test tells two classes from one
    assert float(numpy(loss(ids, x))) == pytest.approx(small, rel=1e-6)


@pytest.mark.parametrize("name", ["triplet", "multi_similarity", "soft_nearest_neighbor", "supcon"])
def test_reference_labels_past_int32_are_not_read_as_batch_labels(name):
    """Batch ids int32, reference ids int64: the reference's 2**32 must not match the batch's class 0."""
    loss, x, reference = PAIRWISE[name](), _embeddings(), _embeddings(2, seed=1)
    batch = np.array([0, 0, 1, 1], np.int32)
    wide = (reference, np.array([WIDE, WIDE], np.int64))
    if JAX_INT32:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            loss(batch, x, reference=wide)
        return
    other = float(numpy(loss(batch, x, reference=(reference, np.array([7, 7], np.int64)))))
    assert float(numpy(loss(batch, x, reference=wide))) == pytest.approx(other, rel=1e-6)


@pytest.mark.skipif(not JAX_INT32, reason="JAX without jax_enable_x64 only")
def test_jax_without_x64_names_the_id_it_cannot_hold():
    with pytest.raises(ValueError, match=r"jax_enable_x64.*4294967296|4294967296.*jax_enable_x64"):
        kerasloss.TripletLoss()(np.array([0, 0, WIDE, WIDE], np.int64), _embeddings())
    with pytest.raises(ValueError, match="4294967296"):
        kerasloss.triplet_loss(np.array([0, 0, WIDE, WIDE], np.int64), _embeddings())


@pytest.mark.slow
def test_cross_batch_memory_keeps_ids_past_int32():
    """The memory stores labels as the pairwise losses compare them (int64 where the backend holds it):
    training on ids 0, 2**32, 2**33 equals training on 0, 1, 2; JAX without x64 refuses them in fit."""
    x = np.random.default_rng(1).normal(size=(12, 5)).astype("float32")
    small = np.arange(12) % 3
    wide = small.astype(np.int64) * WIDE

    def fit(y):
        keras.utils.set_random_seed(0)
        encoder = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(3)])
        model = kerasloss.CrossBatchMemory(encoder, memory_size=8)
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss=kerasloss.MultiSimilarity())
        history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        return history.history["loss"][-1], numpy(model.memory_labels)

    if JAX_INT32:
        with pytest.raises(ValueError, match="4294967296"):
            fit(wide)
        return
    loss_small, labels_small = fit(small)
    loss_wide, labels_wide = fit(wide)
    assert loss_wide == pytest.approx(loss_small, rel=1e-6)
    np.testing.assert_array_equal(labels_wide, labels_small.astype(np.int64) * WIDE)
