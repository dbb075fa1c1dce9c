"""Independent NumPy float64 references for three deep-metric-learning losses.

Written from the papers and from reading the original / widely used implementations, never from kerasloss.
Deliberately naive: explicit Python loops over anchors and pairs, clarity over speed. Inputs are a 1-D array of
integer class labels ``labels`` (B,) and a 2-D array of embeddings ``x`` (B, D); everything is computed in float64.

* :func:`multi_similarity` -- Wang et al. 2019, per anchor, with the optional pair miner (pytorch-metric-learning
  2.9.0 semantics).
* :func:`lifted_structure` -- TensorFlow Addons' ``tfa.losses.lifted_struct_loss`` transcribed operation by operation,
  NaNs included; :func:`lifted_structure_paper` -- Oh Song et al. 2016, eq. (3)/(4), written from the paper.
* :func:`soft_nearest_neighbor` -- Frosst, Papernot & Hinton 2019, per anchor, in log space.
"""

import numpy as np


def _as_inputs(labels, x):
    labels = np.asarray(labels).reshape(-1)
    x = np.asarray(x, np.float64)
    x = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{labels.shape[0]} labels for {x.shape[0]} embeddings")
    return labels, x


def _logsumexp(values):
    """log(sum(exp(v))) in float64, shifted by the maximum; an empty list gives -inf (log of an empty sum)."""
    values = [float(v) for v in values]
    if not values:
        return -np.inf
    m = max(values)
    if m == -np.inf:
        return -np.inf
    if m == np.inf:
        return np.inf
    return m + np.log(sum(np.exp(v - m) for v in values))


def _log1p_sum_exp(values):
    """log(1 + sum(exp(v))) = logsumexp([0, *v]); an empty list gives log(1) = 0."""
    return _logsumexp([0.0, *values])


def _squared_euclidean(a, b):
    """sum_d (a_d - b_d)^2, taken from the differences (exactly 0 for identical rows, never negative)."""
    return float(sum((ad - bd) ** 2 for ad, bd in zip(a, b, strict=True)))


# Multi-similarity


def _similarity_matrix(x, distance):
    b = x.shape[0]
    if distance == "cosine":
        rows = []
        for i in range(b):
            norm = np.sqrt(sum(v * v for v in x[i]))
            rows.append(x[i] / norm if norm > 0 else x[i] * 0.0)  # a zero row stays zero
        x = np.array(rows, np.float64).reshape(x.shape)
    elif distance != "dot":
        raise ValueError(f"distance must be 'cosine' or 'dot', not {distance!r}")
    s = np.zeros((b, b))
    for i in range(b):
        for j in range(b):
            s[i, j] = sum(u * v for u, v in zip(x[i], x[j], strict=True))
    return s


def multi_similarity(labels, x, alpha=2.0, beta=50.0, base=0.5, epsilon=None, distance="cosine"):
    """Multi-similarity loss, one value per anchor, shape (B,).

    Wang, Han, Huang, Dong & Scott, "Multi-Similarity Loss with General Pair Weighting for Deep Metric Learning",
    CVPR 2019, eq. (5)-(7). With S the similarity matrix (``"cosine"``: rows L2-normalised, a zero row stays zero;
    ``"dot"``: raw inner products), P(i) = {j != i : y_j = y_i} and N(i) = {k : y_k != y_i}:

        loss_i = 1/alpha * log(1 + sum_{j in P(i)} exp(-alpha (S_ij - base)))
               + 1/beta  * log(1 + sum_{k in N(i)} exp( beta (S_ik - base)))

    An empty set contributes log(1) = 0. Both terms are evaluated as a float64 logsumexp over {0} and the exponents.

    Pair mining (``epsilon`` not None; paper eq. (5)/(6), pytorch-metric-learning ``MultiSimilarityMiner``), applied
    per anchor with strict inequalities, against the *unmined* sets:

        keep negative k iff S_ik + epsilon > min_{j in P(i)} S_ij
        keep positive j iff S_ij - epsilon < max_{k in N(i)} S_ik

    so an anchor with no positives keeps no negatives, an anchor with no negatives keeps no positives, and such an
    anchor contributes 0. This matches pytorch-metric-learning 2.9.0 (``miners/multi_similarity_miner.py``): it
    returns four empty index tensors when the batch has no positive pair or no negative pair at all, and otherwise
    sets the ignored entries of each row (the diagonal, and the other class) to +inf / -inf before sorting, so the
    row minimum over positives is +inf when P(i) is empty (``neg + eps > +inf`` keeps nothing) and the row maximum
    over negatives is -inf when N(i) is empty (``pos - eps < -inf`` keeps nothing). Mining is done on S of the same
    distance as the loss.

    The batch loss is ``multi_similarity(...).mean()`` over all B anchors, zeros included: pml's
    ``MultiSimilarityLoss`` returns per-anchor losses with ``reduction_type="element"`` and its default reducer is
    ``MeanReducer`` (``ModuleWithRecordsAndReducer.get_default_reducer``), i.e. ``torch.mean`` over the B anchors.

    Differences not modelled here (documented for the tests that compare):

    * pml's ``GenericPairLoss.compute_loss`` returns an exact 0 whenever every one of the four pair-index tensors has
      length <= 1 (``all(len(x) <= 1 for x in indices_tuple)``). Without a miner that only happens for B <= 1 (where
      this reference is also 0); with the miner it also zeroes a batch in which at most one positive pair and at most
      one negative pair survive mining, where this reference gives the formula's value (non-zero when a pair survives;
      ``tests.literals.metric.CASES["single_mined_pair"]`` is such a batch).
    * pml's ``DotProductSimilarity()`` L2-normalises by default (``BaseDistance(normalize_embeddings=True)``), so it
      equals ``"cosine"``; ``"dot"`` here is ``DotProductSimilarity(normalize_embeddings=False)``.
    * pml normalises with ``torch.nn.functional.normalize`` (divides by max(||x||, 1e-12)); identical except for rows
      with 0 < ||x|| < 1e-12.
    * The authors' code (github.com/msight-tech/research-ms-loss, ``ret_benchmark/losses/multi_similarity_loss.py``)
      always mines (margin 0.1), builds P(i) as same-label similarities < 1 - 1e-5 (dropping the anchor itself *and*
      any exact-duplicate positive), skips an anchor whose mined positive or negative set is empty (harmless: with one
      epsilon the two mined sets of an anchor are both empty or both non-empty, since a kept positive j implies the
      hardest negative is kept and vice versa), and fails on an anchor without positives (``min`` of an empty
      tensor). The batch is divided by the batch size, as here.
    """
    labels, x = _as_inputs(labels, x)
    b = x.shape[0]
    s = _similarity_matrix(x, distance)
    out = np.zeros(b)
    for i in range(b):
        pos = [j for j in range(b) if j != i and labels[j] == labels[i]]
        neg = [k for k in range(b) if labels[k] != labels[i]]
        if epsilon is not None:
            if pos and neg:
                min_pos = min(s[i, j] for j in pos)
                max_neg = max(s[i, k] for k in neg)
                kept_neg = [k for k in neg if s[i, k] + epsilon > min_pos]
                kept_pos = [j for j in pos if s[i, j] - epsilon < max_neg]
                pos, neg = kept_pos, kept_neg
            else:
                pos, neg = [], []
        pos_term = _log1p_sum_exp([-alpha * (s[i, j] - base) for j in pos]) / alpha
        neg_term = _log1p_sum_exp([beta * (s[i, k] - base) for k in neg]) / beta
        out[i] = pos_term + neg_term
    return out


# Lifted structure


def _tfa_pairwise_distance(x):
    """``tfa.losses.metric_learning.pairwise_distance(x, squared=False)``: Euclidean, not squared.

    TFA expands ||a||^2 + ||b||^2 - 2 a.b, clamps at 0, takes sqrt (adding 1e-16 where the square is <= 0, then
    multiplying those entries back to 0) and zeroes the diagonal. Mathematically that is sqrt(sum (a - b)^2) with an
    exact 0 on the diagonal and for identical rows, which is what is computed here from the differences (so the
    expansion's cancellation error is absent).
    """
    b = x.shape[0]
    d = np.zeros((b, b))
    for i in range(b):
        for j in range(b):
            if i != j:
                d[i, j] = np.sqrt(_squared_euclidean(x[i], x[j]))
    return d


def lifted_structure(labels, x, margin=1.0):
    """Lifted structured loss exactly as TensorFlow Addons computes it, a scalar.

    Transcribed from ``tensorflow_addons/losses/lifted.py`` (``lifted_struct_loss``, TFA 0.2x, which follows the
    authors' Caffe layer ``lifted_struct_similarity_softmax_layer.cpp``), step by step, in float64:

        D          = pairwise Euclidean distances (not squared; see ``_tfa_pairwise_distance``)
        diff       = margin - D;  neg_ij = [y_i != y_j]
        row_min_i  = min_j diff_ij                                    (over *all* j, diagonal included)
        m_i        = max_j ((diff_ij - row_min_i) * neg_ij) + row_min_i
                   = max_{k in N(i)} (margin - D_ik), or row_min_i when N(i) is empty
        M_ab       = max(m_a, m_b)
        L_ab       = sum_k exp(diff_bk - M_ab) * neg_bk               (the tiled/reshaped "loss_exp_left")
        J_ab       = M_ab + log(L_ab + L_ba) + D_ab                   ("Add the positive distance": + D_ab, yes)
                   = log(sum_{k in N(a)} exp(margin - D_ak) + sum_{l in N(b)} exp(margin - D_bl)) + D_ab
        pos_ab     = [y_a == y_b] - [a == b]
        num_pos    = sum_ab pos_ab / 2                                 (number of unordered positive pairs |P|)
        loss       = 0.25 * sum_ab max(J_ab * pos_ab, 0)^2 / num_pos

    The sum runs over *ordered* pairs (each unordered pair twice), so 0.25 / (|P_ordered| / 2) is the paper's
    1 / (2 |P|) over unordered pairs: this equals :func:`lifted_structure_paper` wherever both are finite (checked
    numerically to ~1e-15 relative on random batches).

    NaN exactly where TFA's arithmetic gives NaN (IEEE: -inf * 0 = nan, 0 / 0 = nan; ``tf.maximum`` and
    ``np.maximum`` both propagate NaN):

    * no positive pair (all singletons, or B = 1): num_pos = 0 and the numerator is 0, so 0 / 0;
    * a single class (no negative anywhere, B >= 1): L = 0 everywhere, so J = -inf, and the diagonal's
      -inf * pos_aa = -inf * 0 = nan poisons the sum;
    * more generally any pair (a, b) with L_ab + L_ba == 0 whose J_ab is multiplied by 0 (that needs both a and b to
      have no negatives, i.e. one class), or exp underflow in float64 (only for distances of several hundred).

    TFA itself runs in float32 (float16/bfloat16 are cast to float32), so its exp underflows and its distances lose
    digits much sooner than this float64 transcription.
    """
    labels, x = _as_inputs(labels, x)
    b = x.shape[0]
    if b == 0:
        return float("nan")  # TFA: 0 / 0
    d = _tfa_pairwise_distance(x)
    diff = margin - d
    neg = np.zeros((b, b))
    pos = np.zeros((b, b))
    for i in range(b):
        for j in range(b):
            neg[i, j] = 1.0 if labels[i] != labels[j] else 0.0
            pos[i, j] = (1.0 if labels[i] == labels[j] else 0.0) - (1.0 if i == j else 0.0)
    m = np.zeros(b)
    for i in range(b):
        row_min = min(diff[i, j] for j in range(b))
        m[i] = max((diff[i, j] - row_min) * neg[i, j] for j in range(b)) + row_min
    big_m = np.zeros((b, b))
    exp_left = np.zeros((b, b))
    for a in range(b):
        for c in range(b):
            big_m[a, c] = max(m[a], m[c])
    for a in range(b):
        for c in range(b):
            exp_left[a, c] = sum(np.exp(diff[c, k] - big_m[a, c]) * neg[c, k] for k in range(b))
    total = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for a in range(b):
            for c in range(b):
                j_ac = big_m[a, c] + np.log(exp_left[a, c] + exp_left[c, a]) + d[a, c]
                hinge = np.maximum(np.float64(j_ac) * pos[a, c], 0.0)  # -inf * 0 -> nan, like TF
                total = total + hinge**2
        num_pos = np.float64(pos.sum()) / 2.0
        return float(np.float64(0.25 * total) / num_pos)  # 0 / 0 -> nan, like tf.math.truediv


def lifted_structure_paper(labels, x, margin=1.0):
    """Lifted structured loss from the paper, a scalar.

    Oh Song, Xiang, Jegelka & Savarese, "Deep Metric Learning via Lifted Structured Feature Embedding", CVPR 2016,
    eq. (3) and (4), with D the (non-squared) Euclidean distance and m the margin:

        J_ij = log( sum_{(i,k) in N} exp(m - D_ik) + sum_{(j,l) in N} exp(m - D_jl) ) + D_ij
        loss = 1 / (2 |P|) * sum_{(i,j) in P} max(0, J_ij)^2

    with P the unordered positive pairs {i < j : y_i = y_j} (J is symmetric, so ordered pairs give the same ratio).
    The log is a float64 logsumexp over the union of both negative sets, so large distances do not underflow.
    Conventions where the paper is silent: a pair none of whose ends has a negative gets J = log(0) = -inf, hence
    max(0, J) = 0; no positive pair gives 0 (an empty mean). TFA gives NaN in both of these cases.

    Agreement with :func:`lifted_structure` (the TFA transcription): identical to ~1e-15 relative on random batches
    with at least one positive and one negative pair (the caffe-style max shift is algebraically exact). They differ
    only where TFA gives NaN (no positive pair, a single class) or where TFA's exp underflows.
    """
    labels, x = _as_inputs(labels, x)
    b = x.shape[0]
    d = _tfa_pairwise_distance(x)
    pairs = [(i, j) for i in range(b) for j in range(i + 1, b) if labels[i] == labels[j]]
    if not pairs:
        return 0.0
    total = 0.0
    for i, j in pairs:
        exponents = [margin - d[i, k] for k in range(b) if labels[k] != labels[i]]
        exponents += [margin - d[j, l] for l in range(b) if labels[l] != labels[j]]  # noqa: E741
        j_ij = _logsumexp(exponents) + d[i, j]
        total += max(0.0, j_ij) ** 2
    return float(total / (2.0 * len(pairs)))


def lifted_structure_per_anchor(labels, x, margin=1.0):
    """The paper's loss (lifted_structure_paper) split over anchors, shape (B,): anchor i carries the terms
    max(0, J_ij)^2 of its ordered pairs (i, j), each unordered pair once from each end, times B / (4 |P|), so
    that the mean over the B anchors is 1 / (2 |P|) * the sum over unordered pairs. kerasloss documents this split
    (Keras reduces a per-sample loss by its mean); the total is the paper's."""
    labels, x = _as_inputs(labels, x)
    b = x.shape[0]
    d = _tfa_pairwise_distance(x)
    unordered = sum(1 for i in range(b) for j in range(i + 1, b) if labels[i] == labels[j])
    out = np.zeros(b)
    if unordered == 0:
        return out
    for i in range(b):
        for j in range(b):
            if i == j or labels[i] != labels[j]:
                continue
            exponents = [margin - d[i, k] for k in range(b) if labels[k] != labels[i]]
            exponents += [margin - d[j, l] for l in range(b) if labels[l] != labels[j]]  # noqa: E741
            if exponents:
                out[i] += max(0.0, _logsumexp(exponents) + d[i, j]) ** 2
    return out * b / (4.0 * unordered)


# Soft nearest neighbour


def soft_nearest_neighbor(labels, x, temperature=1.0):
    """Soft nearest neighbour loss, one value per anchor, shape (B,).

    Frosst, Papernot & Hinton, "Analyzing and Improving Representations with the Soft Nearest Neighbor Loss",
    ICML 2019, eq. (1), with squared Euclidean distances d_ij = ||x_i - x_j||^2 and temperature T:

        l_i = -log( sum_{j != i, y_j = y_i} exp(-d_ij / T) / sum_{k != i} exp(-d_ik / T) )

    computed as logsumexp_{k != i}(-d_ik / T) - logsumexp_{j != i, y_j = y_i}(-d_ij / T) in float64, so large
    distances never underflow to 0/0. An anchor with no same-class other sample ("singleton", including B = 1) gives
    0, and the batch loss is the mean over all B anchors, zeros included -- as TensorFlow Similarity's
    ``SoftNearestNeighborLoss`` does (``tensorflow_similarity/losses/softnn_loss.py``: it multiplies each row by
    ``excl = [row has a positive]`` and ``MetricLoss`` uses Keras' default ``AUTO`` = sum-over-batch-size reduction).
    The paper itself averages over all b points and leaves the no-positive case undefined.

    What TF Similarity does differently:

    * it returns ``-log(eps + sacn / alcn)`` with ``eps = 1e-9``: each anchor's loss is capped at
      -log(1e-9) ~= 20.72, a one-class row gives -log(1 + 1e-9) ~= -1e-9 instead of exactly 0, and in general the
      loss drops by log(1 + 1e-9 * exp(l_i)) (~1e-9 for l_i ~ 1, but 3e-3 at l_i = 15). With eps = 0, a float64
      NumPy transcription of its formula matches this reference to ~1e-14 absolute on random batches;
    * it exponentiates directly in float32 (``exp(-d / T)``, no max shift), so with d / T above ~87-103 the sums
      underflow: sacn = 0 gives the 20.72 cap, alcn = 0 gives 0 / 0 = NaN, and NaN * excl(0) is still NaN;
    * B = 1: alcn = sacn = 0, so its single loss is NaN (NaN * 0); here it is 0;
    * distances come from the expansion ||a||^2 - 2 a.b + ||b||^2 clamped at 0 (``SquaredEuclideanDistance``,
      default ``distance="sql2"``); here they are summed from the differences.
    """
    labels, x = _as_inputs(labels, x)
    b = x.shape[0]
    out = np.zeros(b)
    for i in range(b):
        same = [-_squared_euclidean(x[i], x[j]) / temperature for j in range(b) if j != i and labels[j] == labels[i]]
        if not same:
            continue
        every = [-_squared_euclidean(x[i], x[k]) / temperature for k in range(b) if k != i]
        out[i] = _logsumexp(every) - _logsumexp(same)
    return out
