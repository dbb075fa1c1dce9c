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
    """KL(p || q). Probabilities: as Keras defines it, both clipped to [1e-7, 1], no renormalization.
    Logits: the exact divergence from softmax(q), 0 log 0 = 0."""
    p = np.asarray(p, np.float64)
    if not from_logits:
        p, q = np.clip(p, EPS, 1), np.clip(np.asarray(q, np.float64), EPS, 1)
        return (p * np.log(p / q)).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - log_probs(q, True)), 0.0)
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


# Representation learning: naive loops over anchors, straight from the papers.


def normalize(x):
    x = np.asarray(x, np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.where(norm > 0, x / np.where(norm > 0, norm, 1), 0.0)


def _logsumexp(v):
    v = np.asarray(v, np.float64)
    m = v.max()
    return m + np.log(np.exp(v - m).sum())


def nt_xent(views, temperature):
    """SimCLR: 2N anchors; for each, the other view is the positive and the 2N - 2 others negatives."""
    n = len(views)
    z = normalize(np.concatenate([views[:, 0], views[:, 1]]))
    losses = np.zeros(2 * n)
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        sims = [z[i] @ z[k] / temperature for k in range(2 * n) if k != i]
        losses[i] = -(z[i] @ z[positive] / temperature) + _logsumexp(sims)
    return 0.5 * (losses[:n] + losses[n:])


def info_nce(candidates, temperature, symmetric=False):
    """The lesson's contrastive_loss(anchor, positive, negatives), per example; in-batch when K = 0."""
    z = normalize(candidates)
    n, k = z.shape[0], z.shape[1] - 2
    out = np.zeros(n)
    for i in range(n):
        anchor = z[i, 0]
        # explicit negatives when K > 0, else every example's positive (in-batch)
        others = [z[i, 1 + j] for j in range(1 + k)] if k > 0 else [z[j, 1] for j in range(n)]
        sims = [anchor @ o / temperature for o in others]
        out[i] = -(anchor @ z[i, 1] / temperature) + _logsumexp(sims)
        if symmetric:
            back = [z[i, 1] @ z[j, 0] / temperature for j in range(n)]
            out[i] = 0.5 * (out[i] - (z[i, 1] @ anchor / temperature) + _logsumexp(back))
    return out


def supervised_contrastive(labels, features, temperature):
    """Khosla et al. 2020, L_out, averaged over the anchors that have a positive; per example so that
    the batch mean is that average."""
    features = np.asarray(features, np.float64)
    if features.ndim == 2:
        features = features[:, None]
    n, v = features.shape[:2]
    z = normalize(features.reshape(n * v, -1))
    y = np.repeat(np.asarray(labels).reshape(-1), v)
    per_anchor = np.zeros(n * v)
    used = 0
    for i in range(n * v):
        positives = [p for p in range(n * v) if p != i and y[p] == y[i]]
        if not positives:
            continue
        used += 1
        denominator = _logsumexp([z[i] @ z[a] / temperature for a in range(n * v) if a != i])
        per_anchor[i] = -np.mean([z[i] @ z[p] / temperature - denominator for p in positives])
    return per_anchor.reshape(n, v).sum(1) * n / max(used, 1)


def pair_contrastive(similar, pairs, margin):
    """Hadsell et al. 2006 with Y = 1 for similar pairs: Y D^2 / 2 + (1 - Y) max(m - D, 0)^2 / 2."""
    pairs = np.asarray(pairs, np.float64)
    d = np.linalg.norm(pairs[:, 0] - pairs[:, 1], axis=-1)
    y = np.asarray(similar, np.float64).reshape(-1)
    return 0.5 * (y * d**2 + (1 - y) * np.maximum(margin - d, 0) ** 2)


# Triplet mining: brute force over anchors, positives and negatives.


def pairwise_distances(x, distance="euclidean"):
    x = np.asarray(x, np.float64)
    if distance == "cosine":
        z = normalize(x)
        return 1.0 - z @ z.T
    squared = ((x[:, None] - x[None]) ** 2).sum(-1)
    return squared if distance == "squared_euclidean" else np.sqrt(squared)


def _triplet_sets(labels, n):
    labels = np.asarray(labels).reshape(-1)
    positives = [[p for p in range(n) if p != a and labels[p] == labels[a]] for a in range(n)]
    negatives = [[k for k in range(n) if labels[k] != labels[a]] for a in range(n)]
    return positives, negatives


def triplet_semi_hard(labels, x, margin, distance="euclidean"):
    """TensorFlow Addons' TripletSemiHardLoss: for each anchor-positive pair the closest negative
    farther than the positive, else the farthest negative; the mean over anchor-positive pairs.
    Returned per anchor (its pairs' sum, scaled by batch / pairs) so that the mean is that value."""
    d = pairwise_distances(x, distance)
    positives, negatives = _triplet_sets(labels, len(d))
    per_anchor, pairs = np.zeros(len(d)), 0
    for a in range(len(d)):
        for p in positives[a]:
            if not negatives[a]:
                continue
            farther = [d[a, k] for k in negatives[a] if d[a, k] > d[a, p]]
            negative = min(farther) if farther else max(d[a, k] for k in negatives[a])
            per_anchor[a] += max(margin + d[a, p] - negative, 0.0)
            pairs += 1
    return per_anchor * len(d) / max(pairs, 1)


def triplet_hard(labels, x, margin, distance="euclidean", soft=False):
    """Batch-hard (Hermans et al. 2017; TFA's TripletHardLoss): per anchor the farthest positive
    (0 if none, as TFA) and the closest negative; the mean over anchors of the per-anchor values."""
    d = pairwise_distances(x, distance)
    positives, negatives = _triplet_sets(labels, len(d))
    if not any(positives) or not any(negatives):
        return np.zeros(len(d))
    per_anchor = np.zeros(len(d))
    for a in range(len(d)):
        hardest_positive = max((d[a, p] for p in positives[a]), default=0.0)
        gap = hardest_positive - min(d[a, k] for k in negatives[a])
        per_anchor[a] = np.logaddexp(0, gap) if soft else max(margin + gap, 0.0)
    return per_anchor


def triplet_all(labels, x, margin, distance="euclidean"):
    """Batch-all (Hermans et al. 2017): every valid triplet, averaged over the non-zero ones; per
    anchor (its sum, scaled by batch / non-zero triplets)."""
    d = pairwise_distances(x, distance)
    positives, negatives = _triplet_sets(labels, len(d))
    per_anchor, active = np.zeros(len(d)), 0
    for a in range(len(d)):
        for p in positives[a]:
            for k in negatives[a]:
                value = margin + d[a, p] - d[a, k]
                if value > 0:
                    per_anchor[a] += value
                    active += 1
    return per_anchor * len(d) / max(active, 1)


def finite_differences(f, x, step=1e-6):
    """Central differences of a scalar float64 function f at x, entry by entry: the gradient a loss's
    autodiff gradient is checked against."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        g[index] = (f(up) - f(down)) / (2 * step)
    return g
