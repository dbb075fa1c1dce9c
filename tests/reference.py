"""Independent NumPy references, in float64, written from the papers' and textbooks' formulas.

Deliberately naive where naivety is exact in float64 (one-hot targets are built, logs are taken of
probabilities); nothing here is shared with kerasloss. Each returns one loss per sample.
"""

import numpy as np

EPS = 1e-7  # Keras' epsilon, for the probability-input variants


def sigmoid(x):
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def log_sigmoid(x):
    return -np.logaddexp(0.0, -np.asarray(x, np.float64))


def log_softmax(x):
    x = np.asarray(x, np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def one_hot(ids, k):
    return np.eye(k)[np.asarray(ids)]


# Regression


def mse(y, p):
    return ((np.asarray(p, np.float64) - y) ** 2).mean(-1)


def mae(y, p):
    return np.abs(np.asarray(p, np.float64) - y).mean(-1)


def huber(y, p, delta=1.0):
    e = np.abs(np.asarray(p, np.float64) - y)
    return np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)).mean(-1)


# Cross-entropies


def bce(y, pred, from_logits, label_smoothing=0.0):
    t = np.asarray(y, np.float64) * (1 - label_smoothing) + label_smoothing / 2
    if from_logits:
        log_p, log_q = log_sigmoid(pred), log_sigmoid(-np.asarray(pred, np.float64))
    else:
        p = np.clip(np.asarray(pred, np.float64), EPS, 1 - EPS)
        log_p, log_q = np.log(p), np.log(1 - p)
    return -(t * log_p + (1 - t) * log_q).mean(-1)


def log_probs(pred, from_logits):
    if from_logits:
        return log_softmax(pred)
    p = np.asarray(pred, np.float64)
    return np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))


def cce(y, pred, from_logits, label_smoothing=0.0):
    k = np.shape(pred)[-1]
    t = np.asarray(y, np.float64) * (1 - label_smoothing) + label_smoothing / k
    return -(t * log_probs(pred, from_logits)).sum(-1)


def scce(ids, pred, from_logits, label_smoothing=0.0):
    k = np.shape(pred)[-1]
    if not from_logits:  # Keras: clip, then renormalise through softmax(log p)
        pred = np.log(np.clip(np.asarray(pred, np.float64), EPS, 1 - EPS))
    return cce(one_hot(ids, k), pred, True, label_smoothing)


def hinge(y, pred):
    y = np.where(np.asarray(y) == 0, -1.0, y)
    return np.maximum(1 - y * np.asarray(pred, np.float64), 0).mean(-1)


def cost_sensitive_bce(y, pred, from_logits, positive_weight, false_negative_weight, threshold):
    y = np.asarray(y, np.float64)
    p = sigmoid(pred) if from_logits else np.asarray(pred, np.float64)
    ce = bce(y[..., None], np.asarray(pred)[..., None], from_logits)
    weight = np.where(y == 1, positive_weight, 1.0) * np.where((y == 1) & (p < threshold), false_negative_weight, 1.0)
    return (weight * ce).mean(-1)


# Focal (Lin et al. 2017)


def binary_focal(y, pred, gamma, alpha, from_logits, label_smoothing=0.0):
    y = np.asarray(y, np.float64)
    t = y * (1 - label_smoothing) + label_smoothing / 2
    if from_logits:
        p, log_p, log_q = sigmoid(pred), log_sigmoid(pred), log_sigmoid(-np.asarray(pred, np.float64))
    else:
        p = np.clip(np.asarray(pred, np.float64), EPS, 1 - EPS)
        log_p, log_q = np.log(p), np.log(1 - p)
    ce = -(t * log_p + (1 - t) * log_q)
    p_t = t * p + (1 - t) * (1 - p)
    loss = (1 - p_t) ** gamma * ce
    if alpha is not None:
        alpha = np.asarray(alpha, np.float64)
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean(-1)


def categorical_focal(y, pred, gamma, alpha, from_logits, label_smoothing=0.0):
    k = np.shape(pred)[-1]
    t = np.asarray(y, np.float64) * (1 - label_smoothing) + label_smoothing / k
    log_p = log_probs(pred, from_logits)
    loss = -t * (1 - np.exp(log_p)) ** gamma * log_p
    if alpha is not None:
        loss = np.asarray(alpha, np.float64) * loss
    return loss.sum(-1)


def sparse_focal(ids, pred, gamma, alpha, from_logits):
    k = np.shape(pred)[-1]
    if not from_logits:
        pred = np.log(np.clip(np.asarray(pred, np.float64), EPS, 1 - EPS))
    return categorical_focal(one_hot(ids, k), pred, gamma, alpha, True)


# Divergences


def kl(p, q, from_logits=False):
    p = np.asarray(p, np.float64)
    log_q = log_probs(q, True) if from_logits else np.log(np.clip(np.asarray(q, np.float64), EPS, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - log_q), 0.0)
    return terms.sum(-1)


def distillation(teacher_logits, student_logits, temperature):
    p = np.exp(log_softmax(np.asarray(teacher_logits, np.float64) / temperature))
    return temperature**2 * kl(p, np.asarray(student_logits, np.float64) / temperature, from_logits=True)


# Multi-task: the seed's classification + positive-only regression loss, batch-level.


def multitask_batch_loss(y, pred, classification_weight, regression_weight, false_negative_weight):
    labels, targets = y[:, 0], y[:, 1]
    ce = bce(labels[:, None], pred[:, :1], True)
    fn = (labels == 1) & (sigmoid(pred[:, 0]) < 0.5)
    cls = np.where(fn, ce * false_negative_weight, ce).mean()
    positive = labels == 1
    reg = ((pred[positive, 1] - targets[positive]) ** 2).mean() if positive.any() else 0.0
    return classification_weight * cls + regression_weight * reg
