"""Independent NumPy float64 references for a quantile-regression loss and an ordinal-classification loss.

Transcribed from TensorFlow Addons (read through the stored copies of tensorflow/addons
``tensorflow_addons/losses/quantiles.py`` and ``tensorflow_addons/losses/kappa_loss.py``), never from kerasloss.
Deliberately naive: explicit loops, float64 (TFA itself computes in the input dtype / ``floatx()``, float32).

* :func:`pinball` -- TFA ``pinball_loss``, one value per example.
* :func:`weighted_kappa` -- TFA ``WeightedKappaLoss``, a scalar for the batch.
"""

import numpy as np


def pinball(y_true, y_pred, quantiles):
    """Pinball (quantile) loss, one value per example, shape (B,).

    Koenker & Bassett, "Regression Quantiles", Econometrica 1978; transcribed from TensorFlow Addons
    ``pinball_loss(y_true, y_pred, tau)`` (``tensorflow_addons/losses/quantiles.py``):

        tau   = expand_dims(tau, 0)                       (broadcast along the batch axis)
        delta = y_true - y_pred
        loss  = reduce_mean(maximum(tau * delta, (tau - 1) * delta), axis=-1)

    For tau in [0, 1] the maximum is tau * delta where delta >= 0 and (tau - 1) * delta where delta < 0 (both
    branches are 0 at delta = 0); that piecewise form is what is computed here, so a tau outside [0, 1] gives the
    piecewise value, not TFA's maximum (which would then pick the other branch). TFA dtype quirk: ``tf.cast(tau,
    y_pred.dtype)`` first converts a Python float or list to a float32 tensor, so with float64 inputs TFA uses tau
    rounded to float32 (0.3 -> 0.30000001192092896; a float64 NumPy tau is kept exact); irrelevant in float32.

    Shapes: ``quantiles`` is a scalar tau or a list of Q levels. With a list, ``y_pred`` is (B, Q), column q the
    prediction for quantile q, ``y_true`` is (B, 1) (or (B,), taken as (B, 1)) and is broadcast across the
    columns; the result is the mean over the Q columns. With a scalar tau, ``y_pred`` / ``y_true`` of shape
    (B, d...) are averaged over the last axis; a 1-D (B,) pair is taken as (B, 1), one value per example (TFA's bare
    function would average a 1-D input over the batch into a scalar, and would misalign a (B,) ``y_true`` against
    (B, Q) predictions by broadcasting along the last axis).
    """
    y_pred = np.asarray(y_pred, np.float64)
    y_true = np.asarray(y_true, np.float64)
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    tau = np.asarray(quantiles, np.float64).reshape(-1) if np.ndim(quantiles) else None
    if tau is not None and y_pred.shape[-1] != tau.shape[0]:
        raise ValueError(f"{tau.shape[0]} quantiles for y_pred with last axis {y_pred.shape[-1]}")
    y_true = np.broadcast_to(y_true, y_pred.shape)
    flat_pred = y_pred.reshape(-1, y_pred.shape[-1])
    flat_true = y_true.reshape(-1, y_pred.shape[-1])
    n, q = flat_pred.shape
    out = np.zeros(n)
    for i in range(n):
        total = 0.0
        for k in range(q):
            t = float(quantiles) if tau is None else float(tau[k])
            delta = float(flat_true[i, k]) - float(flat_pred[i, k])
            total += t * delta if delta >= 0 else (t - 1.0) * delta
        out[i] = total / q
    return out.reshape(y_pred.shape[:-1])


def weighted_kappa(y_true_onehot, y_pred_probs, num_classes, weightage="quadratic", epsilon=1e-6):
    """Weighted kappa loss, a scalar, transcribed from TensorFlow Addons ``WeightedKappaLoss``.

    de la Torre, Puig & Valls, "Weighted kappa loss function for multi-class classification of ordinal data in
    deep learning", Pattern Recognition Letters 105 (2018). TFA's ``call`` (``tensorflow_addons/losses/
    kappa_loss.py``, stored commit 92b99f15), with K = ``num_classes``, B the batch size, Y = y_true (B, K) and
    P = y_pred (B, K), step by step:

        W_ij        = (i - j)^2  ("quadratic")  or  |i - j|  ("linear"),  i, j = 0..K-1     (``weight_mat``)
        t_b         = sum_i i * Y_bi                   (``cat_labels = y_true @ col_label_vec``: the class index
                                                        for one-hot rows, the expected index otherwise)
        numerator   = sum_{b,j} w(t_b - j) * P_bj      (w(u) = u^2 or |u|, the same weighting)
        hist_true_i = sum_b Y_bi,  hist_pred_j = sum_b P_bj                 (``label_dist``, ``pred_dist``)
        denominator = sum_{i,j} hist_true_i * W_ij * hist_pred_j / B
        loss        = log(divide_no_nan(numerator, denominator) + epsilon)       (epsilon = 1e-6)

    For one-hot Y the numerator is sum_ij O_ij W_ij with O = Y^T P the soft confusion matrix and the denominator its
    expectation under independence, E_ij = hist_true_i hist_pred_j / B, so numerator / denominator = 1 - kappa_w and
    the loss is log(1 - kappa_w + epsilon), in [log(epsilon), log(2 + epsilon)]. ``divide_no_nan`` gives 0 when the
    denominator is 0 (then the loss is log(epsilon) = -13.8155...). TFA returns this scalar per batch
    (``reduction=NONE``) and computes in ``tf.keras.backend.floatx()``.
    """
    if weightage not in ("linear", "quadratic"):
        raise ValueError("Unknown kappa weighting type.")
    y = np.asarray(y_true_onehot, np.float64)
    p = np.asarray(y_pred_probs, np.float64)
    k = int(num_classes)
    if y.ndim != 2 or p.shape != y.shape or y.shape[1] != k:
        raise ValueError(f"y_true and y_pred must both be (B, {k}), got {y.shape} and {p.shape}")
    b = y.shape[0]

    def w(u):
        return abs(u) if weightage == "linear" else u * u

    numerator = 0.0
    for n in range(b):
        t = sum(i * float(y[n, i]) for i in range(k))
        numerator += sum(w(t - j) * float(p[n, j]) for j in range(k))
    hist_true = [sum(float(y[n, i]) for n in range(b)) for i in range(k)]
    hist_pred = [sum(float(p[n, j]) for n in range(b)) for j in range(k)]
    denominator = sum(hist_true[i] * w(float(i - j)) * hist_pred[j] for i in range(k) for j in range(k)) / b
    ratio = 0.0 if denominator == 0 else numerator / denominator
    return float(np.log(ratio + epsilon))
