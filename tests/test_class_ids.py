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
