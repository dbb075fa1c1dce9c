"""Checks on y_true and y_pred, before any computation: shapes that would broadcast silently are refused
naming the loss and both shapes, labels are one per example, class ids out of range raise naming the id,
an empty batch is recognised and gives a (0,) loss."""

import numpy as np
import pytest

from kerasloss.core import inputs
from tests.backend import numpy


def test_same_shape_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"huber.*\(4, 1\).*\(4, 3\)|huber.*\(4, 3\).*\(4, 1\)"):
        inputs.same_shape(np.zeros((4, 1), "float32"), np.zeros((4, 3), "float32"), "huber")


def test_same_shape_accepts_a_missing_last_axis_of_one():
    y_true, y_pred = inputs.same_shape(np.zeros((4,), "float32"), np.zeros((4, 1), "float32"), "mse")
    assert tuple(y_true.shape) == tuple(y_pred.shape) == (4, 1)


def test_example_labels_are_one_per_example():
    labels = inputs.example_labels(np.array([[0], [1], [1]]), np.zeros((3, 2), "float32"), "triplet_loss")
    assert numpy(labels).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="triplet_loss"):
        inputs.example_labels(np.zeros((3, 2), "int32"), np.zeros((3, 2), "float32"), "triplet_loss")


def test_an_empty_batch_gives_an_empty_loss():
    empty = np.zeros((0, 4), "float32")
    assert inputs.is_empty_batch(empty)
    assert not inputs.is_empty_batch(np.zeros((1, 4), "float32"))
    assert tuple(inputs.empty_batch_loss(empty).shape) == (0,)


def test_a_class_id_out_of_range_is_named():
    ids = inputs.sparse_ids(np.array([0, 7]), np.zeros((2, 3), "float32"), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: class ids must lie in \[0, 2\].*7"):
        inputs.valid_class_ids(ids, 3, "sparse_categorical_crossentropy")


def test_ids_int32_cannot_hold_are_refused_not_wrapped():
    with pytest.raises(ValueError, match="4294967296"):
        inputs.sparse_ids(np.array([0, 2**32]), np.zeros((2, 3), "float32"), "sparse_categorical_crossentropy")
