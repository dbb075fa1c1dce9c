"""Loss arguments taken from the data (`sweeps.derived`): the training part's class counts for the losses
that take them, `beta` as the class-balanced per-class alpha, a placeholder before the data is loaded."""

import types

import numpy as np
import pytest

import kerasloss
from sweeps import derived


def _data(y, classes):
    return types.SimpleNamespace(y_train=np.asarray(y, "int32"), classes=classes)


def test_the_losses_that_take_class_counts_are_found_by_their_constructor():
    assert derived.takes_counts("LogitAdjusted") and derived.takes_counts("balanced_softmax")
    assert derived.takes_counts("LDAM")
    assert not derived.takes_counts("SparseCategoricalCrossentropy") and not derived.takes_counts("FocalLoss")


def test_beta_applies_to_the_per_class_alpha_of_the_sparse_softmax_focal_loss_only():
    assert derived.takes_beta("SparseCategoricalFocalLoss")
    assert not derived.takes_beta("categorical_focal")  # one-hot rows: the harness feeds class ids
    assert not derived.takes_beta("FocalLoss") and not derived.takes_beta("MultiSimilarity")


def test_training_counts_count_every_class_id_in_the_training_part():
    counts = derived.training_counts(_data([0, 0, 0, 2, 1, 1], 3), "here")
    assert counts.tolist() == [3, 2, 1]


def test_a_class_without_training_examples_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"here: class id\(s\) 1, 3 have no training examples"):
        derived.training_counts(_data([0, 0, 2], 4), "here")


def test_resolve_adds_the_counts_unless_given_and_leaves_other_losses_alone():
    assert derived.resolve("LogitAdjusted", {"tau": 2.0}, [5, 3]) == {"tau": 2.0, "class_counts": (5, 3)}
    assert derived.resolve("LogitAdjusted", {"class_counts": [9, 9]}, [5, 3]) == {"class_counts": [9, 9]}
    assert derived.resolve("LDAM", {}) == {"class_counts": derived.PLACEHOLDER_COUNTS}  # a spec check
    assert derived.resolve("FocalLoss", {"gamma": 1.0}, [5, 3]) == {"gamma": 1.0}
    assert derived.resolve("MultiSimilarity", {"beta": 40.0}, [5, 3]) == {"beta": 40.0}  # its own beta


def test_beta_becomes_the_class_balanced_weights_as_alpha():
    counts = [500, 50, 5]
    arguments = derived.resolve("SparseCategoricalFocalLoss", {"gamma": 0.0, "beta": 0.999}, counts)
    assert set(arguments) == {"gamma", "alpha"}
    np.testing.assert_allclose(arguments["alpha"], kerasloss.class_balanced_weights(counts, 0.999))
    # Cui et al.'s weights, written out: (1 - beta) / (1 - beta ** n), normalized to sum to the classes.
    raw = (1 - 0.999) / (1 - 0.999 ** np.array(counts, float))
    np.testing.assert_allclose(arguments["alpha"], raw / raw.sum() * 3, rtol=1e-12)


def test_beta_for_a_loss_without_per_class_alpha_is_refused_naming_it():
    with pytest.raises(TypeError, match=r"SparseCategoricalCrossentropy takes no argument 'beta' \(the class-bal"):
        derived.resolve("SparseCategoricalCrossentropy", {"beta": 0.9}, [5, 3])


def test_beta_with_alpha_or_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"give `beta`.* or `alpha`, not both"):
        derived.resolve("SparseCategoricalFocalLoss", {"beta": 0.9, "alpha": [1.0, 1.0]}, [5, 3])
    with pytest.raises(ValueError, match=r"beta.*1.5"):
        derived.resolve("SparseCategoricalFocalLoss", {"beta": 1.5}, [5, 3])


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("LogitAdjusted", {}, True),
        ("LogitAdjusted", {"class_counts": [1, 2]}, False),
        ("SparseCategoricalFocalLoss", {"beta": None}, True),
        ("SparseCategoricalFocalLoss", {"gamma": 1.0}, False),
        ("MultiSimilarity", {"beta": 40.0}, False),
    ],
)
def test_uses_counts(name, arguments, expected):
    assert derived.uses_counts(name, arguments) is expected
