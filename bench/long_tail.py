"""Class-imbalance loss benchmarks (issue 25), suite `long_tail` of `python -m bench`.

Each loss against the Keras built-in on the same logits, forward + backward (the gradient with respect to the
logits), timed in alternation in this process, with peak memory in units of one (batch, classes) float32 tensor
(a block):

- `LogitAdjusted`, `BalancedSoftmax`, `LDAM` (with class weights, as after the DRW switch), `SparsePolyLoss` and
  `SparseCategoricalFocalLoss` with class-balanced `alpha`, against Keras' `SparseCategoricalCrossentropy`;
- `PolyLoss` on one-hot labels against Keras' `CategoricalCrossentropy`;
- `AsymmetricLoss` on multi-hot labels against Keras' `BinaryCrossentropy` (its per-label special case, summed).

The class counts decay exponentially over the classes at a ratio of 100 (the CIFAR-LT rule).
"""

import os

import keras
import numpy as np
import tensorflow as tf

import kerasloss
from bench.timing import forward_backward, paired_median_seconds, peak_bytes

MODES = {"tf.function": False, "jit_compile=True": True}


def _counts(classes, ratio=100.0, largest=5000.0):
    return largest * ratio ** (-np.arange(classes) / (classes - 1))


def long_tail_suite(quick, batch=65536, classes=1000):
    batch = 8192 if quick else batch
    repeats = 3 if quick else 10
    rng = np.random.default_rng(4)
    logits = tf.constant(rng.standard_normal((batch, classes), dtype=np.float32))
    ids = tf.constant(rng.integers(0, classes, batch).astype(np.int32))
    one_hot = tf.one_hot(ids, classes)
    multi_hot = tf.constant((rng.random((batch, classes)) < 0.02).astype(np.float32))
    counts = _counts(classes)
    weights = kerasloss.class_balanced_weights(counts, 0.9999)
    sparse_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    candidates = [
        ("LogitAdjusted(tau=1)", kerasloss.LogitAdjusted(counts), ids, sparse_ce, "SparseCategoricalCrossentropy"),
        ("BalancedSoftmax", kerasloss.BalancedSoftmax(counts), ids, sparse_ce, "SparseCategoricalCrossentropy"),
        (
            "LDAM(class_weights=class-balanced)",
            kerasloss.LDAM(counts, class_weights=weights),
            ids,
            sparse_ce,
            "SparseCategoricalCrossentropy",
        ),
        (
            "SparseCategoricalFocalLoss(gamma=2, alpha=class-balanced)",
            kerasloss.SparseCategoricalFocalLoss(gamma=2.0, alpha=weights, from_logits=True),
            ids,
            sparse_ce,
            "SparseCategoricalCrossentropy",
        ),
        (
            "SparsePolyLoss(epsilon=1)",
            kerasloss.SparsePolyLoss(1.0, from_logits=True),
            ids,
            sparse_ce,
            "SparseCategoricalCrossentropy",
        ),
        (
            "PolyLoss(epsilon=1), one-hot",
            kerasloss.PolyLoss(1.0, from_logits=True),
            one_hot,
            keras.losses.CategoricalCrossentropy(from_logits=True),
            "CategoricalCrossentropy",
        ),
        (
            "AsymmetricLoss(0, 4, clip=0.05), multi-hot",
            kerasloss.AsymmetricLoss(),
            multi_hot,
            keras.losses.BinaryCrossentropy(from_logits=True),
            "BinaryCrossentropy",
        ),
    ]
    block = batch * classes * 4
    rows = []
    load = os.getloadavg()[0]
    for mode, jit in MODES.items():
        for name, loss, labels, baseline, baseline_name in candidates:
            ours, theirs = forward_backward(loss, labels, logits, jit), forward_backward(baseline, labels, logits, jit)
            t, t_base = paired_median_seconds(ours, theirs, repeats)
            rows.append(
                {
                    "benchmark": f"{name}, {batch:,} x {classes:,} logits",
                    "baseline": f"keras {baseline_name}",
                    "mode": mode,
                    "ours_ms": 1e3 * t,
                    "baseline_ms": 1e3 * t_base,
                    "ratio": t / t_base,
                    "target": None,
                    "peak_blocks": peak_bytes(ours) / block,
                    "baseline_peak_blocks": peak_bytes(theirs) / block,
                    "load": load,
                }
            )
    return rows


SUITES = {"long_tail": long_tail_suite}
