"""Numerically careful building blocks shared by the losses, each exact in the tails where the naive
formula is not. Every line that exists for stability says so."""

import functools
import math

import keras
from keras import ops

# Per dtype: the spacing of floats just below 1, and the smallest normal number.
_SPACING_BELOW_ONE = {"float16": 2.0**-11, "bfloat16": 2.0**-8, "float32": 2.0**-24, "float64": 2.0**-53}
_SMALLEST_NORMAL = {"float16": 2.0**-14, "bfloat16": 2.0**-126, "float32": 2.0**-126, "float64": 2.0**-1022}


def _dtype_name(x):
    return keras.backend.standardize_dtype(x.dtype)


def smallest_probability(dtype):
    """Keras' `epsilon()` (1e-7), or in float16 the smallest normal number (2^-14), below which 1/p overflows."""
    return max(keras.config.epsilon(), _SMALLEST_NORMAL.get(dtype, 0.0))


def clip_probability(p):
    """Clip probabilities to [eps, 1 - eps'] so log(p), log(1 - p) and their gradients stay finite.

    Both are Keras' `epsilon()` (1e-7) in float32. In float16, eps rises to the smallest normal number
    (2^-14), or 1/p would overflow in the gradient; eps' rises to the float spacing just below 1
    (float16: 2^-11, bfloat16: 2^-8), or 1 - eps' would round to 1 and log(1 - p) would be -inf.
    """
    dtype = _dtype_name(p)
    lower = smallest_probability(dtype)
    upper = 1.0 - max(keras.config.epsilon(), _SPACING_BELOW_ONE.get(dtype, 0.0))
    return ops.clip(p, lower, upper)


def _logit_parts(logits):
    """Shared by the two functions below (XLA and grappler merge the repeated subexpressions):
    x >= 0, log(1 + exp(-|x|)), sigmoid(|x|), sigmoid(-|x|), all from one exp, one log, one division.

    `-|x|` is selected with `where` rather than abs so the gradient at x = 0 stays whole (abs'(0) = 0
    would silently drop half of it). log1p(e) is log(u) + (e - (u - 1)) / u with u = 1 + e: u - 1 is
    exact, so the second term restores what rounding u lost (and gives e itself where u rounds to 1).
    This is as exact as log1p and several times cheaper under XLA on CPU.
    """
    nonneg = logits >= 0
    e = ops.exp(ops.where(nonneg, -logits, logits))  # exp(-|x|) <= 1: never overflows
    u = 1.0 + e
    near = 1.0 / u  # sigmoid(|x|)
    softplus = ops.log(u) + (e - (u - 1.0)) * near  # log1p(e)
    return nonneg, softplus, near, e * near


def logit_crossentropy(targets, logits):
    """-(t log sigmoid(x) + (1 - t) log sigmoid(-x)), elementwise, exact for any finite logit.

    Written as max(x, 0) - x t + log1p(exp(-|x|)): exp never overflows and no term cancels for hard
    labels; the gradient at x = 0 is sigmoid(0) - t.
    """
    nonneg, softplus, _, _ = _logit_parts(logits)
    return ops.where(nonneg, logits, 0.0) - logits * targets + softplus


def sigmoid_pair(logits):
    """(sigmoid(x), sigmoid(-x)), both to full relative precision.

    sigmoid(-x) is not computed as 1 - sigmoid(x), which cancels to 0 once sigmoid(x) rounds to 1.
    """
    nonneg, _, near, far = _logit_parts(logits)
    return ops.where(nonneg, near, far), ops.where(nonneg, far, near)


def one_minus_exp(log_p):
    """1 - exp(a) for a <= 0: the probability of 'anything else' given a log-probability.

    Near a = 0 (p near 1), 1 - exp(a) cancels; -expm1(a) does not (Maechler 2012 splits at -ln 2).
    Both branches are finite for every finite a, so the unselected one cannot poison the gradient.
    """
    return ops.where(log_p > -math.log(2.0), -ops.expm1(log_p), 1.0 - ops.exp(log_p))


def focal_modulation(u, gamma):
    """u ** gamma for u in [0, 1], with a finite gradient everywhere.

    d(u^g)/du = g u^(g-1) is infinite at u = 0 for g < 1 (and 0 * inf = NaN for g = 0), which is where
    other focal losses produce NaN. gamma = 0 returns ones; small integer gammas use exact products;
    otherwise u below the smallest normal number maps to 0 with zero gradient, which is the true
    limit of the loss's gradient there (the cross-entropy factor vanishes with u).
    """
    if gamma == 0:
        return ops.ones_like(u)
    if float(gamma).is_integer() and gamma <= 4:
        result = u
        for _ in range(int(gamma) - 1):
            result = result * u
        return result
    positive = u > _SMALLEST_NORMAL.get(_dtype_name(u), 0.0)
    return ops.where(positive, ops.power(ops.where(positive, u, 1.0), gamma), 0.0)


def normalize_probabilities(p):
    """Rescale probabilities to sum to 1 over the last axis (Keras' convention for probability input).

    A row of all zeros would be 0 / 0 = NaN; dividing by at least the smallest normal number leaves it all
    zeros, which the probability clip then turns into a finite (large) loss with a zero gradient."""
    total = ops.sum(p, axis=-1, keepdims=True)
    return p / ops.maximum(total, _SMALLEST_NORMAL.get(_dtype_name(p), 0.0))


def computed_in_float32(function):
    """Run `function(y_true, y_pred, **hyperparameters)` in float32 when `y_pred` is float16 or bfloat16,
    and return its result in that dtype. For the pairwise losses, squared distances of embeddings of scale
    25 in 128 dimensions (about 25^2 * 128 * 4 = 3e5) overflow float16's 65504; for distillation at a high
    temperature, the KL of two nearly uniform distributions is a difference of nearly equal logs, lost in
    float16's 11 bits and then multiplied by T^2. The B x B intermediates stay O(B^2) either way."""

    @functools.wraps(function)
    def wrapper(y_true, y_pred, **hyperparameters):
        dtype = keras.backend.standardize_dtype(y_pred.dtype)
        if dtype not in ("float16", "bfloat16"):
            return function(y_true, y_pred, **hyperparameters)
        if "float" in keras.backend.standardize_dtype(y_true.dtype):
            y_true = ops.cast(y_true, "float32")
        return ops.cast(function(y_true, ops.cast(y_pred, "float32"), **hyperparameters), dtype)

    return wrapper
