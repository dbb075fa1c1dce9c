"""Test-set metrics against values computed by hand."""

import numpy as np
import pytest

from sweeps import metrics


def test_binary_metrics_by_hand():
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    logits = np.array([5.0, 5.0, -5.0, 5.0, -5.0, -5.0, -5.0, -5.0])
    m = metrics.binary(labels, logits)
    assert m["minority_recall"] == pytest.approx(2 / 3)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert metrics.binary(labels, np.where(labels == 1, 9.0, -9.0))["pr_auc"] == pytest.approx(1.0)


def test_calibration_error_of_a_calibrated_and_an_overconfident_model():
    labels = np.array([0, 0, 0, 1])
    calibrated = np.tile([0.75, 0.25], (4, 1))  # says 75%, right 75% of the time
    assert metrics.calibration_error(labels, calibrated) == pytest.approx(0.0)
    overconfident = np.tile([0.99, 0.01], (4, 1))
    assert metrics.calibration_error(labels, overconfident) == pytest.approx(0.24)


def test_multiclass_accuracy_and_nll():
    m = metrics.multiclass(np.array([0, 1]), np.log(np.array([[0.5, 0.5], [0.2, 0.8]])))
    assert m["accuracy"] == pytest.approx(1.0)  # argmax of [0.5, 0.5] is class 0
    assert m["nll"] == pytest.approx(-(np.log(0.5) + np.log(0.8)) / 2)


def test_recall_at_one_and_spread():
    labels = np.array([0, 0, 1, 1])
    good = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    bad = np.array([[0.0, 0.0], [5.0, 5.0], [0.1, 0.0], [5.1, 5.0]])
    assert metrics.embedding(labels, good)["recall_at_1"] == 1.0
    assert metrics.embedding(labels, bad)["recall_at_1"] == 0.0
    assert metrics.embedding(labels, good)["map_at_r"] == 1.0 and metrics.embedding(labels, bad)["map_at_r"] == 0.0
    assert metrics.embedding(labels, np.ones((4, 2)))["embedding_spread"] == pytest.approx(0.0)


def test_regression_errors():
    m = metrics.regression(np.array([0.0, 1.0]), np.array([[1.0], [1.0]]))
    assert m == {"mse": 0.5, "mae": 0.5}


def test_threshold_free_metrics_by_hand():
    labels = np.array([1, 0, 1, 0, 0])
    scores = np.array([4.0, 3.0, 2.0, 1.0, 0.0])  # ranking: + - + - -
    m = metrics.binary(labels, scores)
    assert m["pr_auc"] == pytest.approx((1.0 + 2 / 3) / 2)  # precision at each positive: 1/1, 2/3
    assert m["roc_auc"] == pytest.approx(5 / 6)  # of 6 (positive, negative) pairs, 5 ranked right
    assert metrics.recall_at_precision(labels, scores, 0.9) == pytest.approx(0.5)  # only the top one
    assert metrics.recall_at_precision(labels, scores, 0.6) == pytest.approx(1.0)  # top three: 2/3
    assert metrics.recall_at_precision(labels, -scores, 0.9) == 0.0  # never that precise


def test_a_shift_of_every_score_changes_recall_at_half_but_not_the_threshold_free_metrics():
    rng = np.random.default_rng(0)
    labels = (rng.random(500) < 0.1).astype(int)
    scores = rng.normal(size=500) + 2.0 * labels - 2.0
    plain, shifted = metrics.binary(labels, scores), metrics.binary(labels, scores + 2.0)
    assert shifted["minority_recall"] > plain["minority_recall"] + 0.2
    for name in ("pr_auc", "roc_auc", "recall_at_precision"):
        assert shifted[name] == plain[name]
    shifted_f1 = metrics.binary(labels, scores + 2.0, chosen=metrics.thresholds(labels, scores + 2.0))["f1"]
    assert shifted_f1 == pytest.approx(metrics.binary(labels, scores, chosen=metrics.thresholds(labels, scores))["f1"])


def test_validation_chosen_thresholds_by_hand():
    val_labels, val_scores = np.array([0, 0, 1, 1]), np.array([0.0, 1.0, 2.0, 3.0])
    assert metrics.best_f1_threshold(val_labels, val_scores) == 2.0  # 2 and 3 positive: F1 = 1
    assert metrics.best_balanced_threshold(val_labels, val_scores) == 2.0
    test_labels, test_scores = np.array([1, 1, 0, 0]), np.array([2.5, 1.5, 2.2, 0.0])
    m = metrics.binary(test_labels, test_scores, chosen=metrics.thresholds(val_labels, val_scores))
    # at 2.0 on the test set: predicted positive {2.5, 2.2}: tp 1, fp 1, fn 1, tn 1
    assert m["f1"] == pytest.approx(0.5) and m["balanced_accuracy"] == pytest.approx(0.5)
    assert "f1" not in metrics.binary(test_labels, test_scores)  # no validation data, no chosen threshold
    both = metrics.measure("binary", (val_labels, val_scores), (test_labels, test_scores))
    assert both["test_f1"] == pytest.approx(0.5) and both["val_f1"] == pytest.approx(1.0)  # chosen on validation


def test_macro_recall_counts_every_class_the_same():
    labels = np.array([0, 0, 0, 0, 1, 2])
    logits = np.log(np.eye(3)[[0, 0, 0, 0, 0, 2]] + 1e-3)  # class 1's only example is missed
    m = metrics.multiclass(labels, logits)
    assert m["accuracy"] == pytest.approx(5 / 6)
    assert m["macro_recall"] == pytest.approx((1 + 0 + 1) / 3)


def test_non_finite_outputs_are_a_divergence_not_a_score():
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(metrics.DivergedError, match="8 of 8 validation output row"):
        metrics.measure("embedding", (labels, np.full((8, 3), np.nan)), (labels, np.zeros((8, 3))))
    with pytest.raises(metrics.DivergedError, match="1 of 2 test output row"):
        metrics.measure("regression", ([0.0, 1.0], [[0.0], [1.0]]), ([0.0, 1.0], [[np.inf], [1.0]]))
