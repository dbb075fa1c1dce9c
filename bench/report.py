"""bench/results.md and the site's benchmark page (docs/generate/hooks.py), rendered from the rows of results.json.

No TensorFlow here: the docs build imports this module. Every figure comes from a row; a row carries the date it
was measured and the machine it ran on (`machine`: processor, CPU model, cores, TensorFlow and Keras versions).
"""

import os

MODES = ("tf.function", "jit_compile=True")
INTRO = (
    "Forward + backward (gradient with respect to the logits), median of repeated runs, each pair measured in the "
    "same process on the same data. Peak memory is the step's own allocations above its inputs: for the sparse "
    "rows in units of one (batch, classes) float32 tensor (a block), for NT-Xent in MiB. A suite rerun alone "
    "(`--suite NAME`) replaces its own rows and keeps the others from the previous results.json."
)
HEADER = [
    "| benchmark | mode | kerasloss | baseline | ratio | target | peak memory (ours / baseline) |",
    "|---|---|---:|---:|---:|---:|---:|",
]


def machine_line(machine):
    """ "x86_64 (CPU model), 2 CPU cores, TensorFlow 2.21.0, Keras 3.15.1" from a row's `machine`."""
    return (
        f"{machine['platform']} ({machine['cpu']}), {machine['cores']} CPU cores, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}"
    )


def machines(rows):
    """Each machine the rows were measured on, with its suites: "x86_64 (...) (focal, sparse)"; "; "-joined."""
    seen = {}
    for row in rows:
        seen.setdefault(machine_line(row["machine"]), []).append(row.get("suite", "?"))
    if len(seen) == 1:
        return next(iter(seen))
    return "; ".join(f"{line} ({', '.join(dict.fromkeys(names))})" for line, names in seen.items())


def dates(rows):
    """Each suite's measurement date (rows kept from an earlier run keep theirs): "2026-12-02 (retrieval, ...)"."""
    suites = {}
    for row in rows:
        suites.setdefault(row.get("date", "an earlier date"), []).append(row.get("suite", "?"))
    return "; ".join(f"{date} ({', '.join(dict.fromkeys(names))})" for date, names in sorted(suites.items()))


def _or_dash(value, form):
    return "—" if value != value else form.format(value)  # NaN: not measured


def table_row(r, with_baseline=True):
    """One row of the results table; `with_baseline=False` leaves the baseline's name out of the first cell (the
    site names each suite's baselines above its table)."""
    target = "—" if r["target"] is None else f"<= {r['target']:.2g}"
    met = "" if r["target"] is None or r["ratio"] != r["ratio"] else (" ✓" if r["ratio"] <= r["target"] else " ✗")
    if r["ratio"] == r["ratio"] and r["ratio"] < 0.1:
        met += f" ({_times_faster(r)})"
    name = f"{r['benchmark']} (vs {r['baseline']})" if with_baseline else r["benchmark"]
    memory = "—"
    if "peak_blocks" in r:
        memory = f"{r['peak_blocks']:.2f} / {r['baseline_peak_blocks']:.2f} blocks"
    elif "peak_mib" in r:
        memory = f"{r['peak_mib']:.0f} / {r['baseline_peak_mib']:.0f} MiB"
    return (
        f"| {name} | {r['mode']} | {r['ours_ms']:.1f} ms | "
        f"{_or_dash(r['baseline_ms'], '{:.1f} ms')} | {_or_dash(r['ratio'], '{:.3f}')}{met} | {target} | {memory} |"
    )


def notes(rows):
    """The suites' paragraphs: what each compares, how it was measured, the figures the table has no column for."""
    return metric_learning_notes(rows) + proxies_notes(rows) + long_tail_notes(rows)


def results_markdown(rows, command):
    """bench/results.md: the command, the machines and dates, the table, the notes."""
    lines = [
        "# Benchmark results",
        "",
        f"`{command}` on {machines(rows)}. Measured on {dates(rows)}. {INTRO}",
        "",
        *HEADER,
        *(table_row(r) for r in rows),
        *notes(rows),
    ]
    return "\n".join(lines) + "\n"


README_START, README_END = "<!-- bench-headline -->", "<!-- /bench-headline -->"


def _times_faster(r):
    """ "75x faster; 72-81x over 3 rounds" for a row whose ratio is under 0.1 (far faster than its baseline)."""
    words = f"{1 / r['ratio']:.0f}x faster"
    if "ratio_range" in r:  # per round, the machine's drift on both
        slowest, fastest = (1 / ratio for ratio in reversed(r["ratio_range"]))
        words += f"; {slowest:.0f}-{fastest:.0f}x over {r['rounds']} rounds"
    return words


def readme_headline(rows):
    """The README's benchmark lines: per suite with targets, the row nearest its target (the closest call), with
    its date; the machine once. Every row is on the site's benchmark page and in bench/results.md."""

    def nearness(r):  # 1 at the target; rows without a target or a ratio are not candidates
        return r["ratio"] / r["target"]

    closest = {}
    for r in (r for r in rows if r.get("target") is not None and r["ratio"] == r["ratio"]):
        if r["suite"] not in closest or nearness(r) > nearness(closest[r["suite"]]):
            closest[r["suite"]] = r
    chosen = list(closest.values())
    dated = [r["date"] for r in rows if "date" in r]
    undated = f"before {min(dated)}" if dated else "not recorded"  # rows from before the date was recorded
    lines = [
        README_START,
        "| benchmark (each suite's row nearest its target) | against | mode | kerasloss | target | measured |",
        "|---|---|---|---|---|---|",
    ]
    for r in chosen:
        target = f"<= {r['target']:.2g}x its time" if r["target"] >= 0.1 else f">= {1 / r['target']:.0f}x faster"
        ours = _times_faster(r) if r["ratio"] < 0.1 else f"{r['ratio']:.2f}x its time"
        cells = (r["benchmark"], r["baseline"], r["mode"], ours, target, r.get("date", undated))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"On {machines(chosen)}.", README_END]
    return "\n".join(lines)


def with_readme_headline(readme, rows):
    """The README's text with the lines between its bench-headline markers rendered from `rows`."""
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END)
    return readme[:start] + readme_headline(rows) + readme[end:]


def _cores(rows):
    return rows[0]["machine"]["cores"] if rows else os.cpu_count()


def metric_learning_notes(rows):
    """Lines for bench/results.md under the table, explaining the metric-learning rows and their checks."""
    lines = []
    retrieval = [r for r in rows if r.get("suite") == "retrieval"]
    against_faiss = [r for r in retrieval if "distance" in r]
    if against_faiss:
        lines += [
            "",
            "**Retrieval** (`--suite retrieval`): `kerasloss.metric_learning.retrieval.evaluate(embeddings, labels, "
            "k=(1, 5, 10), distance=...)` against faiss-cpu's exact search (each point's 100 nearest, itself "
            "dropped) plus the same recall@k and MAP@R in NumPy, the two timed in alternation in one process, on "
            "clustered embeddings (per class a standard normal centre, plus 2 x standard normal noise per "
            "embedding; N / 100 classes, so MAP@R reads each query's 99 nearest). Both compute exactly; "
            "evaluate's metrics equal faiss's "
            + "; ".join(
                f"{r['n']:,} {r['distance']}: recall@1/5/10 {r['recall']['recall@1']:.4f} / "
                f"{r['recall']['recall@5']:.4f}"
                f" / {r['recall']['recall@10']:.4f} (faiss {r['baseline_recall']['recall@1']:.4f} / "
                f"{r['baseline_recall']['recall@5']:.4f} / {r['baseline_recall']['recall@10']:.4f}), MAP@R "
                f"{r['map_at_r']:.4f} ({r['baseline_map_at_r']:.4f}), recall@1 differing on "
                f"{r['recall_at_1_disagreements']} queries of {r['near_ties']} near-ties"
                for r in against_faiss
            )
            + " (the suite fails if more differ than near-ties). The floor, 2 N² dim flops at this machine's "
            "measured float32 matrix-product rate (NumPy's BLAS, both cores, the search's shape): "
            + "; ".join(
                f"{r['n']:,} {r['distance']}: {r['floor_ms'] / 1e3:.2f} s, kerasloss at "
                f"{r['ours_ms'] / r['floor_ms']:.1f}x "
                f"it, faiss at {r['baseline_ms'] / r['floor_ms']:.1f}x"
                for r in against_faiss
            )
            + ". 1-minute load average as each pair started: "
            + ", ".join(f"{r['load_average']:.1f}" for r in against_faiss)
            + f" on {_cores(rows)} cores.",
        ]
    memory = [r for r in retrieval if "peak_chunk_blocks" in r]
    if memory:
        lines += [
            "",
            "Peak memory of the retrieval rows: the most NumPy held above its level before the call "
            "(`tracemalloc`; on a CPU-only backend the search runs in NumPy) plus the most TensorFlow's CPU "
            "allocator held (the cosine normalisation): the chunk's distances, the candidates' mask and index "
            f"lists, and evaluate's float32 copies of the embeddings (N x dim, {memory[0]['embeddings_mib']:.0f} MiB "
            "each, fixed). In chunk x N float32 blocks: "
            + ", ".join(
                f"{r['peak_chunk_blocks']:.2f} (chunk {r['chunk_size']:,}, N {r['n']:,}, {r['peak_mib']:.0f} MiB)"
                for r in memory
            )
            + ".",
        ]
        if len(memory) > 1:
            low, high = memory[0], memory[-1]
            lines[-1] += (
                f" From chunk {low['chunk_size']:,} to {high['chunk_size']:,} the peak grows "
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
            + f" on {_cores(rows)} cores (a shared machine). Peak memory: the most each framework's CPU "
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


def proxies_notes(rows):
    """Lines for bench/results.md under the table, explaining the proxy rows and their checks."""
    lines = []
    arcface = [r for r in rows if r.get("suite") == "arcface"]
    if arcface:
        first = arcface[0]
        lines += [
            "",
            f"**ArcFace** (`--suite arcface`): `kerasloss.CosineProxies({first['classes']:,})` then "
            "`kerasloss.ArcFace(scale=64, margin=0.5)` against the plain formulation in TensorFlow ops: "
            "`tf.math.l2_normalize` of the embeddings and of the proxy matrix, one matmul, the target cosine "
            "gathered, theta = arccos(clip(cos, -1 + 1e-7, 1 - 1e-7)), cos(theta + m) where theta + m <= pi and "
            "cos(theta) - m sin(m) beyond, the target logit replaced through a one-hot, times the scale, then "
            "`keras.losses.SparseCategoricalCrossentropy(from_logits=True)`. Both start from the same proxies "
            f"and embeddings (batch {first['batch']:,}, dim {first['dim']}); each step is forward + backward with "
            "the gradient with respect to the embeddings and the proxies (the layer and the loss together), timed "
            "in alternation. The values agree to rtol 1e-4 and the gradients to 1e-3 of their largest entry "
            "(checked by the suite): "
            + ", ".join(
                f"{r['mode']} {r['loss']:.6f} / {r['baseline_loss']:.6f} (gradient gaps "
                f"{r['gradient_gaps']['embeddings']:.1e}, {r['gradient_gaps']['proxies']:.1e})"
                for r in arcface
            )
            + f". 1-minute load average as the suite started: {first['load_average']:.1f} on {_cores(rows)} "
            "cores (a shared machine); median process CPU milliseconds per step (all threads; ours / plain): "
            + ", ".join(f"{r['mode']} {r['ours_cpu_ms']:.0f} / {r['baseline_cpu_ms']:.0f}" for r in arcface)
            + ". Peak memory: the most TensorFlow's CPU allocator held above its level before the step "
            "(`tf.config.experimental.get_memory_info`, the most of 3 runs): the step's temporaries and its "
            "outputs, the two gradients included (the proxies' gradient alone is "
            f"{first['proxies_mib']:.0f} MiB, one (batch, classes) float32 matrix {first['logits_mib']:.1f} MiB), "
            "not its inputs nor the proxy variable. Least of the 3 (ours / plain): "
            + ", ".join(
                f"{r['mode']} {r['least_peak_mib']:.0f} / {r['baseline_least_peak_mib']:.0f} MiB" for r in arcface
            )
            + ".",
        ]
    anchor = [r for r in rows if r.get("suite") == "proxy_anchor"]
    if anchor:
        lines += [
            "",
            f"**Proxy anchor** (`--suite proxy_anchor`): `kerasloss.CosineProxies({anchor[0]['classes']:,})` then "
            "`kerasloss.ProxyAnchor(alpha=32, delta=0.1)` against pytorch-metric-learning's "
            f"`ProxyAnchorLoss({anchor[0]['classes']}, {anchor[0]['dim']}, margin=0.1, alpha=32)` (torch on the CPU, "
            "eager) whose `proxies` are set to ours transposed, on the same embeddings; forward + backward with the "
            "gradient with respect to the embeddings and the proxies in both, timed in alternation. The values "
            "agree to rtol 1e-4 (checked by the suite): "
            + ", ".join(f"batch {r['batch']:,} {r['mode']} {r['loss']:.6f} / {r['baseline_loss']:.6f}" for r in anchor)
            + ". 1-minute load average as each batch started: "
            + ", ".join(f"{r['load_average']:.1f}" for r in anchor[::2])
            + f" on {_cores(rows)} cores; median process CPU milliseconds per step (ours / pml): "
            + ", ".join(
                f"batch {r['batch']:,} {r['mode']} {r['ours_cpu_ms']:.1f} / {r['baseline_cpu_ms']:.1f}" for r in anchor
            )
            + ". Peak memory: the most each framework's CPU allocator held above its level before the step "
            "(TensorFlow's memory info, the most of 3 runs; torch's profiler allocation records, summed in time "
            "order), in MiB, beside one (batch, classes) float32 matrix: "
            + ", ".join(
                f"batch {r['batch']:,} {r['mode']} {r['peak_mib']:.1f} / {r['baseline_peak_mib']:.1f} "
                f"({r['cosines_mib']:.1f})"
                for r in anchor
            )
            + ".",
        ]
    return lines


def long_tail_notes(rows):
    mine = [r for r in rows if r.get("suite") == "long_tail"]
    if not mine:
        return []
    worst = max(mine, key=lambda r: r["ratio"])
    return [
        "",
        "**Class imbalance** (`--suite long_tail`): each loss of `docs/losses/imbalance.md` against the Keras built-in "
        "on the same logits (class counts decaying from 5,000 at a ratio of 100 over 1,000 classes; 2% of the "
        "multi-hot labels positive). The log-prior, log-count, margin and weight vectors are constants of the "
        "step; no one-hot tensor is built for the sparse losses. Slowest ratio: "
        f"{worst['benchmark'].rsplit(', ', 1)[0]} ({worst['mode']}) at {worst['ratio']:.2f}. "
        f"1-minute load average as the suite started: {mine[0]['load']:.1f} on {_cores(rows)} cores.",
    ]
