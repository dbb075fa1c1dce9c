"""Metric-learning benchmarks (issue 14), suites of `python -m bench`:

- `retrieval`: `kerasloss.metric_learning.retrieval.evaluate` (recall@1/5/10 by exact, chunked nearest
  neighbours) against scikit-learn's brute-force `NearestNeighbors(metric="cosine")` on 100,000 x 128
  clustered embeddings, with the peak memory of ours at several chunk sizes (it is O(chunk x N)).
- `multi_similarity`: `kerasloss.MultiSimilarity` forward + backward against pytorch-metric-learning's
  `MultiSimilarityLoss` (torch on the CPU) at batch 1,024 and 4,096, values checked equal, peak memory of each.

Each suite takes `quick` (a smoke run: smaller sizes) and returns rows for `bench.__main__.write`; `notes`
writes what they measured under the table of bench/results.md. Run one alone: `python -m bench --suite retrieval`
(`SUITES` registers them with `python -m bench`).
"""

import os
import time
import tracemalloc

import numpy as np
import tensorflow as tf

import kerasloss
from bench.timing import forward_backward, paired_median_seconds, peak_bytes
from kerasloss.metric_learning import retrieval

MODES = {"tf.function": False, "jit_compile=True": True}
KS = (1, 5, 10)


# Retrieval


def clustered_embeddings(n, dim=128, classes=1000, noise=2.0, seed=4):
    """`n` float32 embeddings in `classes` equal classes: a standard normal centre per class plus
    `noise` x standard normal, so the nearest neighbour shares the label often but far from always."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim), dtype=np.float32)
    labels = np.arange(n) % classes
    x = centres[labels] + np.float32(noise) * rng.standard_normal((n, dim), dtype=np.float32)
    return x, labels


def _evaluate_seconds_and_peak(x, labels, chunk_size):
    """One `evaluate` call: (seconds, process CPU seconds, metrics, peak bytes held by TensorFlow's CPU
    allocator above what it held before: the chunk's distance matrix and top_k temporaries, plus evaluate's
    float32 copies of the embeddings; host-side NumPy bookkeeping is not counted, it is O(chunk x depth))."""
    tf.config.experimental.reset_memory_stats("CPU:0")
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    start, cpu = time.perf_counter(), time.process_time()
    metrics = retrieval.evaluate(x, labels, k=KS, distance="cosine", chunk_size=chunk_size)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, metrics, tf.config.experimental.get_memory_info("CPU:0")["peak"] - before


def _sklearn_neighbours(x):
    """scikit-learn brute-force cosine kNN, each point left out of its own neighbours (`kneighbors()`
    without X): (seconds, process CPU seconds, distances, indices, peak bytes of NumPy's allocations by
    tracemalloc above what it held before)."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=max(KS) + 1, algorithm="brute", metric="cosine", n_jobs=-1).fit(x)
    tracemalloc.start()  # traces NumPy's buffers; no measurable slowdown on this NumPy-bound search
    try:
        before = tracemalloc.get_traced_memory()[0]
        start, cpu = time.perf_counter(), time.process_time()
        distances, indices = nn.kneighbors(n_neighbors=max(KS))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return seconds, cpu, distances, indices, peak


def _near_ties(distances, hits, tolerance=1e-5):
    """Queries whose first two neighbours are within `tolerance` in cosine distance (float32 rounding of a
    128-term dot product is ~1e-6) and differ in whether they share the label: the only queries where
    two exact searches may rightly disagree on recall@1."""
    return int(np.sum((distances[:, 1] - distances[:, 0] <= tolerance) & (hits[:, 0] != hits[:, 1])))


def retrieval_suite(
    quick, n=100_000, dim=128, classes=1000, noise=2.0, chunk_size=1024, memory_chunks=(256, 1024, 4096)
):
    """evaluate(k=(1, 5, 10), cosine) against scikit-learn at n x dim, each timed once (at 100,000 one
    run of each takes minutes on 2 cores), recall@1 checked equal up to near-ties; then evaluate's peak
    memory at n / 5 embeddings and several chunk sizes, to show O(chunk x N)."""
    if quick:
        n, classes = 20_000, 200
    x, labels = clustered_embeddings(n, dim, classes, noise)
    # Warm up TensorFlow's kernels (matmul, top_k) on a small set, outside the measurement.
    retrieval.evaluate(x[:2000], labels[:2000], k=KS, chunk_size=chunk_size)
    load = os.getloadavg()[0]  # the machine may be shared: its load as the timed runs start
    t_ours, cpu_ours, ours, peak = _evaluate_seconds_and_peak(x, labels, chunk_size)
    t_sk, cpu_sk, distances, indices, sk_peak = _sklearn_neighbours(x)
    hits = labels[indices] == labels[:, None]
    theirs = {f"recall@{k}": float(hits[:, :k].any(axis=1).mean()) for k in KS}
    ties = _near_ties(distances, hits)
    disagree = round(abs(ours["recall@1"] - theirs["recall@1"]) * n)
    if disagree > ties:
        raise AssertionError(
            f"retrieval: recall@1 {ours['recall@1']} (kerasloss) vs {theirs['recall@1']} (scikit-learn) differs "
            f"on {disagree} queries, more than the {ties} near-ties"
        )
    block = chunk_size * n * 4
    rows = [
        {
            "suite": "retrieval",
            "benchmark": f"retrieval.evaluate(k=(1, 5, 10), cosine, chunk_size={chunk_size:,}), "
            f"{n:,} x {dim} embeddings, {classes:,} classes",
            "baseline": "scikit-learn NearestNeighbors(algorithm='brute', metric='cosine', n_jobs=-1)",
            "mode": "eager, 1 run",
            "ours_ms": 1e3 * t_ours,
            "baseline_ms": 1e3 * t_sk,
            "ratio": t_ours / t_sk,
            "target": None,
            "peak_mib": peak / 2**20,
            "baseline_peak_mib": sk_peak / 2**20,
            "peak_chunk_blocks": peak / block,
            "n": n,
            "chunk_size": chunk_size,
            "noise": noise,
            "load_average": load,
            "ours_cpu_s": cpu_ours,
            "baseline_cpu_s": cpu_sk,
            "recall": {name: ours[name] for name in theirs},
            "map_at_r": ours["map@r"],
            "baseline_recall": theirs,
            "recall_at_1_disagreements": disagree,
            "near_ties": ties,
        }
    ]
    small = n // 5
    memory_chunks = [chunk for chunk in memory_chunks if chunk < small]
    retrieval.evaluate(x[:small], labels[:small], k=KS, chunk_size=max(memory_chunks))  # warm up
    for chunk in memory_chunks:
        seconds, _, _, peak = _evaluate_seconds_and_peak(x[:small], labels[:small], chunk)
        block = chunk * small * 4
        rows.append(
            {
                "suite": "retrieval",
                "benchmark": f"retrieval.evaluate peak memory, {small:,} x {dim}, chunk_size={chunk:,}",
                "baseline": f"chunk x N float32 = {block / 2**20:.0f} MiB",
                "mode": "eager, 1 run",
                "ours_ms": 1e3 * seconds,
                "baseline_ms": float("nan"),
                "ratio": float("nan"),
                "target": None,
                "peak_mib": peak / 2**20,
                "baseline_peak_mib": block / 2**20,
                "peak_chunk_blocks": peak / block,
                "n": small,
                "chunk_size": chunk,
            }
        )
    return rows


# Multi-similarity


def _pml_step(x, labels, alpha, beta, base):
    """pytorch-metric-learning's MultiSimilarityLoss forward + backward on CPU tensors: a step returning the
    loss value (a NumPy scalar, which bench.timing's paired timing takes as it takes our tensors)."""
    import torch
    from pytorch_metric_learning import losses

    x = torch.from_numpy(x).requires_grad_(True)
    labels = torch.from_numpy(labels)
    loss = losses.MultiSimilarityLoss(alpha=alpha, beta=beta, base=base)

    def step():
        value = loss(x, labels)
        value.backward()
        x.grad = None
        return value.detach().numpy()

    return step


def _torch_peak_bytes(step):
    """Peak bytes held by torch's CPU allocator during one step above what was held before, from the
    profiler's allocation and free records in time order: the step's temporaries and outputs (the
    gradient), not its inputs; the same measure as bench.timing.peak_bytes for TensorFlow."""
    from torch.profiler import ProfilerActivity, profile

    step()  # any first-call allocations outside the measurement
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    records = sorted(
        (e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"
    )
    held = peak = 0
    for _, nbytes in records:
        held += nbytes
        peak = max(peak, held)
    return peak


def multi_similarity_suite(quick, batches=(1024, 4096), dim=128, classes=100, alpha=2.0, beta=50.0, base=0.5):
    """MultiSimilarity(alpha, beta, base) forward + backward against pml's MultiSimilarityLoss on the same data,
    timed in alternation in this process, values checked equal (rtol 1e-4); peak memory of each, ~B^2."""
    if quick:
        batches = (256, 1024)
    rng = np.random.default_rng(5)
    rows = []
    for batch in batches:
        x = rng.standard_normal((batch, dim), dtype=np.float32)
        labels = rng.integers(0, classes, batch).astype(np.int64)
        theirs = _pml_step(x, labels, alpha, beta, base)
        expected = float(theirs())
        their_peak = _torch_peak_bytes(theirs)
        repeats = 3 if quick else (5 if batch > 2048 else 9)
        load = os.getloadavg()[0]
        for mode, jit in MODES.items():
            ours = forward_backward(
                kerasloss.MultiSimilarity(alpha=alpha, beta=beta, base=base),
                tf.constant(labels),
                tf.constant(x),
                jit,
            )
            value = float(ours()[0])
            np.testing.assert_allclose(value, expected, rtol=1e-4, err_msg=f"MultiSimilarity vs pml, {mode}")
            t_ours, t_theirs = paired_median_seconds(ours, theirs, repeats)
            # TensorFlow runs independent ops of a graph concurrently, so the peak varies between runs: the most of 3.
            peaks = [peak_bytes(ours) for _ in range(3)]
            peak = max(peaks)
            rows.append(
                {
                    "suite": "multi_similarity",
                    "benchmark": f"MultiSimilarity(alpha={alpha:g}, beta={beta:g}, base={base:g}), batch {batch:,}, "
                    f"dim {dim}, {classes} classes",
                    "baseline": "pytorch-metric-learning MultiSimilarityLoss (torch, CPU)",
                    "mode": mode,
                    "ours_ms": 1e3 * t_ours,
                    "baseline_ms": 1e3 * t_theirs,
                    "ratio": t_ours / t_theirs,
                    "target": None,
                    "peak_mib": peak / 2**20,
                    "least_peak_mib": min(peaks) / 2**20,
                    "baseline_peak_mib": their_peak / 2**20,
                    "peak_b2_blocks": peak / (batch * batch * 4),
                    "baseline_peak_b2_blocks": their_peak / (batch * batch * 4),
                    "batch": batch,
                    "load_average": load,
                    "loss": value,
                    "baseline_loss": expected,
                }
            )
    return rows


SUITES = {"retrieval": retrieval_suite, "multi_similarity": multi_similarity_suite}


def notes(rows):
    """Lines for bench/results.md under the table, explaining the metric-learning rows and their checks."""
    lines = []
    retrieval = [r for r in rows if r.get("suite") == "retrieval"]
    if retrieval:
        main, scaling = retrieval[0], retrieval[1:]
        ours, theirs = main["recall"], main["baseline_recall"]
        lines += [
            "",
            "**Retrieval** (`--suite retrieval`): `kerasloss.metric_learning.retrieval.evaluate(embeddings, labels, "
            'k=(1, 5, 10), distance="cosine")` against scikit-learn\'s brute-force `NearestNeighbors(metric="cosine")` '
            "`.kneighbors()` (each point left out of its own neighbours, as evaluate does), one run each, on "
            f"clustered embeddings (per class a standard normal centre, plus {main['noise']:g} x standard normal "
            "noise per embedding). Ours also computes MAP@R, so it takes each query's R (~ N / classes) nearest, "
            f"not 10. recall@1/5/10: {ours['recall@1']:.4f} / {ours['recall@5']:.4f} / {ours['recall@10']:.4f} "
            f"(scikit-learn {theirs['recall@1']:.4f} / {theirs['recall@5']:.4f} / {theirs['recall@10']:.4f}; "
            f"recall@1 differs on {main['recall_at_1_disagreements']} queries, where {main['near_ties']} near-ties "
            f"could rightly differ; checked by the suite), MAP@R {main['map_at_r']:.4f}. 1-minute load average "
            f"as the timed runs started: {main['load_average']:.1f} on {os.cpu_count()} cores (a shared machine); "
            f"process CPU seconds, less sensitive to that load: {main['ours_cpu_s']:.0f} (ours) and "
            f"{main['baseline_cpu_s']:.0f} (scikit-learn), ratio {main['ours_cpu_s'] / main['baseline_cpu_s']:.3f}.",
            "",
            "Peak memory of the retrieval rows: ours is the most TensorFlow's CPU allocator held above its level "
            "before the call (`tf.config.experimental.get_memory_info`): the chunk's similarity matrix and "
            "`top_k` temporaries, plus evaluate's float32 copies of the embeddings (N x dim, fixed); host-side "
            "NumPy bookkeeping (chunk x R) is not counted. scikit-learn's is the most NumPy held above its "
            "level before `kneighbors` (`tracemalloc`): it sizes its chunks by `working_memory` (1 GiB by "
            "default) and `argpartition` returns int64 indices of the whole chunk. Ours in chunk x N float32 "
            "blocks: "
            + ", ".join(
                f"{r['peak_chunk_blocks']:.2f} (chunk {r['chunk_size']:,}, N {r['n']:,}, {r['peak_mib']:.0f} MiB)"
                for r in retrieval
            )
            + ".",
        ]
        if len(scaling) > 1:
            low, high = scaling[0], scaling[-1]
            lines[-1] += (
                f" From chunk {low['chunk_size']:,} to {high['chunk_size']:,} at N {low['n']:,} the peak grows "
                f"{high['peak_mib'] / low['peak_mib']:.1f}x for {high['chunk_size'] / low['chunk_size']:.0f}x the "
                "chunk (the N x dim copies are the fixed part)."
            )
    similarity = [r for r in rows if r.get("suite") == "multi_similarity"]
    if similarity:
        lines += [
            "",
            "**Multi-similarity** (`--suite multi_similarity`): `kerasloss.MultiSimilarity(alpha=2, beta=50, "
            "base=0.5)` against pytorch-metric-learning's `MultiSimilarityLoss(alpha=2, beta=50, base=0.5)` "
            "(torch on the CPU, eager; no miner), forward + backward on the same data, timed in alternation; "
            "the values agree to rtol 1e-4 (checked by the suite): "
            + ", ".join(f"batch {r['batch']:,} {r['loss']:.6f} / {r['baseline_loss']:.6f}" for r in similarity[::2])
            + ". 1-minute load average as each batch started: "
            + ", ".join(f"{r['load_average']:.1f}" for r in similarity[::2])
            + f" on {os.cpu_count()} cores (a shared machine). Peak memory: the most each framework's CPU "
            "allocator held above its level before the step "
            "(TensorFlow's memory info, the most of 3 runs; torch's profiler allocation records, summed in time "
            "order): temporaries "
            "and outputs, the gradient included, not the inputs. In B^2 float32 blocks (ours / pml): "
            + ", ".join(
                f"batch {r['batch']:,} {r['mode']}: {r['peak_b2_blocks']:.1f} / {r['baseline_peak_b2_blocks']:.1f}"
                for r in similarity
            )
            + ".",
        ]
        for mode in MODES:
            rows_of_mode = [r for r in similarity if r["mode"] == mode]
            low, high = rows_of_mode[0], rows_of_mode[-1]
            if high["batch"] > low["batch"]:
                growth = (high["batch"] / low["batch"]) ** 2
                lines[-1] += (
                    f" {mode}: from batch {low['batch']:,} to {high['batch']:,} ({growth:.0f}x B^2) ours grows "
                    f"{high['peak_mib'] / low['peak_mib']:.1f}x, pml "
                    f"{high['baseline_peak_mib'] / low['baseline_peak_mib']:.1f}x."
                )
    return lines
