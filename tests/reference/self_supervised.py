"""Independent NumPy float64 references for two-view self-supervised losses.

Written from the papers and the authors' official code (read through the stored copies of
facebookresearch/barlowtwins ``main.py``, facebookresearch/vicreg ``main_vicreg.py`` and facebookresearch/simsiam
``main_simsiam.py``), never from kerasloss. Deliberately naive: explicit loops over dimensions and examples, all in
float64.

* :func:`barlow_twins` -- Zbontar et al. 2021; ``views`` (B, 2, dim), a scalar.
* :func:`vicreg` / :func:`vicreg_terms` -- Bardes et al. 2022 as the official code computes it (equal to
  pytorch-metric-learning 2.9.0's ``VICRegLoss``); ``views`` (B, 2, dim), a scalar.
* :func:`simsiam` -- Chen & He 2021; predictions and projections of the two views, a scalar.
"""

import numpy as np


def _views(views):
    v = np.asarray(views, np.float64)
    if v.ndim != 3 or v.shape[1] != 2:
        raise ValueError(f"views must be (B, 2, dim), got shape {v.shape}")
    return v[:, 0, :], v[:, 1, :]


def _column_mean(z, d):
    """Mean of column d; a constant column returns its value exactly (sum / B can be off by an ulp, which would
    turn a zero variance into rounding noise)."""
    column = [float(z[b, d]) for b in range(z.shape[0])]
    if column and min(column) == max(column):
        return column[0]
    return sum(column) / len(column)


def _column_variance(z, d, ddof):
    """sum_b (z_bd - mean_d)^2 / (B - ddof); B - ddof = 0 gives NaN (0 / 0) or inf, as torch does."""
    m = _column_mean(z, d)
    ss = sum((float(z[b, d]) - m) ** 2 for b in range(z.shape[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(ss) / np.float64(z.shape[0] - ddof))


def _standardize(z, ddof, epsilon):
    b, dim = z.shape
    out = np.zeros((b, dim))
    for d in range(dim):
        m = _column_mean(z, d)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.sqrt(np.float64(_column_variance(z, d, ddof)) + epsilon)
            for i in range(b):
                out[i, d] = np.float64(z[i, d] - m) / s
    return out


def barlow_twins(views, redundancy_weight=5e-3, unbiased=False, epsilon=None):
    """Barlow Twins loss, a scalar.

    Zbontar, Jing, Misra, LeCun & Deny, "Barlow Twins: Self-Supervised Learning via Redundancy Reduction",
    ICML 2021, eq. (1)-(2). The two views z_a = views[:, 0], z_b = views[:, 1] (B, dim) are standardised per
    dimension over the batch, z_hat = (z - mean_b z) / sqrt(var_b z + epsilon), and with

        C_ij = sum_b z_hat_a[b, i] z_hat_b[b, j] / B
        loss = sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2            (lambda = ``redundancy_weight``)

    ``unbiased=False`` (default) is the official code: facebookresearch/barlowtwins ``main.py`` (stored commit
    046eec3c) standardises with ``self.bn = nn.BatchNorm1d(sizes[-1], affine=False)`` in training mode, i.e. batch
    mean and POPULATION (biased, divide by B) batch variance with BatchNorm's default ``eps = 1e-5`` inside the
    square root, then ``c = self.bn(z1).T @ self.bn(z2)``, ``c.div_(self.args.batch_size)``,
    ``torch.distributed.all_reduce(c)`` (the batch statistics are global through ``SyncBatchNorm`` and B is the
    global batch, so a single device is the same formula), ``on_diag = (diag(c) - 1)^2 .sum()``, ``off_diag =
    off_diagonal(c)^2 .sum()``, ``loss = on_diag + lambd * off_diag``, ``--lambd`` default 0.0051 (the paper quotes
    5e-3, the default here). A constant dimension there gets z_hat = 0, C_ii = 0, an on-diagonal term of 1.

    ``unbiased=True`` is the paper's Algorithm 1 pseudo-code: ``z_a_norm = (z_a - z_a.mean(0)) / z_a.std(0)``
    (``torch.std`` divides by B - 1, no eps), still ``c = mm(z_a_norm.T, z_b_norm) / N``; identical views then give
    C_ii = (B - 1) / B rather than 1, so it is a different loss, about 1/B away.

    ``epsilon=None`` picks each source's own: 1e-5 (BatchNorm) with ``unbiased=False``, 0 with ``unbiased=True``
    (a constant dimension then gives 0 / 0 = NaN). Pass a number to override, e.g. ``epsilon=0.0`` for the bare
    population formula; eps = 1e-5 moves a typical loss by ~5e-5 relative. A constant column is detected exactly
    (its mean is its value), so its variance is exactly 0 rather than rounding noise.
    """
    if epsilon is None:
        epsilon = 0.0 if unbiased else 1e-5
    za, zb = _views(views)
    b, dim = za.shape
    ddof = 1 if unbiased else 0
    ha = _standardize(za, ddof, epsilon)
    hb = _standardize(zb, ddof, epsilon)
    loss = 0.0
    with np.errstate(invalid="ignore"):
        for i in range(dim):
            for j in range(dim):
                c_ij = sum(np.float64(ha[n, i]) * hb[n, j] for n in range(b)) / b
                loss += (1.0 - c_ij) ** 2 if i == j else redundancy_weight * c_ij**2
    return float(loss)


def vicreg_terms(views, invariance=25.0, variance=25.0, covariance=1.0, epsilon=1e-4):
    """The three weighted VICReg terms (invariance, variance, covariance); :func:`vicreg` is their sum.

    x = views[:, 0], y = views[:, 1], each (B, dim):

        invariance: lambda * mean_{b,d} (x_bd - y_bd)^2                                      (``F.mse_loss``)
        variance:   mu * ( mean_d relu(1 - std(x)_d) / 2 + mean_d relu(1 - std(y)_d) / 2 ),
                    std(z)_d = sqrt(var_unbiased(z_d) + epsilon)
        covariance: nu * ( sum_{i != j} cov(x)_ij^2 / dim + sum_{i != j} cov(y)_ij^2 / dim ),
                    cov(z) = (z - mean z)^T (z - mean z) / (B - 1)

    B = 1 gives NaN (the unbiased variance / covariance is 0 / 0), as in the official code and pml.
    """
    x, y = _views(views)
    b, dim = x.shape
    inv = sum((float(x[n, d]) - float(y[n, d])) ** 2 for n in range(b) for d in range(dim)) / (b * dim)
    var_term = 0.0
    cov_term = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for z in (x, y):
            stds = [np.sqrt(np.float64(_column_variance(z, d, 1)) + epsilon) for d in range(dim)]
            var_term += sum(max(0.0, 1.0 - s) if not np.isnan(s) else np.nan for s in stds) / dim / 2.0
            means = [_column_mean(z, d) for d in range(dim)]
            off = 0.0
            for i in range(dim):
                for j in range(dim):
                    if i != j:
                        num = sum((float(z[n, i]) - means[i]) * (float(z[n, j]) - means[j]) for n in range(b))
                        off += float(np.float64(num) / np.float64(b - 1)) ** 2
            cov_term += off / dim
    return invariance * inv, variance * var_term, covariance * cov_term


def vicreg(views, invariance=25.0, variance=25.0, covariance=1.0, epsilon=1e-4):
    """VICReg loss as the official code computes it, a scalar.

    Bardes, Ponce & LeCun, "VICReg: Variance-Invariance-Covariance Regularization for Self-Supervised Learning",
    ICLR 2022, loss = lambda s(Z, Z') + mu [v(Z) + v(Z')] + nu [c(Z) + c(Z')], evaluated exactly as
    facebookresearch/vicreg ``main_vicreg.py`` (``VICReg.forward``, stored commit b42aa232) does -- see
    :func:`vicreg_terms` for the three terms:

        repr_loss = F.mse_loss(x, y)
        x = x - x.mean(dim=0); y = y - y.mean(dim=0)
        std_x = torch.sqrt(x.var(dim=0) + 0.0001)                          (unbiased variance, eps inside the sqrt)
        std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
        cov_x = (x.T @ x) / (self.args.batch_size - 1)
        cov_loss = off_diagonal(cov_x).pow_(2).sum().div(self.num_features) + (same for y)
        loss = sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss    (defaults 25, 25, 1)

    (under DDP, x and y are all-gathered before the variance / covariance and ``batch_size`` is the global batch,
    so one device is the same formula). Differences from the paper's formulas: the code averages the invariance
    over dimensions as well as examples (the paper's s = 1/n sum_i ||z_i - z'_i||^2 is ``dim`` times larger) and
    halves each variance term (``/ 2``, "averaging" the two views), so the paper's mu corresponds to 2 mu here.

    pytorch-metric-learning 2.9.0's ``VICRegLoss(invariance_lambda, variance_mu, covariance_v, eps)``, called as
    ``loss(x, ref_emb=y)``, computes the same value: ``invariance_loss`` is ``mean((emb - ref_emb) ** 2, dim=1)``
    per example, reduced by ``MeanReducer`` (so the overall mean); ``variance_loss1/2`` are ``relu(1 - std) / 2``
    per dimension with ``std = sqrt(emb.var(dim=0) + eps)`` (unbiased), each mean-reduced; ``covariance_loss`` is
    already reduced (off-diagonal sum of squares of the (N - 1)-normalised covariance divided by D, for both
    views); ``MultipleReducers`` sums the four sub-losses. No difference except float rounding (``tests/
    literals/proxy.py`` VICREG rows agree to <= 5e-16 relative).
    """
    return float(sum(vicreg_terms(views, invariance, variance, covariance, epsilon)))


def _torch_cosine(p, z, eps=1e-8):
    """``torch.nn.functional.cosine_similarity`` for two vectors: p.z / (max(||p||, eps) * max(||z||, eps))."""
    dot = sum(float(a) * float(c) for a, c in zip(p, z, strict=True))
    np_ = np.sqrt(sum(float(a) ** 2 for a in p))
    nz = np.sqrt(sum(float(c) ** 2 for c in z))
    return dot / (max(np_, eps) * max(nz, eps))


def simsiam(p1, p2, z1, z2):
    """SimSiam loss, a scalar.

    Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021, eq. (1)-(4): with p the predictor
    output and z the projector output of each view (each (B, dim)),

        D(p, z) = - mean_b  p_b . z_b / (||p_b|| ||z_b||)        (negative cosine, z under stop-gradient)
        loss    = D(p1, z2) / 2 + D(p2, z1) / 2

    Values only: stop-gradient (``z.detach()`` in ``simsiam/builder.py``) changes gradients, not the value.
    The official ``main_simsiam.py`` computes ``-(criterion(p1, z2).mean() + criterion(p2, z1).mean()) * 0.5``
    with ``criterion = nn.CosineSimilarity(dim=1)`` (eps 1e-8), whose cosine in torch 2.x is
    p.z / (max(||p||, 1e-8) * max(||z||, 1e-8)); that is used here, so a zero vector gives cosine 0.
    """
    p1, p2, z1, z2 = (np.asarray(a, np.float64) for a in (p1, p2, z1, z2))
    for a in (p2, z1, z2):
        if a.shape != p1.shape or a.ndim != 2:
            raise ValueError(f"p1, p2, z1, z2 must share one (B, dim) shape, got {p1.shape} and {a.shape}")
    b = p1.shape[0]
    d12 = -sum(_torch_cosine(p1[i], z2[i]) for i in range(b)) / b
    d21 = -sum(_torch_cosine(p2[i], z1[i]) for i in range(b)) / b
    return float(d12 / 2.0 + d21 / 2.0)
