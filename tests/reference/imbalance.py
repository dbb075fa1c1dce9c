"""Independent NumPy float64 references for class-imbalance losses.

Written from the papers and from reading each paper's official code, never from kerasloss. Deliberately naive:
explicit Python loops over examples and classes, clarity over speed; everything in float64.
``tests/literals/imbalance.py`` holds values computed by the official code (in float64) that these reproduce; its
docstring says how closely.

Inputs: integer class ``labels`` (B,) in [0, C), ``logits`` (B, C), per-class training ``counts`` (C,) of positive
integers (n_c, the number of training examples of class c). Values are per example unless stated.

* Logit adjustment -- Menon, Jayasumana, Rawat, Jain, Veit & Kumar, "Long-tail learning via logit adjustment",
  ICLR 2021; official code google-research/google-research, ``logit_adjustment/utils.py`` (``build_loss_fn``) and
  ``logit_adjustment/main.py`` (post-hoc correction): :func:`prior`, :func:`logit_adjustment`,
  :func:`logit_adjustment_official`, :func:`logit_adjusted_ce`, :func:`posthoc_adjusted_logits`.
* Balanced softmax -- Ren, Yu, Sheng, Ma, Zhao, Yi & Li, "Balanced Meta-Softmax for Long-Tailed Visual
  Recognition", NeurIPS 2020; official code jiawei-ren/BalancedMetaSoftmax-Classification,
  ``loss/BalancedSoftmaxLoss.py``: :func:`balanced_softmax_ce`.
* Class-balanced weights -- Cui, Jia, Lin, Song & Belongie, "Class-Balanced Loss Based on Effective Number of
  Samples", CVPR 2019; official code richardaecn/class-balanced-loss, ``src/cifar_main.py``:
  :func:`class_balanced_weights`, :func:`class_balanced_ce`, :func:`class_balanced_ce_official_mean`.
* LDAM and DRW -- Cao, Wei, Gaidon, Arechiga & Ma, "Learning Imbalanced Datasets with Label-Distribution-Aware
  Margin Loss", NeurIPS 2019; official code kaidic/LDAM-DRW, ``losses.py`` (``LDAMLoss``) and ``cifar_train.py``
  (DRW): :func:`ldam_margins`, :func:`ldam`, :func:`ldam_weighted_mean`, :func:`drw_weights`.
* Asymmetric loss -- Ridnik, Ben-Baruch, Zamir, Noy, Friedman, Protter & Zelnik-Manor, "Asymmetric Loss For
  Multi-Label Classification", ICCV 2021; official code Alibaba-MIIL/ASL, ``src/loss_functions/losses.py``
  (``AsymmetricLoss``): :func:`asymmetric`.
* PolyLoss -- Leng, Tan, Liu, Cubuk, Shi, Cheng & Anguelov, "PolyLoss: A Polynomial Expansion Perspective of
  Classification Loss Functions", ICLR 2022 (no official repository; the paper's TensorFlow listings):
  :func:`poly1`, :func:`poly1_from_probabilities`, :func:`sparse_poly1`.
"""

import numpy as np


def _logits(logits):
    z = np.asarray(logits, np.float64)
    if z.ndim != 2:
        raise ValueError(f"logits must be (B, C), got shape {z.shape}")
    return z


def _labels_logits(labels, logits):
    z = _logits(logits)
    y = np.asarray(labels).reshape(-1)
    if y.shape[0] != z.shape[0]:
        raise ValueError(f"{y.shape[0]} labels for {z.shape[0]} rows of logits")
    out = []
    for v in y:
        if int(v) != v or not 0 <= int(v) < z.shape[1]:
            raise ValueError(f"label {v} is not a class id in [0, {z.shape[1]})")
        out.append(int(v))
    return out, z


def _counts(counts, num_classes=None):
    n = np.asarray(counts, np.float64).reshape(-1)
    if num_classes is not None and n.shape[0] != num_classes:
        raise ValueError(f"{n.shape[0]} class counts for {num_classes} classes")
    for v in n:
        if not v > 0:
            raise ValueError(f"class counts must be positive, got {v}")
    return n


def _dense(targets, logits, name):
    z = _logits(logits)
    t = np.asarray(targets, np.float64)
    if t.shape != z.shape:
        raise ValueError(f"{name} {t.shape} and logits {z.shape} differ in shape")
    return t, z


def _log_softmax(row):
    """log softmax of one row, as torch/TF compute it: (z - max) - log(sum(exp(z - max)))."""
    m = max(float(v) for v in row)
    s = sum(np.exp(float(v) - m) for v in row)
    return [(float(v) - m) - np.log(s) for v in row]


def _cross_entropy(row, target):
    """-log softmax(row)[target]."""
    return -_log_softmax(row)[target]


# Logit adjustment and balanced softmax


def prior(counts):
    """Class prior pi_c = n_c / sum_k n_k, shape (C,).

    The official logit-adjustment code reads these ``base_probs`` from a text file
    (``{dataset}_base_probs.txt``, not in the repository); the empirical training label frequencies, as in the
    paper, are assumed.
    """
    n = _counts(counts)
    total = sum(float(v) for v in n)
    return np.array([float(v) / total for v in n])


def logit_adjustment(counts, tau=1.0):
    """Exact additive adjustment tau * log(pi_c), shape (C,) -- Menon et al. 2021.

    The logit-adjusted loss adds it to the logits; the post-hoc correction subtracts it. The official code uses
    :func:`logit_adjustment_official` instead (with ``+ 1e-12`` inside the log and tau as an exponent).
    """
    return np.array([float(tau) * np.log(p) for p in prior(counts)])


def logit_adjustment_official(counts, tau=1.0):
    """The official adjustment log(pi_c ** tau + 1e-12), shape (C,).

    google-research ``logit_adjustment/utils.py`` ``build_loss_fn``:
    ``logits = logits + tf.math.log(tf.cast(base_probs**tau + 1e-12, dtype=tf.float32))``, and ``main.py``'s
    post-hoc ``adjusted_logits = logits - tf.math.log(tf.cast(base_probs**FLAGS.tau + 1e-12, dtype=tf.float32))``.
    It differs from :func:`logit_adjustment` by log(1 + 1e-12 / pi_c ** tau) -- about 1e-12 / pi_c ** tau, which
    grows for rare classes and large tau (3.6e-5 for pi_c = 1.7e-4, tau = 2); at tau = 0 it is log(1 + 1e-12),
    the same for every class. The official code casts it to float32; this is the float64 value.
    """
    return np.array([np.log(p**tau + 1e-12) for p in prior(counts)])


def logit_adjusted_ce(labels, logits, counts, tau=1.0, official_epsilon=False):
    """Logit-adjusted softmax cross-entropy, shape (B,) -- Menon et al. 2021:

        l(y, f(x)) = -log softmax(f(x) + tau * log(pi))_y

    With ``official_epsilon=True`` the adjustment is :func:`logit_adjustment_official` (what google-research
    ``build_loss_fn(True, base_probs, tau)`` computes before ``tf.nn.sparse_softmax_cross_entropy_with_logits``;
    that function returns the batch mean, ``tf.reduce_mean(loss, axis=0)``).
    """
    y, z = _labels_logits(labels, logits)
    adj = logit_adjustment_official(counts, tau) if official_epsilon else logit_adjustment(counts, tau)
    _counts(counts, z.shape[1])
    return np.array([_cross_entropy([z[i, j] + adj[j] for j in range(z.shape[1])], y[i]) for i in range(len(y))])


def posthoc_adjusted_logits(logits, counts, tau=1.0, official_epsilon=False):
    """Post-hoc logit adjustment, shape (B, C) -- Menon et al. 2021: f(x) - tau * log(pi).

    The official ``main.py`` (``--mode=posthoc``) subtracts :func:`logit_adjustment_official` at test time.
    """
    z = _logits(logits)
    adj = logit_adjustment_official(counts, tau) if official_epsilon else logit_adjustment(counts, tau)
    _counts(counts, z.shape[1])
    return np.array([[z[i, j] - adj[j] for j in range(z.shape[1])] for i in range(z.shape[0])])


def balanced_softmax_ce(labels, logits, counts):
    """Balanced softmax cross-entropy, shape (B,) -- Ren et al. 2020, the balanced softmax as a loss:

        l = -log( n_y exp(z_y) / sum_j n_j exp(z_j) ) = -log softmax(z + log n)_y

    Official ``loss/BalancedSoftmaxLoss.py`` ``balanced_softmax_loss``: ``logits = logits + spc.log()`` with
    ``spc`` the per-class sample counts, then ``F.cross_entropy(..., reduction=reduction)`` (default 'mean').
    Equal to :func:`logit_adjusted_ce` at tau = 1 (adding log(sum n) to every logit changes no softmax).
    """
    y, z = _labels_logits(labels, logits)
    n = _counts(counts, z.shape[1])
    return np.array([_cross_entropy([z[i, j] + np.log(n[j]) for j in range(z.shape[1])], y[i]) for i in range(len(y))])


# Class-balanced weights, LDAM, DRW


def class_balanced_weights(counts, beta=0.9999):
    """Class-balanced weights, shape (C,) -- Cui et al. 2019: w_c = (1 - beta) / (1 - beta ** n_c),
    the inverse of the effective number of samples E_n = (1 - beta ** n) / (1 - beta), normalised so sum_c w_c = C.

    Official ``src/cifar_main.py``::

        effective_num = 1.0 - np.power(hparams['beta'], img_num_per_cls)
        weights = (1.0 - hparams['beta']) / np.array(effective_num)
        weights = weights / np.sum(weights) * int(hparams['data_version'])   # data_version = number of classes

    beta = 0 gives ones (0 ** n = 0 for n >= 1); beta -> 1 tends to weights proportional to 1 / n_c.

    beta ** n is taken as the official code takes it, with ``np.power`` over the whole array of counts: NumPy's
    array loop squares (x * x) for an exponent of 2 where a scalar ``pow`` can land one ulp away (0.9999 ** 2), and
    1 - beta ** n cancels, so that ulp becomes a 4e-13 relative difference in the weights (beta = 0.9999, n = 2).
    """
    n = _counts(counts)
    c = n.shape[0]
    powers = np.power(float(beta), n)  # as the official np.power(beta, img_num_per_cls), see above
    raw = [(1.0 - beta) / (1.0 - powers[k]) for k in range(c)]
    total = sum(raw)
    return np.array([w / total * c for w in raw])


def class_balanced_ce(labels, logits, counts, beta=0.9999):
    """Class-balanced softmax cross-entropy per example, w_y * CE(z, y), shape (B,) -- Cui et al. 2019."""
    y, z = _labels_logits(labels, logits)
    w = class_balanced_weights(_counts(counts, z.shape[1]), beta)
    return np.array([w[y[i]] * _cross_entropy(z[i], y[i]) for i in range(len(y))])


def class_balanced_ce_official_mean(labels, logits, counts, beta=0.9999):
    """The official reduced class-balanced softmax loss: sum_i w_{y_i} CE_i / #{i : w_{y_i} != 0}.

    Official ``src/cifar_main.py`` ``_tower_fn`` (loss_type 'softmax'): ``tf.losses.softmax_cross_entropy(
    one_hot_labels, logits, weights=w_y)`` whose default reduction is SUM_BY_NONZERO_WEIGHTS, then
    ``tf.reduce_mean`` of that scalar. Every weight is positive here, so this is sum / B (the Keras
    ``sum_over_batch_size`` convention), not the weight-normalised mean of :func:`ldam_weighted_mean`.
    """
    y, z = _labels_logits(labels, logits)
    w = class_balanced_weights(_counts(counts, z.shape[1]), beta)
    each = class_balanced_ce(labels, logits, counts, beta)
    nonzero = sum(1 for i in range(len(y)) if w[y[i]] != 0.0)
    return sum(float(v) for v in each) / nonzero


def ldam_margins(counts, max_margin=0.5):
    """LDAM margins Delta_c = C / n_c ** (1/4), with C chosen so the largest margin is ``max_margin``, shape (C,)
    -- Cao et al. 2019.

    Official ``losses.py`` ``LDAMLoss.__init__``: ``m_list = 1.0 / np.sqrt(np.sqrt(cls_num_list))``;
    ``m_list = m_list * (max_m / np.max(m_list))`` (then stored as a float32 ``torch.cuda.FloatTensor``). The
    rarest class gets ``max_margin``.
    """
    n = _counts(counts)
    m = [1.0 / np.sqrt(np.sqrt(v)) for v in n]
    top = max(m)
    return np.array([v * (max_margin / top) for v in m])


def ldam(labels, logits, counts, max_margin=0.5, scale=30.0):
    """LDAM loss per example, shape (B,) -- Cao et al. 2019, with the official scale s:

        l = -log softmax(s * z')_y,   z'_j = z_j - Delta_y [j == y]

    Official ``losses.py`` ``LDAMLoss.forward``: ``x_m = x - batch_m`` on the true class only (``torch.where(index,
    x_m, x)``), then ``F.cross_entropy(self.s * output, target, weight=self.weight)`` -- the scale multiplies the
    margin too (the paper's loss is written without s; the official ``cifar_train.py`` pairs LDAM with
    ``use_norm=True``, a last layer of cosines -- ``NormedLinear`` in ``models/resnet_cifar.py`` -- and s = 30,
    so the logits it sees are in [-1, 1]). The official class returns only the reduced value (mean, or the
    weighted mean of :func:`ldam_weighted_mean`); this is its per-example term.
    """
    y, z = _labels_logits(labels, logits)
    m = ldam_margins(_counts(counts, z.shape[1]), max_margin)
    out = []
    for i in range(len(y)):
        row = [scale * ((z[i, j] - m[y[i]]) if j == y[i] else z[i, j]) for j in range(z.shape[1])]
        out.append(_cross_entropy(row, y[i]))
    return np.array(out)


def ldam_weighted_mean(labels, logits, counts, weights, max_margin=0.5, scale=30.0):
    """What official ``LDAMLoss(cls_num_list, max_m, weight=weights, s)`` returns: sum_i w_{y_i} l_i / sum_i w_{y_i}.

    ``F.cross_entropy(..., weight=w)`` with the default ``reduction='mean'`` divides the weighted sum by the sum of
    the weights of the batch's labels, so a batch of one gives l_0 whatever its weight. Keras'
    ``sum_over_batch_size`` with per-example sample weights w_{y_i} divides the same weighted sum by B instead
    (the two agree only when the batch's weights average to 1). ``weights=None`` gives the plain mean.
    """
    y, z = _labels_logits(labels, logits)
    each = ldam(labels, logits, counts, max_margin, scale)
    if weights is None:
        return sum(float(v) for v in each) / len(y)
    w = np.asarray(weights, np.float64).reshape(-1)
    if w.shape[0] != z.shape[1]:
        raise ValueError(f"{w.shape[0]} class weights for {z.shape[1]} classes")
    num = sum(w[y[i]] * each[i] for i in range(len(y)))
    den = sum(w[y[i]] for i in range(len(y)))
    return float(num / den)


def drw_weights(counts, epoch, drw_epoch=160, beta=0.9999):
    """Deferred re-weighting (DRW) class weights for a 0-based ``epoch``, shape (C,) -- Cao et al. 2019.

    Official ``cifar_train.py`` (``--train_rule DRW``), evaluated at the start of every epoch
    (``for epoch in range(args.start_epoch, args.epochs)``, 0-based)::

        idx = epoch // 160
        betas = [0, 0.9999]
        effective_num = 1.0 - np.power(betas[idx], cls_num_list)
        per_cls_weights = (1.0 - betas[idx]) / np.array(effective_num)
        per_cls_weights = per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)

    so epochs 0..159 get beta = 0 -- exactly ones -- and epochs 160.. the class-balanced weights of
    :func:`class_balanced_weights` with beta = 0.9999 (the switch is at the 161st epoch, where the learning rate
    also drops 100x). The weights then become a float32 tensor given to ``LDAMLoss(weight=...)`` or
    ``nn.CrossEntropyLoss(weight=...)``, i.e. the weighted mean of :func:`ldam_weighted_mean`. The official
    ``betas[epoch // 160]`` raises IndexError from epoch 320 on (its schedule has 200 epochs); here every epoch
    >= ``drw_epoch`` keeps the class-balanced weights.
    """
    n = _counts(counts)
    if int(epoch) != epoch or epoch < 0:
        raise ValueError(f"epoch must be a non-negative integer, got {epoch}")
    if epoch < drw_epoch:
        return class_balanced_weights(n, 0.0)
    return class_balanced_weights(n, beta)


# Asymmetric loss


def asymmetric(labels_multi_hot, logits, gamma_positive=0.0, gamma_negative=4.0, clip=0.05, eps=1e-8):
    """Asymmetric loss (ASL) per example, summed over the C labels, shape (B,) -- Ridnik et al. 2021.

    For label j with target y_j in {0, 1}, p = sigmoid(z_j), shifted negative probability
    p_m = max(p - m, 0) (the probability margin m = clip), as official ``src/loss_functions/losses.py``
    ``AsymmetricLoss.forward`` computes::

        xs_pos = sigmoid(x);  xs_neg = 1 - sigmoid(x)
        if clip is not None and clip > 0: xs_neg = (xs_neg + clip).clamp(max=1)     # 1 - p_m
        loss = y * log(xs_pos.clamp(min=eps)) + (1 - y) * log(xs_neg.clamp(min=eps))
        if gamma_neg > 0 or gamma_pos > 0:
            pt = xs_pos * y + xs_neg * (1 - y)
            loss *= (1 - pt) ** (gamma_pos * y + gamma_neg * (1 - y))    # p_m ** gamma_neg on negatives
        return -loss.sum()

    so l = -sum_j [ y_j (1 - p)^gamma_pos log(max(p, eps)) + (1 - y_j) p_m^gamma_neg log(max(1 - p_m, eps)) ].
    The official value is ``-loss.sum()`` over the whole batch (and labels) -- the sum of these per-example values,
    not a mean. Its defaults are gamma_neg=4, gamma_pos=1, clip=0.05, eps=1e-8; its ``train.py`` uses
    gamma_neg=4, gamma_pos=0, clip=0.05.

    Gradients: with ``disable_torch_grad_focal_loss=True`` (the ``AsymmetricLoss`` default and ``train.py``'s
    setting) the focusing weight (1 - pt) ** gamma -- pt, built from xs_pos and the clipped xs_neg, and the power --
    is computed under ``torch.set_grad_enabled(False)``: it is a constant in backprop and only the clamped log terms
    carry gradient. That gradient is not the derivative of this value (a finite difference of it includes the
    weight's derivative). ``AsymmetricLossOptimized`` defaults to ``False`` (full gradient). Note the official code
    re-enables gradients with ``torch.set_grad_enabled(True)`` afterwards, even inside a ``no_grad`` block.
    The clamps: log(p) is floored at log(eps) (p < 1e-8, i.e. z < -18.4), and so is log(1 - p_m) when clip = 0 and
    1 - p underflows (z > 18.4 gives 1 - sigmoid(z) < 1e-8; z >= 37 gives exactly 0 in float64). 1 - p is formed as
    ``1 - sigmoid(z)``, as officially, not as sigmoid(-z).
    """
    t, z = _dense(labels_multi_hot, logits, "labels_multi_hot")
    focusing = gamma_negative > 0 or gamma_positive > 0
    out = []
    for i in range(z.shape[0]):
        total = 0.0
        for j in range(z.shape[1]):
            y = t[i, j]
            xs_pos = 1.0 / (1.0 + np.exp(-z[i, j]))
            xs_neg = 1.0 - xs_pos
            if clip is not None and clip > 0:
                xs_neg = min(xs_neg + clip, 1.0)
            term = y * np.log(max(xs_pos, eps)) + (1.0 - y) * np.log(max(xs_neg, eps))
            if focusing:
                pt = xs_pos * y + xs_neg * (1.0 - y)
                term = term * (1.0 - pt) ** (gamma_positive * y + gamma_negative * (1.0 - y))
            total += term
        out.append(-total)
    return np.array(out)


# PolyLoss


def _smooth(labels_one_hot, label_smoothing):
    c = labels_one_hot.shape[1]
    return labels_one_hot * (1.0 - label_smoothing) + label_smoothing / c


def poly1(labels_one_hot, logits, epsilon=1.0, label_smoothing=0.0):
    """Poly-1 cross-entropy from logits, shape (B,) -- Leng et al. 2022: L = -log P_t + epsilon (1 - P_t).

    As in the paper's TensorFlow listings. Poly-1::

        pt = tf.reduce_sum(labels * tf.nn.softmax(logits), axis=-1)
        CE = tf.nn.softmax_cross_entropy_with_logits(labels, logits)
        Poly1 = CE + epsilon * (1 - pt)

    and, with label smoothing alpha (appendix)::

        smooth_labels = labels * (1 - alpha) + alpha / num_classes
        one_minus_pt = tf.reduce_sum(smooth_labels * (1 - tf.nn.softmax(logits)), axis=-1)
        CE = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=alpha, reduction=None)(
            labels, logits)                                      # = -sum(smooth_labels * log_softmax(logits))
        Poly1 = CE + epsilon * one_minus_pt

    (alpha = 0 reduces the second to the first.) The paper's text (arXiv 2204.12511) was not at hand; the
    listings were confirmed against public code files that reproduce them line for line (found by searching the
    stored GitHub index for ``smooth_labels * (1 - tf.nn.softmax(logits))``): every line above matches, except
    that their ``smooth_labels`` line is garbled (``labels * (1-alpha) + 38``), so its ``alpha / num_classes``
    term rests on the brief's reading of the paper -- it is Keras' own label_smoothing, which the CE uses.
    """
    t, z = _dense(labels_one_hot, logits, "labels_one_hot")
    s = _smooth(t, label_smoothing)
    out = []
    for i in range(z.shape[0]):
        logp = _log_softmax(z[i])
        p = [np.exp(v) for v in logp]
        ce = -sum(s[i, j] * logp[j] for j in range(z.shape[1]))
        one_minus_pt = sum(s[i, j] * (1.0 - p[j]) for j in range(z.shape[1]))
        out.append(ce + epsilon * one_minus_pt)
    return np.array(out)


def poly1_from_probabilities(labels_one_hot, probs, epsilon=1.0, label_smoothing=0.0):
    """Poly-1 from probabilities, shape (B,): -sum(s * log p) + epsilon * sum(s * (1 - p)), s the smoothed labels.

    The cross-entropy is the plain -sum(s log p) (no clipping, no renormalisation -- Keras'
    ``categorical_crossentropy(from_logits=False)`` divides p by its sum and clips it to [1e-7, 1 - 1e-7]).
    ``probs`` = softmax(logits) gives :func:`poly1` (up to the rounding of the probabilities).
    """
    t, p = _dense(labels_one_hot, probs, "labels_one_hot")
    s = _smooth(t, label_smoothing)
    out = []
    for i in range(p.shape[0]):
        ce = -sum(s[i, j] * np.log(p[i, j]) for j in range(p.shape[1]) if s[i, j] != 0.0)
        one_minus_pt = sum(s[i, j] * (1.0 - p[i, j]) for j in range(p.shape[1]))
        out.append(ce + epsilon * one_minus_pt)
    return np.array(out)


def sparse_poly1(labels, logits, epsilon=1.0):
    """Poly-1 with integer labels, shape (B,): -log softmax(z)_y + epsilon * (1 - softmax(z)_y).

    :func:`poly1` with one-hot labels and no label smoothing.
    """
    y, z = _labels_logits(labels, logits)
    out = []
    for i in range(len(y)):
        logp = _log_softmax(z[i])
        out.append(-logp[y[i]] + epsilon * (1.0 - np.exp(logp[y[i]])))
    return np.array(out)
