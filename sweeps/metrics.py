"""What a trial measures on the held-out test set, per task, in NumPy. Every function takes the test
labels (or targets) and the model's raw outputs (logits, estimates or embeddings)."""

import numpy as np
from sklearn.metrics import average_precision_score

from kerasloss.callbacks import embedding_spread

# The metrics each task logs; a spec's objective must be one of its task's. "max" or "min": better is.
TASK_METRICS = {
    "binary": {"minority_recall": "max", "precision": "max", "pr_auc": "max", "accuracy": "max"},
    "regression": {"test_mse": "min", "test_mae": "min"},
    "multiclass": {"accuracy": "max", "calibration_error": "min", "nll": "min"},
    "embedding": {"recall_at_1": "max", "embedding_spread": "max"},
}


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for large |z|


def binary(labels, logits, threshold=0.5):
    """Recall and precision of class 1 (the minority) at `threshold`, PR-AUC (average precision), accuracy."""
    labels = np.asarray(labels).reshape(-1)
    p = _sigmoid(np.asarray(logits, np.float64).reshape(-1))
    predicted = p >= threshold
    true_positive = np.sum(predicted & (labels == 1))
    return {
        "minority_recall": float(true_positive / max(np.sum(labels == 1), 1)),
        "precision": float(true_positive / max(np.sum(predicted), 1)),
        "pr_auc": float(average_precision_score(labels, p)),
        "accuracy": float(np.mean(predicted == (labels == 1))),
    }


def regression(targets, estimates):
    """Test error against clean targets."""
    error = np.asarray(estimates, np.float64).reshape(-1) - np.asarray(targets, np.float64).reshape(-1)
    return {"test_mse": float(np.mean(error**2)), "test_mae": float(np.mean(np.abs(error)))}


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


def multiclass(labels, logits):
    """Accuracy, expected calibration error and negative log-likelihood of the softmax."""
    labels = np.asarray(labels).reshape(-1)
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    return {
        "accuracy": float(np.mean(p.argmax(axis=1) == labels)),
        "calibration_error": calibration_error(labels, p),
        "nll": float(-np.mean(log_p[np.arange(len(labels)), labels])),
    }


def embedding(labels, embeddings):
    """Recall@1 (nearest-neighbour accuracy): the share of test points whose nearest other test point
    (Euclidean) has the same label. `embedding_spread` (`kerasloss.callbacks.embedding_spread`): the mean
    distance to the centroid over the root-mean-square norm, near 0 when the embedding has collapsed."""
    labels = np.asarray(labels).reshape(-1)
    e = np.asarray(embeddings, np.float64).reshape(len(labels), -1)
    squared = np.sum(e**2, axis=1)
    d = squared[:, None] + squared[None, :] - 2.0 * e @ e.T
    np.fill_diagonal(d, np.inf)
    nearest = d.argmin(axis=1)
    return {"recall_at_1": float(np.mean(labels[nearest] == labels)), "embedding_spread": embedding_spread(e)}


BY_TASK = {"binary": binary, "regression": regression, "multiclass": multiclass, "embedding": embedding}
