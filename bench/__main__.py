"""`make bench`: kerasloss against the Keras built-ins, forward + backward, same process, same data.

Writes bench/results.md (quoted in the README) and bench/results.json. Run: `python -m bench`.
"""

import argparse
import datetime
import functools
import json
import os
import pathlib
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import kerasloss
from bench import long_tail, metric_learning, proxies, report
from bench.timing import forward_backward, paired_median_seconds, peak_bytes, wait_for

HERE = pathlib.Path(__file__).parent
MODES = {"tf.function": False, "jit_compile=True": True}


def focal_suite(repeats):
    """FocalLoss on 1,000,000 logits vs BinaryFocalCrossentropy(apply_class_balancing=True)."""
    rng = np.random.default_rng(0)
    logits = tf.constant(3 * rng.standard_normal((1000, 1000), dtype=np.float32))
    labels = tf.constant((rng.random((1000, 1000)) < 0.1).astype(np.float32))
    ours = kerasloss.FocalLoss(gamma=2.0, alpha=0.25, from_logits=True)
    theirs = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True)
    rows = []
    for mode, jit in MODES.items():
        t_ours, t_theirs = paired_median_seconds(
            forward_backward(ours, labels, logits, jit), forward_backward(theirs, labels, logits, jit), repeats
        )
        rows.append(
            {
                "benchmark": "FocalLoss, 1,000,000 logits",
                "baseline": "keras BinaryFocalCrossentropy(apply_class_balancing=True)",
                "mode": mode,
                "ours_ms": 1e3 * t_ours,
                "baseline_ms": 1e3 * t_theirs,
                "ratio": t_ours / t_theirs,
                "target": 1.0,
            }
        )
    return rows


def sparse_suite(repeats, batch=65536, classes=1000):
    """Sparse focal and smoothed sparse CE on (65536, 1000) logits vs Keras' SparseCategoricalCrossentropy;
    peak memory beside Keras' one-hot route to smoothing (CategoricalCrossentropy on one_hot(y))."""
    rng = np.random.default_rng(1)
    logits = tf.constant(rng.standard_normal((batch, classes), dtype=np.float32))
    ids = tf.constant(rng.integers(0, classes, batch).astype(np.int32))
    one_hot_ids = lambda loss: lambda y, x: loss(tf.one_hot(y, classes), x)  # noqa: E731
    baseline = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    candidates = {
        "SparseCategoricalFocalLoss(gamma=2)": kerasloss.SparseCategoricalFocalLoss(gamma=2.0, from_logits=True),
        "SparseCategoricalCrossentropy(label_smoothing=0.1)": kerasloss.SparseCategoricalCrossentropy(
            from_logits=True, label_smoothing=0.1
        ),
        "keras CategoricalCrossentropy(label_smoothing=0.1) on one_hot(y)": one_hot_ids(
            keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
        ),
    }
    block = batch * classes * 4  # bytes of one (batch, classes) float32 tensor
    rows = []
    for mode, jit in MODES.items():
        base_run = forward_backward(baseline, ids, logits, jit)
        m_base = peak_bytes(base_run)
        for name, loss in candidates.items():
            run = forward_backward(loss, ids, logits, jit)
            t, t_base = paired_median_seconds(run, base_run, repeats)
            rows.append(
                {
                    "benchmark": f"{name}, {batch:,} x {classes:,} logits",
                    "baseline": "keras SparseCategoricalCrossentropy",
                    "mode": mode,
                    "ours_ms": 1e3 * t,
                    "baseline_ms": 1e3 * t_base,
                    "ratio": t / t_base,
                    "target": None if name.startswith("keras") else 1.2,
                    "peak_blocks": peak_bytes(run) / block,
                    "baseline_peak_blocks": m_base / block,
                }
            )
    return rows


def ntxent_suite(repeats, batch=4096, dim=128, temperature=0.07):
    """NTXent on `batch` pairs (2 * batch embeddings) vs the plain O(B^2) TensorFlow formulation:
    normalize, one matmul, a 1e9 self-mask, sparse softmax cross-entropy."""
    rng = np.random.default_rng(2)
    views = tf.constant(rng.standard_normal((batch, 2, dim), dtype=np.float32))
    ignored = tf.zeros(batch)

    def plain(_, v):
        z = tf.math.l2_normalize(tf.concat([v[:, 0], v[:, 1]], 0), axis=1)
        logits = tf.matmul(z, z, transpose_b=True) / temperature - 1e9 * tf.eye(2 * batch)
        labels = tf.concat([tf.range(batch, 2 * batch), tf.range(batch)], 0)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))

    rows = []
    for mode, jit in MODES.items():
        ours = forward_backward(kerasloss.NTXent(temperature), ignored, views, jit)
        theirs = forward_backward(plain, ignored, views, jit)
        t_ours, t_theirs = paired_median_seconds(ours, theirs, repeats)
        rows.append(
            {
                "benchmark": f"NTXent, batch {batch:,} ({2 * batch:,} embeddings), dim {dim}",
                "baseline": "plain TF matmul + masked softmax cross-entropy",
                "mode": mode,
                "ours_ms": 1e3 * t_ours,
                "baseline_ms": 1e3 * t_theirs,
                "ratio": t_ours / t_theirs,
                "target": 1.1 if jit else None,
                "peak_mib": peak_bytes(ours) / 2**20,
                "baseline_peak_mib": peak_bytes(theirs) / 2**20,
            }
        )
    return rows


def _pml_semi_hard_step(batch, dim, classes):
    """pytorch-metric-learning's TripletMarginLoss + TripletMarginMiner("semihard"), forward + backward, as
    a callable (None where it is not installed: `make bench` installs it)."""
    try:
        import torch
        from pytorch_metric_learning import losses, miners
    except ImportError:
        return None
    torch.manual_seed(0)
    x = torch.randn(batch, dim, requires_grad=True)
    y = torch.randint(0, classes, (batch,))
    loss, miner = losses.TripletMarginLoss(margin=1.0), miners.TripletMarginMiner(1.0, type_of_triplets="semihard")

    def step():
        loss(x, y, miner(x, y)).backward()
        x.grad = None

    return step


def _timed(run):
    """(wall, process CPU) seconds of one run."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = run()
    if result is not None:
        wait_for(result)
    return time.perf_counter() - start, time.process_time() - cpu_start


def triplet_suite(repeats, batch=1024, dim=64, class_counts=(10, 128), memory_batches=(1024, 4096, 8192)):
    """TripletLoss(mining="semi-hard") at batch 1024, dim 64 vs pytorch-metric-learning (in this process),
    with 10 classes (digits-like: ~100 positives per anchor) and 128 (~8). PML's miner enumerates every
    triplet (positives x negatives per anchor); ours searches each anchor-positive pair's row once
    (positives x B per anchor, no sort), or outside XLA sorts each row once where the positives per anchor
    are many (the 10 classes in tf.function). Timed in rounds: one PML step, then `repeats` of each of ours
    (the median); the ratio is taken per round, so that the machine's drift falls on both (the row gives the
    median over rounds, `ratio_range` the lowest and highest). Then peak memory at growing batches, in both
    modes, to show B^2 (not B^3) growth."""
    rng = np.random.default_rng(3)
    rows = []
    for classes in class_counts:
        pml = _pml_semi_hard_step(batch, dim, classes)
        x = tf.constant(rng.standard_normal((batch, dim), dtype=np.float32))
        labels = tf.constant(rng.integers(0, classes, batch))
        loss = kerasloss.TripletLoss(mining="semi-hard")
        ours = {mode: forward_backward(loss, labels, x, jit) for mode, jit in MODES.items()}
        for run in ours.values():  # compile
            _timed(run)
        if pml:
            pml()
        rounds = max(3, repeats // 2) if pml else 1
        samples = {mode: [] for mode in ours}
        baseline = []
        for _ in range(rounds):
            if pml:
                baseline.append(_timed(pml))
            for mode, run in ours.items():
                times = [_timed(run) for _ in range(repeats)]
                samples[mode].append((statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)))
        for mode in ours:
            wall = [s[0] for s in samples[mode]]
            row = {
                "benchmark": f"TripletLoss(semi-hard), batch {batch:,}, dim {dim}, {classes} classes",
                "baseline": "pytorch-metric-learning TripletMarginLoss + TripletMarginMiner('semihard')",
                "mode": mode,
                "ours_ms": 1e3 * statistics.median(wall),
                "ours_cpu_ms": 1e3 * statistics.median(s[1] for s in samples[mode]),
                "baseline_ms": float("nan"),
                "ratio": float("nan"),
                "target": 1 / 50,
                "rounds": rounds,
                "load_average": os.getloadavg()[0],
            }
            if pml:
                ratios = [ours_wall / theirs[0] for ours_wall, theirs in zip(wall, baseline, strict=True)]
                row.update(
                    baseline_ms=1e3 * statistics.median(t[0] for t in baseline),
                    baseline_cpu_ms=1e3 * statistics.median(t[1] for t in baseline),
                    ratio=statistics.median(ratios),
                    ratio_range=[min(ratios), max(ratios)],
                )
            rows.append(row)
    for b in memory_batches:
        x = tf.constant(rng.standard_normal((b, dim), dtype=np.float32))
        labels = tf.constant(rng.integers(0, max(b // 8, 2), b))
        for mode, jit in MODES.items():
            run = forward_backward(kerasloss.TripletLoss(mining="semi-hard"), labels, x, jit)
            start = time.perf_counter()
            peak = peak_bytes(run)  # two runs: compile, then measure
            rows.append(
                {
                    "benchmark": f"TripletLoss(semi-hard) peak memory, batch {b:,}, dim {dim}",
                    "baseline": f"B^2 float32 = {b * b * 4 / 2**20:.0f} MiB",
                    "mode": mode,
                    "ours_ms": 1e3 * (time.perf_counter() - start) / 2,
                    "baseline_ms": float("nan"),
                    "ratio": float("nan"),
                    "target": None,
                    "peak_mib": peak / 2**20,
                    "baseline_peak_mib": b * b * 4 / 2**20,
                }
            )
    return rows


def write(rows, command):
    (HERE / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = report.results_markdown(rows, command)
    (HERE / "results.md").write_text(text)
    readme = HERE.parent / "README.md"
    readme.write_text(report.with_readme_headline(readme.read_text(), rows))
    print(text)


def machine():
    """What a row was measured on (bench/report.py renders it)."""
    return {
        "platform": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "CPU model unknown"


def suites(quick):
    """Every suite by name, in the order of results.md: name -> a function returning its rows."""
    repeats = 5 if quick else 50
    return {
        "focal": lambda: focal_suite(2 * repeats),
        "sparse": lambda: sparse_suite(3 if quick else 10, batch=8192 if quick else 65536),
        "ntxent": lambda: ntxent_suite(3 if quick else 7, batch=1024 if quick else 4096),
        "triplet": lambda: triplet_suite(3 if quick else 7, memory_batches=(256, 512) if quick else (1024, 4096, 8192)),
        **{name: functools.partial(suite, quick) for name, suite in metric_learning.SUITES.items()},
        **{name: functools.partial(suite, quick) for name, suite in proxies.SUITES.items()},
        **{name: functools.partial(suite, quick) for name, suite in long_tail.SUITES.items()},
    }


def main():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sparse batch (a smoke run)")
    parser.add_argument(
        "--suite",
        action="append",
        choices=list(suites(False)),
        help="run only this suite (repeatable); the other suites' rows are kept from results.json",
    )
    args = parser.parse_args()
    available = suites(args.quick)
    selected = args.suite or list(available)
    rows = []
    for name in selected:
        today, where = datetime.date.today().isoformat(), machine()
        rows += [{"suite": name, "date": today, "machine": where, **row} for row in available[name]()]
    if args.suite:  # keep the rows of the suites not rerun, in suite order
        previous = json.loads((HERE / "results.json").read_text()) if (HERE / "results.json").exists() else []
        order = {name: i for i, name in enumerate(available)}
        kept = [row for row in previous if row.get("suite") not in selected]
        rows = sorted(kept + rows, key=lambda row: order.get(row.get("suite"), -1))
    flags = ["--quick"] * args.quick + [f"--suite {name}" for name in args.suite or ()]
    command = " ".join(["python -m bench", *flags])
    write(rows, command)


if __name__ == "__main__":
    main()
