"""Independent NumPy float64 references for proxy- and class-centre-based losses.

Written from the papers and from reading the original / widely used implementations (pytorch-metric-learning
2.9.0 for the edge cases), never from kerasloss. Deliberately naive: explicit Python loops over examples and
classes, clarity over speed; everything in float64.

The losses take ``cosines`` (B, C): the cosine similarity of each L2-normalised embedding with each L2-normalised
class proxy, and integer class ``labels`` (B,) in [0, C). Helpers build ``cosines`` from raw vectors:

* :func:`proxy_cosines` -- embeddings (B, dim) and proxies (dim, C), one column per class (pml's ``W`` layout);
* :func:`sub_center_cosines` -- Deng et al. 2020 sub-center ArcFace, proxies (dim, C*K), max over each class's K.

Losses: :func:`arcface` (Deng et al. 2019), :func:`cosface` (Wang et al. 2018), :func:`proxy_anchor` /
:func:`proxy_anchor_terms` (Kim et al. 2020), :func:`proxy_nca` (pml's ProxyNCALoss) and :func:`proxy_nca_paper`
(Movshovitz-Attias et al. 2017). ``tests/literals/proxy.py`` holds pml 2.9.0 values these reproduce.
"""

import numpy as np


def _as_inputs(labels, cosines):
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    cosines = np.asarray(cosines, np.float64)
    if cosines.ndim != 2:
        raise ValueError(f"cosines must be (B, C), got shape {cosines.shape}")
    if labels.shape[0] != cosines.shape[0]:
        raise ValueError(f"{labels.shape[0]} labels for {cosines.shape[0]} rows of cosines")
    c = cosines.shape[1]
    for y in labels:
        if not 0 <= y < c:
            raise ValueError(f"label {y} outside [0, {c})")
    return labels, cosines


def _logsumexp(values):
    """log(sum(exp(v))) in float64, shifted by the maximum; an empty list gives -inf (log of an empty sum)."""
    values = [float(v) for v in values]
    if not values:
        return -np.inf
    m = max(values)
    if m in (-np.inf, np.inf):
        return m
    return m + np.log(sum(np.exp(v - m) for v in values))


def _unit(v):
    """v / ||v||, like ``torch.nn.functional.normalize`` (divides by max(||v||, 1e-12)): a zero vector stays zero."""
    v = np.asarray(v, np.float64)
    norm = np.sqrt(sum(float(a) * float(a) for a in v))
    return v / max(norm, 1e-12)


def _cross_entropy(logits, target):
    """-log softmax(logits)[target] = logsumexp(logits) - logits[target]."""
    return _logsumexp(logits) - float(logits[target])


# Building cosines


def proxy_cosines(embeddings, proxies):
    """Cosine of every embedding with every class proxy, shape (B, C).

    ``embeddings`` (B, dim); ``proxies`` (dim, C), class c's proxy in column c -- pytorch-metric-learning's layout for
    ``ArcFaceLoss.W`` / ``CosFaceLoss.W`` (``torch.nn.Parameter(torch.Tensor(embedding_size, num_classes))``).
    pml's ``ProxyAnchorLoss.proxies`` and ``ProxyNCALoss.proxies`` are the transpose, (C, dim). Both operands are
    L2-normalised (a zero vector stays zero, so its cosines are 0, as with pml's ``CosineSimilarity``).
    """
    x = np.asarray(embeddings, np.float64)
    w = np.asarray(proxies, np.float64)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"need embeddings (B, dim) and proxies (dim, C), got {x.shape} and {w.shape}")
    b, c = x.shape[0], w.shape[1]
    out = np.zeros((b, c))
    for i in range(b):
        xi = _unit(x[i])
        for j in range(c):
            wj = _unit(w[:, j])
            out[i, j] = sum(float(u) * float(v) for u, v in zip(xi, wj, strict=True))
    return out


def sub_center_cosines(embeddings, proxies, sub_centers):
    """Sub-center cosines, shape (B, C): for each class the largest cosine over its K sub-centres.

    Deng, Guo, Liu & Zafeiriou, "Sub-center ArcFace: Boosting Face Recognition by Large-scale Noisy Web Faces",
    ECCV 2020, Sec. 3.1: each class j has K sub-centres W_{j,1..K}; with x and every W_{j,k} L2-normalised,

        cos(theta_{i,j}) = max_k  x_i . W_{j,k}

    and that cosine replaces the single-centre one in the ArcFace logit (feed the result to :func:`arcface`).

    Assumed layout: ``proxies`` has shape (dim, C*K), and class c's sub-centres are the K consecutive columns
    c*K, c*K+1, ..., c*K+K-1 (class-major). This is pytorch-metric-learning 2.9.0's ``SubCenterArcFaceLoss``: its
    ``W`` is (embedding_size, num_classes * sub_centers) and ``get_cosine`` reshapes the (B, C*K) cosines with
    ``.view(-1, num_classes, sub_centers)`` before ``max(axis=2)``; ``get_outliers`` slices
    ``W[:, label * sub_centers:(label + 1) * sub_centers]``.
    """
    w = np.asarray(proxies, np.float64)
    k = int(sub_centers)
    if k < 1 or w.ndim != 2 or w.shape[1] % k:
        raise ValueError(f"proxies (dim, C*K) with K={sub_centers} dividing C*K, got shape {w.shape}")
    flat = proxy_cosines(embeddings, w)
    b, c = flat.shape[0], w.shape[1] // k
    out = np.zeros((b, c))
    for i in range(b):
        for cls in range(c):
            out[i, cls] = max(flat[i, cls * k + s] for s in range(k))
    return out


# ArcFace / CosFace


def arcface(labels, cosines, scale=64.0, margin=0.5):
    """ArcFace (additive angular margin) loss, one value per example, shape (B,).

    Deng, Guo, Xue & Zafeiriou, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition", CVPR 2019,
    eq. (3). With theta_j = arccos(cos_j) (cosine clipped to [-1, 1]), the margin m in RADIANS and scale s:

        loss_i = -log( e^{s cos(theta_y + m)} / (e^{s cos(theta_y + m)} + sum_{j != y} e^{s cos(theta_j)}) )

    i.e. cross-entropy over the logits s * cos_j, with the target logit replaced by s * cos(theta_y + m).

    Where theta_y + m > pi, cos(theta_y + m) stops decreasing in theta_y. This follows pytorch-metric-learning
    2.9.0 (``losses/arcface_loss.py``, ``ArcFaceLoss.modify_cosine_of_target_classes``):

        target = cos(theta_y + m)              if theta_y <= pi - m   (``angles <= np.deg2rad(180) - margin``)
                 cos(theta_y) - m * sin(m)     otherwise

    with theta_y = acos(clamp(cos_y, -1, 1)). The non-target logits are the raw cosines. The fallback is the
    insightface rule (``th = cos(pi - m)``, ``mm = sin(pi - m) * m``, ``phi = where(cos > th, phi, cos - mm)``;
    sin(pi - m) = sin(m)), which differs only at equality: pml takes the margin branch at theta_y = pi - m exactly,
    insightface the fallback. The two branches do not meet: at theta_y = pi - m the margin branch gives -1, the
    fallback -cos(m) - m sin(m) (-1.1173 for m = 0.5), so the target logit jumps by -(cos m + m sin m - 1) * s
    there (a drop of 0.1173 s for m = 0.5); past it the fallback keeps decreasing with theta_y (pml's comment:
    "Keep the cost function monotonically decreasing").

    pml's ``ArcFaceLoss(margin=...)`` takes DEGREES (``init_margin``: ``np.radians(margin)``; its default 28.6 is
    ~0.5 rad), and its default reducer is ``MeanReducer`` (mean over the B per-example losses, ``reduction_type
    "element"``).
    """
    labels, cosines = _as_inputs(labels, cosines)
    b, c = cosines.shape
    out = np.zeros(b)
    for i in range(b):
        y = labels[i]
        cos_y = min(1.0, max(-1.0, float(cosines[i, y])))
        theta = np.arccos(cos_y)
        margin_branch = theta <= np.pi - margin  # pml: angles <= np.deg2rad(180) - margin
        target = np.cos(theta + margin) if margin_branch else np.cos(theta) - margin * np.sin(margin)
        logits = [scale * (target if j == y else float(cosines[i, j])) for j in range(c)]
        out[i] = _cross_entropy(logits, y)
    return out


def cosface(labels, cosines, scale=64.0, margin=0.35):
    """CosFace (large margin cosine) loss, one value per example, shape (B,).

    Wang, Wang, Zhou, Ji, Gong, Zhou, Li & Liu, "CosFace: Large Margin Cosine Loss for Deep Face Recognition",
    CVPR 2018, eq. (4) (LMCL), with scale s and additive cosine margin m:

        loss_i = -log( e^{s (cos_y - m)} / (e^{s (cos_y - m)} + sum_{j != y} e^{s cos_j}) )

    Matches pytorch-metric-learning 2.9.0 ``CosFaceLoss(num_classes, embedding_size, margin=m, scale=s)`` (the
    target cosine minus ``margin``, then ``logits * scale`` and per-example cross-entropy; ``MeanReducer``).
    No clipping is applied to the cosines.
    """
    labels, cosines = _as_inputs(labels, cosines)
    b, c = cosines.shape
    out = np.zeros(b)
    for i in range(b):
        y = labels[i]
        logits = [scale * (float(cosines[i, j]) - (margin if j == y else 0.0)) for j in range(c)]
        out[i] = _cross_entropy(logits, y)
    return out


# Proxy anchor


def proxy_anchor_terms(labels, cosines, alpha=32.0, delta=0.1):
    """The per-proxy terms of the Proxy Anchor loss: (pos (C,), neg (C,)).

    pos_c = log(1 + sum_{i : y_i = c}  exp(-alpha (cos_ic - delta)))   (0 when class c has no example)
    neg_c = log(1 + sum_{i : y_i != c} exp( alpha (cos_ic + delta)))   (0 when every example is class c)

    These are pytorch-metric-learning 2.9.0's ``ProxyAnchorLoss`` sub-losses ``pos_loss`` and ``neg_loss`` (one per
    proxy), as returned with ``reducer=DoNothingReducer()``; see :func:`proxy_anchor`.
    """
    labels, cosines = _as_inputs(labels, cosines)
    b, c = cosines.shape
    pos = np.zeros(c)
    neg = np.zeros(c)
    for p in range(c):
        pos[p] = _logsumexp([0.0] + [-alpha * (cosines[i, p] - delta) for i in range(b) if labels[i] == p])
        neg[p] = _logsumexp([0.0] + [alpha * (cosines[i, p] + delta) for i in range(b) if labels[i] != p])
    return pos, neg


def proxy_anchor(labels, cosines, alpha=32.0, delta=0.1):
    """Proxy Anchor loss, a scalar.

    Kim, Kim, Cho & Kwak, "Proxy Anchor Loss for Deep Metric Learning", CVPR 2020, eq. (4). With P the set of all
    C proxies, P+ the proxies of the classes present in the batch, X_p+ the batch examples of p's class and X_p-
    the others, s(x, p) the cosine, alpha > 0 the scale and delta the margin:

        loss = 1/|P+| sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s(x, p) - delta)))
             + 1/|P|  sum_{p in P}  log(1 + sum_{x in X_p-} exp( alpha (s(x, p) + delta)))

    So the positive term is averaged over the proxies that have a positive in the batch, the negative term over
    all C proxies (a proxy whose X_p- is empty contributes log(1) = 0 to the negative sum but still counts in |P|).

    This is also pytorch-metric-learning 2.9.0 (``losses/proxy_anchor_loss.py``): ``pos_term`` / ``neg_term`` are
    ``lmu.logsumexp(..., keep_mask, add_one=True, dim=0)`` per proxy (``add_one`` appends the 1; a proxy with no
    kept entry is set to 0), with ``pos_exp = distance.margin(cos, margin) = margin - cos`` and ``neg_exp =
    distance.margin(-margin, cos) = cos + margin`` (``CosineSimilarity`` is inverted: ``margin(x, y) = y - x``).
    The default reducer is ``DivisorReducer``, applied to each sub-loss by ``MultipleReducers`` and summed:
    ``sum(pos_loss) / len(with_pos_proxies)`` + ``sum(neg_loss) / num_classes``, where a zero divisor gives 0
    (only for an empty batch). Without a miner the miner weights are ``1 - 1 = 0`` added to the exponents.
    """
    labels, cosines = _as_inputs(labels, cosines)
    c = cosines.shape[1]
    pos, neg = proxy_anchor_terms(labels, cosines, alpha, delta)
    with_pos = sorted({int(y) for y in labels})
    pos_part = sum(pos[p] for p in with_pos) / len(with_pos) if with_pos else 0.0
    return float(pos_part + sum(neg[p] for p in range(c)) / c)


# Proxy NCA


def proxy_nca(labels, cosines, scale=1.0):
    """Proxy-NCA loss as pytorch-metric-learning 2.9.0 computes it, one value per example, shape (B,).

    ``ProxyNCALoss(num_classes, embedding_size, softmax_scale=scale)`` (``losses/proxy_losses.py`` over
    ``losses/nca_loss.py``): the distance is its default ``LpDistance(power=2)``, which L2-normalises both the
    embeddings and the proxies (``normalize_embeddings=True``) and squares the Euclidean distance, so for unit
    vectors d_ij = ||x_i - p_j||^2 = 2 - 2 cos_ij. ``nca_computation`` negates it (``mat = -mat``, the distance is
    not inverted) and takes a softmax over ALL C proxies, the positive included:

        logit_ij = -scale * d_ij = 2 scale cos_ij - 2 scale
        loss_i   = -log softmax_j(logit_ij)[y_i] = logsumexp_j(2 scale cos_ij) - 2 scale cos_iy

    (the constant -2 scale cancels). This is always >= 0, unlike :func:`proxy_nca_paper`.

    pml details: the proxies live in ``loss.proxies``, shape (num_classes, embedding_size) -- the transpose of
    ArcFace's ``W``. ``nca_computation`` keeps only the examples whose positive probability is non-zero
    (``non_zero = exp != 0``; ``losses`` and ``indices`` are filtered), so an example whose softmax underflows to
    exactly 0 is dropped rather than given +inf, and the default ``MeanReducer`` averages over the kept examples.
    That needs a logit gap of about 745 in float64 (~104 in float32), i.e. scale * (cos_j - cos_y) beyond ~372; this
    reference returns every example (a large finite value there). ``NCALoss.compute_loss``'s B <= 1 zero shortcut
    is overridden by ``ProxyNCALoss.compute_loss``, so B = 1 gives the formula.
    """
    labels, cosines = _as_inputs(labels, cosines)
    b, c = cosines.shape
    out = np.zeros(b)
    for i in range(b):
        logits = [-scale * (2.0 - 2.0 * float(cosines[i, j])) for j in range(c)]
        out[i] = _cross_entropy(logits, labels[i])
    return out


def proxy_nca_paper(labels, cosines, scale=1.0):
    """Proxy-NCA loss as in the paper, one value per example, shape (B,).

    Movshovitz-Attias, Toshev, Leung, Ioffe & Singh, "No Fuss Distance Metric Learning using Proxies", ICCV 2017,
    the proxy-NCA loss: with d(x, p) = ||x - p||^2 of normalised vectors and the NCA ratio taken over the NEGATIVE
    proxies only,

        loss_i = -log( exp(-d(x_i, p_y)) / sum_{z != y} exp(-d(x_i, p_z)) )
               = logsumexp_{z != y}(2 scale cos_iz) - 2 scale cos_iy          (with the distances times ``scale``)

    ``scale`` multiplies the distances as pml's ``softmax_scale`` does (the paper has none; scale=1 is the paper).
    Differences from :func:`proxy_nca` (pml): the positive is left out of the denominator, so the value can be
    negative (unbounded below as the positive wins) and proxy_nca = log(1 + exp(proxy_nca_paper)), i.e.
    softplus of this; with a single class (C = 1) the denominator is empty and this gives -inf.
    """
    labels, cosines = _as_inputs(labels, cosines)
    b, c = cosines.shape
    out = np.zeros(b)
    for i in range(b):
        y = labels[i]
        negatives = [2.0 * scale * float(cosines[i, j]) for j in range(c) if j != y]
        out[i] = _logsumexp(negatives) - 2.0 * scale * float(cosines[i, y])
    return out
