"""Proxy and margin-loss benchmarks (issue 15), suites of `python -m bench`:

- `arcface`: `kerasloss.ArcFace(scale=64, margin=0.5)` on `kerasloss.CosineProxies(10_000)` (512-d embeddings,
  batch 256) against the plain formulation written in TensorFlow (normalize, matmul, arccos / cos margin on the
  target logit with the theta + m > pi fallback, Keras' SparseCategoricalCrossentropy), values checked equal.
- `proxy_anchor`: `kerasloss.ProxyAnchor(alpha=32, delta=0.1)` on `CosineProxies(1_000)` (128-d, batch 256 and
  1,024) against pytorch-metric-learning's `ProxyAnchorLoss(margin=0.1, alpha=32)` (torch on the CPU) with the
  same proxies and embeddings, values checked equal.

Each pair is timed forward + backward with the gradient with respect to both the embeddings and the proxies
(the layer and the loss together), in alternation, in this process, on the same data. Each suite takes `quick`
(a smoke run: smaller sizes) and returns rows for `bench.__main__.write`; `notes` writes what they measured
under the table of bench/results.md.
"""

import math
import os
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

import kerasloss
from bench.metric_learning import _torch_peak_bytes
from bench.timing import peak_bytes, wait_for

MODES = {"tf.function": False, "jit_compile=True": True}


def paired_medians(run_a, run_b, repeats, warmup=3):
    """bench.timing.paired_median_seconds (a, b, a, b, ... so that drift falls on both alike), also recording
    each run's process CPU seconds (all threads): ((wall_a, cpu_a), (wall_b, cpu_b)), medians."""
    for _ in range(warmup):
        wait_for(run_a())
        wait_for(run_b())
    samples = [([], []), ([], [])]  # (wall, cpu) of a, of b
    for _ in range(repeats):
        for run, (wall, cpu) in zip((run_a, run_b), samples, strict=True):
            start, cpu_start = time.perf_counter(), time.process_time()
            wait_for(run())
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
    return tuple((statistics.median(wall), statistics.median(cpu)) for wall, cpu in samples)


def layer_and_loss_step(loss, labels, embeddings, num_classes, jit_compile, seed):
    """A compiled step: CosineProxies(num_classes) on the embeddings, `loss` on its cosines, and the gradient
    with respect to the embeddings and the proxies. Returns (step, the proxies as a NumPy (dim, C) array)."""
    keras.utils.set_random_seed(seed)  # the same proxies in both modes
    layer = kerasloss.CosineProxies(num_classes)
    layer.build(tuple(embeddings.shape))

    @tf.function(jit_compile=jit_compile)
    def step(labels, embeddings):
        with tf.GradientTape() as tape:
            tape.watch(embeddings)
            value = loss(labels, layer(embeddings))
        return (value, *tape.gradient(value, [embeddings, layer.proxies]))

    return (lambda: step(labels, embeddings)), layer.proxies.numpy()


def _peak_most_of_3(run):
    """TensorFlow runs independent ops of a graph concurrently, so the peak varies between runs: the most of
    3 (and the least, for the notes)."""
    peaks = [peak_bytes(run) for _ in range(3)]
    return max(peaks), min(peaks)


# ArcFace


def plain_arcface(labels, embeddings, proxies, scale, margin):
    """ArcFace as it is usually written in Keras / TensorFlow: normalize the embeddings (rows) and the proxy
    matrix (columns), one matmul, arccos of the target cosine, cos(theta + m) where theta + m <= pi and
    cos(theta) - m sin(m) beyond (InsightFace's fallback), scale, SparseCategoricalCrossentropy."""
    cosines = tf.matmul(tf.math.l2_normalize(embeddings, axis=1), tf.math.l2_normalize(proxies, axis=0))
    target = tf.gather(cosines, labels, axis=1, batch_dims=1)
    theta = tf.acos(tf.clip_by_value(target, -1.0 + 1e-7, 1.0 - 1e-7))
    adjusted = tf.where(theta + margin > math.pi, target - margin * math.sin(margin), tf.cos(theta + margin))
    one_hot = tf.one_hot(labels, tf.shape(cosines)[1], dtype=cosines.dtype)
    logits = scale * (cosines + one_hot * tf.expand_dims(adjusted - target, 1))
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)


def plain_arcface_step(labels, embeddings, proxies, scale, margin, jit_compile):
    """The plain formulation forward + backward, gradient with respect to the embeddings and the proxies."""
    variable = tf.Variable(proxies)

    @tf.function(jit_compile=jit_compile)
    def step(labels, embeddings):
        with tf.GradientTape() as tape:
            tape.watch(embeddings)
            value = plain_arcface(labels, embeddings, variable, scale, margin)
        return (value, *tape.gradient(value, [embeddings, variable]))

    return lambda: step(labels, embeddings)


def _relative_gradient_gap(ours, theirs):
    """The largest |difference| of two gradient tensors over the largest |entry| of theirs."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


def arcface_suite(quick, batch=256, dim=512, classes=10_000, scale=64.0, margin=0.5):
    """ArcFace on CosineProxies(classes) against the plain TF formulation, same proxies and embeddings, timed
    in alternation; values checked equal (rtol 1e-4), gradients compared; peak memory of each."""
    if quick:
        classes = 1_000
    rng = np.random.default_rng(6)
    embeddings = tf.constant(rng.standard_normal((batch, dim), dtype=np.float32))
    labels = tf.constant(rng.integers(0, classes, batch).astype(np.int32))
    repeats = 5 if quick else 25
    load = os.getloadavg()[0]  # the machine may be shared: its load as the suite starts
    rows = []
    for mode, jit in MODES.items():
        ours, proxies = layer_and_loss_step(
            kerasloss.ArcFace(scale=scale, margin=margin), labels, embeddings, classes, jit, seed=7
        )
        theirs = plain_arcface_step(labels, embeddings, proxies, scale, margin, jit)
        (value, *grads), (expected, *their_grads) = ours(), theirs()
        np.testing.assert_allclose(float(value), float(expected), rtol=1e-4, err_msg=f"ArcFace vs plain TF, {mode}")
        gaps = [_relative_gradient_gap(a, b) for a, b in zip(grads, their_grads, strict=True)]
        if max(gaps) > 1e-3:
            raise AssertionError(f"ArcFace vs plain TF, {mode}: gradients differ by {gaps} of their largest entry")
        (t_ours, cpu_ours), (t_theirs, cpu_theirs) = paired_medians(ours, theirs, repeats)
        peak, least_peak = _peak_most_of_3(ours)
        their_peak, their_least_peak = _peak_most_of_3(theirs)
        rows.append(
            {
                "suite": "arcface",
                "benchmark": f"CosineProxies({classes:,}) + ArcFace(scale={scale:g}, margin={margin:g}), "
                f"batch {batch:,}, dim {dim}",
                "baseline": "plain TF: l2_normalize, matmul, arccos/cos target margin, "
                "keras SparseCategoricalCrossentropy",
                "mode": mode,
                "ours_ms": 1e3 * t_ours,
                "baseline_ms": 1e3 * t_theirs,
                "ratio": t_ours / t_theirs,
                "target": None,
                "peak_mib": peak / 2**20,
                "least_peak_mib": least_peak / 2**20,
                "baseline_peak_mib": their_peak / 2**20,
                "baseline_least_peak_mib": their_least_peak / 2**20,
                "logits_mib": batch * classes * 4 / 2**20,
                "proxies_mib": dim * classes * 4 / 2**20,
                "batch": batch,
                "classes": classes,
                "dim": dim,
                "load_average": load,
                "ours_cpu_ms": 1e3 * cpu_ours,
                "baseline_cpu_ms": 1e3 * cpu_theirs,
                "loss": float(value),
                "baseline_loss": float(expected),
                "gradient_gaps": {"embeddings": gaps[0], "proxies": gaps[1]},
            }
        )
    return rows


# Proxy anchor


def _pml_proxy_anchor_step(x, labels, proxies, alpha, delta):
    """pytorch-metric-learning's ProxyAnchorLoss forward + backward on CPU tensors, its proxies set to ours
    ((dim, C) transposed to its (C, dim)): a step returning the loss value as a NumPy scalar."""
    import torch
    from pytorch_metric_learning import losses

    num_classes, dim = proxies.shape[1], proxies.shape[0]
    loss = losses.ProxyAnchorLoss(num_classes, dim, margin=delta, alpha=alpha)
    with torch.no_grad():
        loss.proxies.copy_(torch.from_numpy(np.ascontiguousarray(proxies.T)))
    x = torch.from_numpy(x).requires_grad_(True)
    labels = torch.from_numpy(labels)

    def step():
        value = loss(x, labels)
        value.backward()
        x.grad = loss.proxies.grad = None
        return value.detach().numpy()

    return step


def proxy_anchor_suite(quick, batches=(256, 1024), dim=128, classes=1_000, alpha=32.0, delta=0.1):
    """ProxyAnchor on CosineProxies(classes) against pml's ProxyAnchorLoss with the same proxies and
    embeddings, timed in alternation in this process; values checked equal (rtol 1e-4); peak memory of each."""
    if quick:
        batches = (256,)
    rng = np.random.default_rng(8)
    rows = []
    for batch in batches:
        x = rng.standard_normal((batch, dim), dtype=np.float32)
        labels = rng.integers(0, classes, batch).astype(np.int64)
        repeats = 5 if quick else 25
        load = os.getloadavg()[0]
        for mode, jit in MODES.items():
            loss = kerasloss.ProxyAnchor(alpha=alpha, delta=delta)
            ours, proxies = layer_and_loss_step(loss, tf.constant(labels), tf.constant(x), classes, jit, seed=9)
            theirs = _pml_proxy_anchor_step(x, labels, proxies, alpha, delta)
            value, expected = float(ours()[0]), float(theirs())
            np.testing.assert_allclose(value, expected, rtol=1e-4, err_msg=f"ProxyAnchor vs pml, batch {batch}, {mode}")
            (t_ours, cpu_ours), (t_theirs, cpu_theirs) = paired_medians(ours, theirs, repeats)
            peak, least_peak = _peak_most_of_3(ours)
            their_peak = _torch_peak_bytes(theirs)
            rows.append(
                {
                    "suite": "proxy_anchor",
                    "benchmark": f"CosineProxies({classes:,}) + ProxyAnchor(alpha={alpha:g}, delta={delta:g}), "
                    f"batch {batch:,}, dim {dim}",
                    "baseline": f"pytorch-metric-learning ProxyAnchorLoss(margin={delta:g}, alpha={alpha:g}), "
                    "same proxies (torch, CPU)",
                    "mode": mode,
                    "ours_ms": 1e3 * t_ours,
                    "baseline_ms": 1e3 * t_theirs,
                    "ratio": t_ours / t_theirs,
                    "target": None,
                    "peak_mib": peak / 2**20,
                    "least_peak_mib": least_peak / 2**20,
                    "baseline_peak_mib": their_peak / 2**20,
                    "cosines_mib": batch * classes * 4 / 2**20,
                    "batch": batch,
                    "classes": classes,
                    "dim": dim,
                    "load_average": load,
                    "ours_cpu_ms": 1e3 * cpu_ours,
                    "baseline_cpu_ms": 1e3 * cpu_theirs,
                    "loss": value,
                    "baseline_loss": expected,
                }
            )
    return rows


SUITES = {"arcface": arcface_suite, "proxy_anchor": proxy_anchor_suite}
