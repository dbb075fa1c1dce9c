"""Metric-learning benchmarks (issue 14), suites of `python -m bench`:

- `retrieval`: `kerasloss.metric_learning.retrieval.evaluate` (recall@1/5/10 and MAP@R by exact, chunked
  nearest neighbours) against faiss-cpu's exact search plus the same metrics, cosine and squared Euclidean,
  at 20,000 and 100,000 x 128 clustered embeddings; against scikit-learn's brute force and its own keras.ops
  search at 20,000; with the peak memory of ours at several chunk sizes (it is O(chunk x N)).
- `multi_similarity`: `kerasloss.MultiSimilarity` forward + backward against pytorch-metric-learning's
  `MultiSimilarityLoss` (torch on the CPU) at batch 1,024 and 4,096, values checked equal, peak memory of each.

Each suite takes `quick` (a smoke run: smaller sizes) and returns rows for `bench.__main__.write`; `notes`
writes what they measured under the table of bench/results.md. Run one alone: `python -m bench --suite retrieval`
(`SUITES` registers them with `python -m bench`).
"""

import os
import statistics
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


def _evaluate_peak(x, labels, chunk_size):
    """(seconds, peak bytes) of one `evaluate` call: the most NumPy held above its level before the call
    (`tracemalloc`: on a CPU-only backend the search runs in NumPy; the chunk's distances, the candidates'
    mask and evaluate's float32 copies of the embeddings) plus the most TensorFlow's CPU allocator held
    above its own (the cosine normalisation, in keras.ops)."""
    tf.config.experimental.reset_memory_stats("CPU:0")
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    tracemalloc.start()
    try:
        start = time.perf_counter()
        retrieval.evaluate(x, labels, k=KS, distance="cosine", chunk_size=chunk_size)
        seconds = time.perf_counter() - start
        numpy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return seconds, numpy_peak + tf.config.experimental.get_memory_info("CPU:0")["peak"] - before


def _faiss_evaluate(x, labels, distance, depth):
    """faiss-cpu's exact search (`IndexFlatIP` on L2-normalised copies for cosine, `IndexFlatL2` for squared
    Euclidean) for each point's depth + 1 nearest, then the same metrics in NumPy: (metrics, the gaps between
    each query's first two scores relative to the first's magnitude (or 1), its first two neighbours)."""
    import faiss

    x = np.array(x, np.float32)  # a copy: normalize_L2 works in place
    if distance == "cosine":
        faiss.normalize_L2(x)
        index = faiss.IndexFlatIP(x.shape[1])
    else:
        index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    scores, found = index.search(x, depth + 1)
    own = found == np.arange(len(x))[:, None]  # each point finds itself (first, unless it ties): dropped
    kept = np.argsort(own, axis=1, kind="stable")[:, :depth]
    neighbours, scores = np.take_along_axis(found, kept, axis=1), np.take_along_axis(scores, kept, axis=1)
    gaps = np.abs(scores[:, 1] - scores[:, 0]) / np.maximum(1.0, np.abs(scores[:, 0]))  # relative to the distance
    return _metrics(neighbours, labels), gaps, neighbours[:, :2]


def _metrics(neighbours, labels):
    """recall@k and MAP@R (Musgrave et al. 2020) from each point's neighbours in order, itself left out,
    written here from the definitions for the baselines (evaluate has its own)."""
    same = labels[neighbours] == labels[:, None]
    relevant = np.bincount(labels)[labels] - 1
    ranks = np.arange(1, same.shape[1] + 1)
    precision = np.cumsum(same, axis=1) / ranks
    average_precision = np.sum(precision * same * (ranks <= relevant[:, None]), axis=1) / np.maximum(relevant, 1)
    counted = relevant > 0
    metrics = {f"recall@{k}": float(same[counted, :k].any(axis=1).mean()) for k in KS}
    metrics["map@r"] = float(average_precision[counted].mean())
    return metrics


def _sklearn_neighbours(x):
    """scikit-learn brute-force cosine kNN, each point left out of its own neighbours (`kneighbors()`
    without X): (seconds, distances, indices)."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=max(KS) + 1, algorithm="brute", metric="cosine", n_jobs=-1).fit(x)
    start = time.perf_counter()
    distances, indices = nn.kneighbors(n_neighbors=max(KS))
    return time.perf_counter() - start, distances, indices


def sgemm_flops_per_second(dim, n, chunk=1024, repeats=5):
    """This machine's float32 matrix-product rate at the search's shape ((chunk, dim) x (dim, n), NumPy's
    BLAS on every core), median of `repeats`: the floor of an exact search is 2 n^2 dim flops at it."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((chunk, dim), dtype=np.float32), rng.standard_normal((dim, n), dtype=np.float32)
    a @ b
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        samples.append(time.perf_counter() - start)
    return 2.0 * chunk * dim * n / statistics.median(samples)


def _disagreements(ours, theirs, n):
    """Queries on which two recall@1 values differ (0 where the metrics are identical)."""
    return round(abs(ours["recall@1"] - theirs["recall@1"]) * n)


def retrieval_suite(
    quick, sizes=(20_000, 100_000), dim=128, noise=2.0, chunk_size=1024, memory_chunks=(256, 1024, 4096)
):
    """evaluate(k=(1, 5, 10)) against faiss-cpu's exact search plus the same metrics, cosine and squared
    Euclidean, at each size with N / 100 classes (so MAP@R reads each query's 99 nearest), timed in
    alternation (medians of 5 rounds at 20,000, 2 at 100,000); recall@1 checked equal up to near-ties.
    Then, at 20,000 cosine: scikit-learn's brute force and evaluate's keras.ops search (what a GPU runs),
    one run each; and evaluate's peak memory at several chunk sizes, to show O(chunk x N)."""
    if quick:
        sizes = (20_000,)
    rows = []
    for n in sizes:
        classes = n // 100
        x, labels = clustered_embeddings(n, dim, classes, noise)
        floor = 2.0 * n * n * dim / sgemm_flops_per_second(dim, n)
        rounds = 5 if n <= 20_000 else 2
        for distance in ("cosine", "squared_euclidean"):
            retrieval.evaluate(x[:2000], labels[:2000], k=KS, distance=distance, chunk_size=chunk_size)  # warm up
            load = os.getloadavg()[0]  # the machine may be shared: its load as the timed runs start
            samples = {"ours": [], "faiss": []}
            for _ in range(rounds):
                start = time.perf_counter()
                ours = retrieval.evaluate(x, labels, k=KS, distance=distance, chunk_size=chunk_size)
                samples["ours"].append(time.perf_counter() - start)
                start = time.perf_counter()
                theirs, gaps, first_two = _faiss_evaluate(x, labels, distance, depth=99)
                samples["faiss"].append(time.perf_counter() - start)
            hits = labels[first_two] == labels[:, None]
            ties = int(np.sum((gaps <= 1e-5) & (hits[:, 0] != hits[:, 1])))
            disagree = _disagreements(ours, theirs, n)
            if disagree > ties:
                raise AssertionError(
                    f"retrieval: recall@1 {ours['recall@1']} (kerasloss) vs {theirs['recall@1']} (faiss) differs on "
                    f"{disagree} queries, more than the {ties} near-ties"
                )
            t_ours, t_faiss = statistics.median(samples["ours"]), statistics.median(samples["faiss"])
            index = "IndexFlatIP on L2-normalised copies" if distance == "cosine" else "IndexFlatL2"
            rows.append(
                {
                    "suite": "retrieval",
                    "benchmark": f"retrieval.evaluate(k=(1, 5, 10), {distance}, chunk_size={chunk_size:,}), "
                    f"{n:,} x {dim} embeddings, {classes:,} classes",
                    "baseline": f"faiss-cpu {index}, k = 100, + the same metrics in NumPy",
                    "mode": f"eager, median of {rounds}",
                    "ours_ms": 1e3 * t_ours,
                    "baseline_ms": 1e3 * t_faiss,
                    "ratio": t_ours / t_faiss,
                    "target": 1.2,
                    "n": n,
                    "distance": distance,
                    "floor_ms": 1e3 * floor,
                    "load_average": load,
                    "recall": {name: ours[name] for name in (f"recall@{k}" for k in KS)},
                    "map_at_r": ours["map@r"],
                    "baseline_recall": {name: theirs[name] for name in (f"recall@{k}" for k in KS)},
                    "baseline_map_at_r": theirs["map@r"],
                    "recall_at_1_disagreements": disagree,
                    "near_ties": ties,
                }
            )
    n = sizes[0]
    x, labels = clustered_embeddings(n, dim, n // 100, noise)
    ours = retrieval.evaluate(x, labels, k=KS, chunk_size=chunk_size)
    t_sk, distances, indices = _sklearn_neighbours(x)
    saved = retrieval.SEARCH_ON_HOST
    retrieval.SEARCH_ON_HOST = False  # the keras.ops search with top_k, on this CPU
    try:
        start = time.perf_counter()
        on_device = retrieval.evaluate(x, labels, k=KS, chunk_size=chunk_size)
        t_device = time.perf_counter() - start
    finally:
        retrieval.SEARCH_ON_HOST = saved
    start = time.perf_counter()
    retrieval.evaluate(x, labels, k=KS, chunk_size=chunk_size)
    t_host = time.perf_counter() - start
    hits = labels[indices] == labels[:, None]
    theirs = {f"recall@{k}": float(hits[:, :k].any(axis=1).mean()) for k in KS}
    ties = int(np.sum((distances[:, 1] - distances[:, 0] <= 1e-5) & (hits[:, 0] != hits[:, 1])))
    for name, other, seconds, baseline in (
        (
            "scikit-learn",
            theirs,
            t_sk,
            "scikit-learn NearestNeighbors(algorithm='brute', metric='cosine', n_jobs=-1), k = 10",
        ),
        ("keras.ops", on_device, t_device, "its own keras.ops search (matmul + top_k: the GPU path) on this CPU"),
    ):
        if _disagreements(ours, other, n) > ties:
            raise AssertionError(f"retrieval: recall@1 {ours['recall@1']} vs {other['recall@1']} ({name})")
        rows.append(
            {
                "suite": "retrieval",
                "benchmark": f"retrieval.evaluate(k=(1, 5, 10), cosine, chunk_size={chunk_size:,}), {n:,} x {dim} "
                f"embeddings, {n // 100:,} classes",
                "baseline": baseline,
                "mode": "eager, 1 run",
                "ours_ms": 1e3 * t_host,
                "baseline_ms": 1e3 * seconds,
                "ratio": t_host / seconds,
                "target": None,
                "n": n,
            }
        )
    small = n // 5 if quick else n
    memory_chunks = [chunk for chunk in memory_chunks if chunk < small]
    for chunk in memory_chunks:
        seconds, peak = _evaluate_peak(x[:small], labels[:small], chunk)
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
                "embeddings_mib": small * dim * 4 / 2**20,
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
