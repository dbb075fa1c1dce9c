"""What a trial measures, per task, in NumPy. Every function takes the labels (or targets) of one split and
the model's raw outputs on it (logits, estimates or embeddings). A trial is measured on two splits
(`measure`): validation, which chooses (the objective, thresholds, early stopping), and test, which is
reported beside it and used for nothing else; each metric is logged as `val_NAME` and `test_NAME`.

Binary metrics come in three kinds, and the difference matters when a loss is swept:
- at the fixed threshold 0.5 (`minority_recall`, `precision`, `accuracy`): a loss that shifts every score
  (focal loss with a large alpha, a positive class weight) moves these without ranking the examples any
  better, so they reward the shift;
- threshold-free (`pr_auc`, `roc_auc`, `recall_at_precision`): they depend only on how the scores rank the
  test examples, so no shift can win them;
- at a threshold chosen on validation data (`f1`, `balanced_accuracy`): the threshold that maximises the
  metric on the validation split is applied to both splits, as a deployed model would be tuned. A shift
  of the scores moves the chosen threshold with it.

Outputs that are not finite (a diverged model) raise `DivergedError`: they have no score, and a NaN
embedding must not be ranked as a perfect one.
"""

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from kerasloss.metric_learning import retrieval
from kerasloss.tools.callbacks import embedding_spread

# The metrics each task logs; a spec's objective must be one of its task's. "max" or "min": better is.
TASK_METRICS = {
    "binary": {
        "pr_auc": "max",
        "roc_auc": "max",
        "recall_at_precision": "max",
        "f1": "max",
        "balanced_accuracy": "max",
        "minority_recall": "max",
        "precision": "max",
        "accuracy": "max",
    },
    "regression": {"mse": "min", "mae": "min"},
    "multiclass": {"accuracy": "max", "macro_recall": "max", "calibration_error": "min", "nll": "min"},
    "embedding": {"recall_at_1": "max", "map_at_r": "max", "embedding_spread": "max"},
}
DEFAULT_MIN_PRECISION = 0.8  # recall_at_precision's precision floor unless a spec sets `min_precision`
PARTS = ("val", "test")  # the splits a trial is measured on, as metric-name prefixes


class DivergedError(ValueError):
    """A model whose outputs are NaN or infinite: the trial failed, it has no score."""


def direction(name):
    """ "max" or "min" for a logged metric name (`val_pr_auc`, `test_mse_std`, `objective`, `pr_auc`), or None."""
    base = name.removesuffix("_std")
    for part in PARTS:
        base = base.removeprefix(f"{part}_")
    for directions in TASK_METRICS.values():
        if base in directions:
            return directions[base] if not name.endswith("_std") else "min"
    return None


def check_finite(outputs, part):
    """Raise `DivergedError` when any output on `part` is NaN or infinite, naming how many rows."""
    values = np.asarray(outputs, np.float64).reshape(len(outputs), -1)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise DivergedError(
            f"the model diverged: {int(bad.sum())} of {len(values)} {part} output row(s) are NaN or infinite"
        )


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|


def _at_threshold(labels, scores, threshold):
    """(true positives, false positives, false negatives, true negatives) of `scores >= threshold`."""
    predicted = scores >= threshold
    positive = labels == 1
    tp, fp = np.sum(predicted & positive), np.sum(predicted & ~positive)
    fn, tn = np.sum(~predicted & positive), np.sum(~predicted & ~positive)
    return tp, fp, fn, tn


def f1_score(labels, scores, threshold):
    tp, fp, fn, _ = _at_threshold(labels, scores, threshold)
    return float(2 * tp / max(2 * tp + fp + fn, 1))


def balanced_accuracy(labels, scores, threshold):
    """The mean of the true positive rate and the true negative rate."""
    tp, fp, fn, tn = _at_threshold(labels, scores, threshold)
    return float(0.5 * (tp / max(tp + fn, 1) + tn / max(tn + fp, 1)))


def best_f1_threshold(labels, scores):
    """The score threshold with the highest F1 on (labels, scores)."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-300)
    return float(thresholds[np.argmax(f1)])


def best_balanced_threshold(labels, scores):
    """The score threshold with the highest balanced accuracy (Youden's J = TPR - FPR) on (labels, scores)."""
    fpr, tpr, thresholds = roc_curve(labels, scores)
    return float(thresholds[np.argmax(tpr - fpr)])


def recall_at_precision(labels, scores, min_precision):
    """The highest recall of any threshold whose precision is at least `min_precision` (0 if none is)."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    return float(np.max(recall[precision >= min_precision], initial=0.0))


def thresholds(labels, logits):
    """The decision thresholds `f1` and `balanced_accuracy` use, chosen on (labels, logits) of the validation
    split."""
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(logits, np.float64).reshape(-1)
    return {"f1": best_f1_threshold(labels, scores), "balanced_accuracy": best_balanced_threshold(labels, scores)}


def binary(labels, logits, threshold=0.5, *, chosen=None, min_precision=DEFAULT_MIN_PRECISION):
    """Every binary metric of class 1 (the minority) on one split; `chosen` = `thresholds(...)` of the
    validation split, at which `f1` and `balanced_accuracy` are measured (left out without it).
    Scores are the logits themselves: the same ranking as the probabilities, without the ties that
    rounding large logits to probability 1.0 would make."""
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(logits, np.float64).reshape(-1)
    tp, fp, fn, tn = _at_threshold(labels, _sigmoid(scores), threshold)
    measured = {
        "pr_auc": float(average_precision_score(labels, scores)),
        "roc_auc": float(roc_auc_score(labels, scores)),
        "recall_at_precision": recall_at_precision(labels, scores, min_precision),
        "minority_recall": float(tp / max(tp + fn, 1)),
        "precision": float(tp / max(tp + fp, 1)),
        "accuracy": float((tp + tn) / max(len(labels), 1)),
    }
    if chosen is not None:
        measured["f1"] = f1_score(labels, scores, chosen["f1"])
        measured["balanced_accuracy"] = balanced_accuracy(labels, scores, chosen["balanced_accuracy"])
    return measured


def regression(targets, estimates):
    """Mean squared and absolute error (the built-in regression data's test targets are clean)."""
    error = np.asarray(estimates, np.float64).reshape(-1) - np.asarray(targets, np.float64).reshape(-1)
    return {"mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error)))}


def calibration_error(labels, probabilities, bins=15):
    """Expected calibration error (Guo et al. 2017): the confidence-weighted gap between confidence and
    accuracy over `bins` equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(total)


def macro_recall(labels, predicted):
    """The mean over the classes present in `labels` of each class's recall (scikit-learn's balanced
    accuracy): every class counts the same, however rare."""
    classes = np.unique(labels)
    return float(np.mean([np.mean(predicted[labels == c] == c) for c in classes]))


def multiclass(labels, logits):
    """Accuracy, macro recall, expected calibration error and negative log-likelihood of the softmax."""
    labels = np.asarray(labels).reshape(-1)
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    predicted = p.argmax(axis=1)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "macro_recall": macro_recall(labels, predicted),
        "calibration_error": calibration_error(labels, p),
        "nll": float(-np.mean(log_p[np.arange(len(labels)), labels])),
    }


def embedding(labels, embeddings):
    """`recall_at_1` and `map_at_r` by `kerasloss.metric_learning.retrieval.evaluate` (Euclidean, each test
    point searching the others; points whose class has no other test point are left out), and
    `embedding_spread` (`kerasloss.tools.callbacks.embedding_spread`): the mean distance to the centroid over
    the root-mean-square norm, near 0 when the embedding has collapsed."""
    labels = np.asarray(labels).reshape(-1)
    e = np.asarray(embeddings, np.float32).reshape(len(labels), -1)
    found = retrieval.evaluate(e, labels, k=1, distance="euclidean")
    return {"recall_at_1": found["recall@1"], "map_at_r": found["map@r"], "embedding_spread": embedding_spread(e)}


BY_TASK = {"binary": binary, "regression": regression, "multiclass": multiclass, "embedding": embedding}


def measure(task, val, test, min_precision=DEFAULT_MIN_PRECISION, names=None):
    """`{val_NAME: ..., test_NAME: ...}` for every metric of the task (or those in `names`), from `val` and
    `test`, each (labels, raw outputs). Binary thresholds are chosen on validation and applied to both.
    Raises `DivergedError` when an output is not finite."""
    measured = {}
    chosen = thresholds(*val) if task == "binary" else None
    for part, (labels, outputs) in zip(PARTS, (val, test), strict=True):
        check_finite(outputs, {"val": "validation", "test": "test"}[part])
        if task == "binary":
            values = binary(labels, outputs, chosen=chosen, min_precision=min_precision)
        else:
            values = BY_TASK[task](labels, outputs)
        measured.update({f"{part}_{k}": v for k, v in values.items() if names is None or k in names})
    return measured
