"""ClassBalancedBatches: every batch holds exactly P distinct classes x K examples, reproducibly, small
classes sampled with replacement, and it feeds model.fit on every backend (tf.data on TensorFlow)."""

import keras
import numpy as np
import pytest

import kerasloss
from kerasloss.metric_learning.sampling import ClassBalancedBatches
from tests.backend import BACKEND


def _data(seed=0, classes=12, sizes=None):
    rng = np.random.default_rng(seed)
    sizes = sizes or [rng.integers(5, 15) for _ in range(classes)]
    y = np.concatenate([np.full(n, c) for c, n in enumerate(sizes)])
    x = rng.normal(size=(len(y), 6)).astype("float32") + y[:, None]
    return x, y


@pytest.mark.parametrize("p, k", [(2, 2), (4, 3), (12, 5)])
def test_every_batch_is_exactly_p_classes_by_k_examples(p, k):
    x, y = _data()
    batches = ClassBalancedBatches(x, y, classes_per_batch=p, examples_per_class=k, seed=3)
    assert len(batches) == max(1, len(y) // (p * k))
    for _epoch in range(3):
        for index in range(len(batches)):
            features, labels = batches[index]
            assert features.shape == (p * k, 6) and labels.shape == (p * k,)
            classes, counts = np.unique(labels, return_counts=True)
            assert len(classes) == p and np.all(counts == k)
            np.testing.assert_array_equal(x[batches.indices(index)], features)  # features match their labels
            assert np.array_equal(np.repeat(classes[np.argsort(np.unique(labels, return_index=True)[1])], k), labels)
        batches.on_epoch_end()


def test_examples_are_drawn_without_replacement_unless_the_class_is_smaller_than_k():
    x, y = _data(sizes=[2, 10, 10, 10])
    batches = ClassBalancedBatches(x, y, classes_per_batch=4, examples_per_class=4, seed=0)
    picked = batches.indices(0)
    for c in range(4):
        members = picked[y[picked] == c]
        assert len(members) == 4
        if c == 0:
            assert len(np.unique(members)) <= 2  # a class of 2 fills its 4 slots with repeats
        else:
            assert len(np.unique(members)) == 4


def test_the_same_seed_gives_the_same_epochs_and_epochs_differ():
    x, y = _data()
    a = ClassBalancedBatches(x, y, 4, 3, seed=5)
    b = ClassBalancedBatches(x, y, 4, 3, seed=5)
    first = [a.indices(i) for i in range(len(a))]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate([b.indices(i) for i in range(len(b))]))
    a.on_epoch_end()
    assert not np.array_equal(np.concatenate(first), np.concatenate([a.indices(i) for i in range(len(a))]))
    c = ClassBalancedBatches(x, y, 4, 3, seed=6)
    assert not np.array_equal(first[0], c.indices(0))


def test_every_class_is_drawn_about_equally_often():
    x, y = _data(classes=10)
    batches = ClassBalancedBatches(x, y, 5, 2, seed=1, batches_per_epoch=400)
    counts = np.bincount(np.concatenate([y[batches.indices(i)] for i in range(len(batches))]), minlength=10)
    expected = 400 * 5 * 2 / 10
    assert np.all(np.abs(counts - expected) < 0.15 * expected), counts


def test_dict_features_and_float_labels():
    x, y = _data()
    batches = ClassBalancedBatches({"a": x, "b": x[:, :2]}, y.astype("float32"), 3, 2)
    features, labels = batches[0]
    assert labels.dtype == np.float32 and len(np.unique(labels)) == 3
    assert features["a"].shape == (6, 6) and features["b"].shape == (6, 2)
    np.testing.assert_array_equal(features["b"], features["a"][:, :2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes_per_batch": 13, "examples_per_class": 2}, "at most the number of classes in y, 12"),
        ({"classes_per_batch": 1, "examples_per_class": 2}, "`classes_per_batch`. Expected an integer >= 2"),
        ({"classes_per_batch": 2, "examples_per_class": 1}, "`examples_per_class`. Expected an integer >= 2"),
        ({"classes_per_batch": 2.0, "examples_per_class": 2}, "`classes_per_batch`"),
        ({"classes_per_batch": 2, "examples_per_class": 2, "batches_per_epoch": 0}, "`batches_per_epoch`"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    x, y = _data()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ClassBalancedBatches(x, y, **kwargs)


def test_labels_must_be_one_integer_per_example():
    x, y = _data()
    with pytest.raises(ValueError, match=r"integer class labels of shape \(n,\)"):
        ClassBalancedBatches(x, np.eye(12)[y], 2, 2)
    with pytest.raises(ValueError, match="same number of examples"):
        ClassBalancedBatches(x[:-1], y, 2, 2)
    with pytest.raises(ValueError, match="integer class labels"):
        ClassBalancedBatches(x, y + 0.5, 2, 2)


@pytest.mark.slow
def test_trains_a_triplet_model_with_fit():
    x, y = _data()
    batches = ClassBalancedBatches(x, y, 4, 4, seed=0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8)])
    model.compile(optimizer="adam", loss=kerasloss.TripletLoss())
    history = model.fit(batches, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    assert batches.epoch >= 2  # Keras calls on_epoch_end after each epoch


def test_as_tf_dataset_gives_the_same_batches_and_advances_epochs():
    if BACKEND != "tensorflow":
        pytest.skip("tf.data is TensorFlow's")
    x, y = _data()
    reference = ClassBalancedBatches(x, y, 3, 2, seed=4)
    expected = [reference.indices(i, epoch=e) for e in range(2) for i in range(len(reference))]
    dataset = ClassBalancedBatches(x, y, 3, 2, seed=4).as_tf_dataset()
    got = [labels.numpy() for _ in range(2) for _, labels in dataset]
    np.testing.assert_array_equal(np.concatenate(got), y[np.concatenate(expected)])
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8)])
    model.compile(optimizer="adam", loss=kerasloss.SupervisedContrastive())
    losses = model.fit(dataset, epochs=2, shuffle=False, verbose=0).history["loss"]
    assert len(losses) == 2 and np.all(np.isfinite(losses))
