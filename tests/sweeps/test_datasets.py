"""The exercise datasets: the advertised properties, fixed seeds, a clean test split."""

import numpy as np
import pytest

from sweeps import datasets


@pytest.mark.parametrize("name", sorted(datasets.BUILDERS))
def test_shapes_types_and_determinism(name):
    data = datasets.load(name)
    assert data.task in datasets.TASKS
    assert data.x_train.dtype == np.float32 and data.x_test.dtype == np.float32
    assert len(data.x_train) == len(data.y_train) and len(data.x_test) == len(data.y_test)
    assert data.x_train.shape[1] == data.x_test.shape[1]
    again = datasets.BUILDERS[name]()
    np.testing.assert_array_equal(again.x_train, data.x_train)
    assert datasets.load(name) is data  # cached: built once per process


def test_circle_labels_follow_the_lesson_rule():
    data = datasets.load("circle")
    assert np.all(np.abs(data.x_train) <= 2)
    np.testing.assert_array_equal(data.y_train, (np.sum(data.x_train**2, axis=1) < 1.5).astype("int32"))


@pytest.mark.parametrize(("name", "minority"), [("imbalanced_90_10", 0.10), ("imbalanced_95_5", 0.05)])
def test_imbalance_ratio_is_exact_in_both_splits(name, minority):
    data = datasets.load(name)
    assert data.y_train.mean() == pytest.approx(minority) and data.y_test.mean() == pytest.approx(minority)


def test_sin_has_five_percent_outliers_and_clean_test_targets():
    data = datasets.load("sin_outliers")
    residual = np.abs(data.y_train - np.sin(data.x_train[:, 0]))
    assert np.mean(residual > 1.0) == pytest.approx(0.05)
    np.testing.assert_allclose(data.y_test, np.sin(data.x_test[:, 0]), atol=1e-6)


def test_teacher_logits_are_a_good_teacher():
    data = datasets.load("multiclass")
    assert data.teacher.shape == (len(data.x_train), data.classes)
    accuracy = np.mean(data.teacher.argmax(axis=1) == data.y_train)
    assert 0.7 < accuracy < 1.0  # informative, and the classes overlap


def test_digits_come_from_the_installed_package():
    data = datasets.load("digits")
    assert len(data.x_train) + len(data.x_test) == 1797 and data.image_shape == (8, 8)
    assert data.x_train.max() <= 1.0


@pytest.mark.parametrize("ratio", [10, 100])
def test_long_tail_decays_exponentially_in_training_and_is_balanced_where_it_is_judged(ratio):
    data = datasets.load(f"long_tail_{ratio}")
    counts = np.bincount(data.y_train)
    assert counts[0] == 500 and counts[-1] == 500 // ratio and np.all(np.diff(counts) < 0)
    assert counts[9] == int(500 * (1 / ratio) ** (9 / 9)) and counts[3] == int(500 * (1 / ratio) ** (3 / 9))
    assert np.bincount(data.y_val).tolist() == [200] * 10 and np.bincount(data.y_test).tolist() == [1000] * 10
    assert data.task == "multiclass" and data.classes == 10


def test_long_tail_ratios_share_their_examples_and_the_bayes_rule_is_informative():
    tail, head = datasets.load("long_tail_100"), datasets.load("long_tail_10")
    rows = {row.tobytes() for row in head.x_train}
    assert all(row.tobytes() in rows for row in tail.x_train)  # CIFAR-10-LT's nesting: one pool, subsampled
    np.testing.assert_array_equal(tail.x_test, head.x_test)
    bayes = datasets.bayes_scores(tail.x_test, datasets.mixture_means()).argmax(-1)
    recall = np.mean([np.mean(bayes[tail.y_test == c] == c) for c in range(10)])
    assert 0.70 < recall < 0.80  # overlapping classes: the prior matters (experiment 9's Bayes rate: 0.744)
