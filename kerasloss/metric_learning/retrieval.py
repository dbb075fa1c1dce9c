"""Retrieval metrics for embeddings: recall@k, precision@1 and MAP@R by exact nearest neighbours.

Each query's neighbours are all the reference embeddings ordered by distance, found exactly in chunks of
queries (O(chunk x N) memory, so any number of embeddings fits). Without a separate reference set the
embeddings are their own references and each query is left out of its own neighbours (by asking for one
neighbour more and dropping it, not by masking the chunk).

Where the search runs: with the backend on a GPU or TPU, in keras.ops (the product float32-accurate,
`top_k` on the device); with the backend on the CPU, in NumPy: each core takes a slice of the chunk, its
product in single-threaded BLAS (threadpoolctl keeps BLAS's own threads off the cores the slices use), and
a selection by threshold in a few vectorised passes (`_smallest`), which on a CPU is several times faster
than the backends' `top_k`. `make bench` measures it against faiss's exact search.

- recall@k: 1 if any of the query's k nearest references shares its label (pytorch-metric-learning's
  and TF-Similarity's "recall@k"), averaged over queries.
- precision@1: the share of queries whose nearest reference shares the label (recall@1 by that
  definition; both are reported under their usual names).
- map@r (Musgrave et al. 2020, "A Metric Learning Reality Check", https://arxiv.org/abs/2003.08505): with
  R the number of references sharing the query's label, MAP@R = (1 / R) sum_{i <= R} P(i) [neighbour i
  shares the label], P(i) the precision among the first i neighbours.

All three average over the queries that have at least one reference of their label (R >= 1); a query
whose label no reference has can be retrieved by no metric and is left out, as pytorch-metric-learning's
AccuracyCalculator leaves it out of MAP@R. `queries` in the result says how many counted.

Ties: references at exactly the same distance come lower reference index first, on the CPU with every
backend; on a device in the order of its `top_k` (TensorFlow and JAX lower index first, PyTorch unspecified).
"""

import collections
import contextlib
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np  # the CPU search and the bookkeeping of neighbour indices and labels
from keras import ops

from kerasloss.core.errors import invalid_argument
from kerasloss.metric_learning.pairwise import DISTANCES, accurate_matmul, l2_normalize

__all__ = ["RetrievalEvaluation"]


def evaluate(
    embeddings,
    labels,
    *,
    k: "int | tuple[int, ...]" = (1, 5, 10),
    reference: "tuple | None" = None,
    distance: str = "cosine",
    chunk_size: int = 1024,
) -> dict:
    """recall@k for each k, precision@1 and map@r of `embeddings` (n, dim) with integer `labels` (n,).

    Args:
        embeddings: the queries, shape (n, dim).
        labels: their integer labels, shape (n,).
        k: the k (or ks) of recall@k, each >= 1; recall@1 is always reported. Defaults to (1, 5, 10).
        reference: `(reference_embeddings, reference_labels)` to search instead of the queries themselves
            (then no query is left out of its own neighbours). Defaults to None.
        distance: "cosine" (1 - cosine similarity, default), "euclidean", "squared_euclidean" or "dot"
            (larger inner product = nearer).
        chunk_size: queries per chunk; memory is chunk_size x (number of references) distances.

    Returns:
        {"recall@1": ..., "recall@5": ..., "precision@1": ..., "map@r": ..., "queries": count}, floats
        in [0, 1] (NaN where no query counts).

    Example:

    >>> x = np.array([[0.0, 1.0], [0.1, 1.0], [1.0, 0.0], [1.0, 0.2]])
    >>> metrics = kerasloss.metric_learning.retrieval.evaluate(x, [0, 0, 1, 1], k=1)
    >>> metrics["recall@1"], metrics["map@r"], metrics["queries"]
    (1.0, 1.0, 4)
    """
    queries, query_labels = _embeddings_and_labels(embeddings, labels, "embeddings")
    if reference is None:
        references, reference_labels, leave_out_self = queries, query_labels, True
    else:
        references, reference_labels = _embeddings_and_labels(*reference, "reference")
        leave_out_self = False
    if references.shape[1] != queries.shape[1]:
        raise ValueError(
            f"evaluate: queries and references must have the same dimension. Received: {queries.shape[1]} "
            f"and {references.shape[1]}"
        )
    if distance not in DISTANCES:
        raise invalid_argument("distance", f"one of {list(DISTANCES)}", distance)
    ks = _check_k(k)
    candidates = len(references) - int(leave_out_self)
    if ks[-1] > candidates:
        raise ValueError(f"evaluate: k={ks[-1]} exceeds the {candidates} references each query can retrieve")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise invalid_argument("chunk_size", "an integer >= 1", chunk_size)

    # R per query: references of its label, itself excluded.
    classes, counts = np.unique(reference_labels, return_counts=True)
    position = np.searchsorted(classes, query_labels)
    found = (position < len(classes)) & (classes[np.minimum(position, len(classes) - 1)] == query_labels)
    relevant = np.where(found, counts[np.minimum(position, len(classes) - 1)], 0) - int(leave_out_self)
    depth = min(candidates, max(ks[-1], int(relevant.max(initial=0))))

    scale = _common_scale(queries, references)
    queries = queries * np.float32(scale)
    references = queries if reference is None else references * np.float32(scale)  # one array: one copy
    search = _search_on_host if _computes_on_host() else _search_on_device
    hits = {kk: [] for kk in ks}
    average_precision = []
    for start, nearest in search(queries, references, distance, depth + int(leave_out_self), chunk_size):
        if leave_out_self:
            nearest = _without_self(nearest, start, depth)
        stop = start + len(nearest)
        same = reference_labels[nearest] == query_labels[start:stop, None]  # (chunk, depth)
        for kk in ks:
            hits[kk].append(same[:, :kk].any(axis=1))
        average_precision.append(_average_precision_at_r(same, relevant[start:stop]))
    counted = relevant > 0
    result = {f"recall@{kk}": _mean(np.concatenate(hits[kk])[counted]) for kk in ks}
    result["precision@1"] = result["recall@1"]  # the nearest neighbour shares the label: both names
    result["map@r"] = _mean(np.concatenate(average_precision)[counted])
    result["queries"] = int(counted.sum())
    return result


def _embeddings_and_labels(embeddings, labels, name):
    x = np.asarray(embeddings, np.float32)
    y = np.asarray(labels).reshape(-1)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(
            f"evaluate: {name} must be (n, dim) with one label each. Received: shape {x.shape}, {len(y)} labels"
        )
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:  # NaN has no nearest neighbour: top_k would rank it anywhere and score a diverged model
        shown = ", ".join(map(str, bad[:5].tolist())) + (", ..." if bad.size > 5 else "")
        raise ValueError(
            f"evaluate: {bad.size} of {len(x)} {name} rows are NaN or infinite (rows {shown}); a model whose "
            "embeddings diverged has no retrieval metrics"
        )
    return x, y


def _common_scale(*arrays):
    """A power of two that brings the largest |value| of the arrays near 1: multiplying by it is exact and
    keeps every ordering, and squared distances of embeddings with norms near 1e20 (which overflow float32)
    or 1e-25 (which underflow) are computed at full precision."""
    largest = max(float(np.max(np.abs(a), initial=0.0)) for a in arrays)
    return 1.0 if largest == 0.0 else float(2.0 ** -np.ceil(np.log2(largest)))


def _check_k(k):
    values = tuple(k) if isinstance(k, (tuple, list)) else (k,)
    if not values or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in values):
        raise invalid_argument("k", "integers >= 1", k)
    return tuple(sorted({int(v) for v in values} | {1}))  # k = 1 always: precision@1 reads it


def _prepare(x, distance):
    x = ops.convert_to_tensor(x, "float32")
    return l2_normalize(x) if distance == "cosine" else x


# Where the search runs: None decides by the backend's device (a seam for the tests, which run both paths).
SEARCH_ON_HOST = None


def _computes_on_host():
    """Whether the backend computes on the CPU (then NumPy's multithreaded BLAS is the faster product, and
    the selection below beats the backends' CPU top_k); on a GPU or TPU the search stays in keras.ops."""
    if SEARCH_ON_HOST is not None:
        return SEARCH_ON_HOST
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # a device query; Keras has no public form of it

        return not (tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    if backend == "jax":
        import jax

        return jax.default_backend() == "cpu"
    if backend == "torch":
        import torch

        mps = getattr(torch.backends, "mps", None)
        return not (torch.cuda.is_available() or (mps is not None and mps.is_available()))
    return True


def _search_on_device(queries, references, distance, count, chunk_size):
    """(start, indices of each query's `count` nearest references, nearest first) per chunk of queries: the
    chunk's distances in keras.ops (float32-accurate on any GPU), ordered by the backend's `top_k`."""
    references = _prepare(references, distance)
    columns = ops.transpose(references)  # (dim, N), once rather than per chunk
    squared_norms = ops.transpose(ops.sum(ops.square(references), axis=-1, keepdims=True))
    for start in range(0, len(queries), chunk_size):
        chunk = _prepare(queries[start : start + chunk_size], distance)
        products = accurate_matmul(chunk, columns)
        if distance in ("cosine", "dot"):
            closeness = products  # larger is nearer: cosine distance is 1 - this
        else:  # squared and plain Euclidean distances order the references alike (`squared_distance_matrix`)
            query_norms = ops.sum(ops.square(chunk), axis=-1, keepdims=True)
            closeness = -ops.maximum(query_norms + squared_norms - 2.0 * products, 0.0)
        _, indices = ops.top_k(closeness, count)
        yield start, np.asarray(keras.ops.convert_to_numpy(indices))


def _search_on_host(queries, references, distance, count, chunk_size):
    """As `_search_on_device`, in NumPy on the CPU: each of the machine's cores takes a slice of the chunk
    (its product in single-threaded BLAS, then `_smallest`), so the chunk's memory is still chunk x N.

    Every distance is one product with prepared columns, made once: -r for cosine and dot, so the product
    is the negated inner product, exactly (negation commutes with rounding); -2 r for the Euclidean
    distances, to which the squared norms are added in place, |r|^2 and then |q|^2, and negatives from
    rounding clipped to 0 as `squared_distance_matrix` does. Smaller is then nearer for every distance."""
    if distance == "cosine":  # normalised as the device path normalises (`l2_normalize`), once
        searching_themselves = references is queries
        queries = np.asarray(keras.ops.convert_to_numpy(l2_normalize(ops.convert_to_tensor(queries))))
        references = (
            queries
            if searching_themselves
            else np.asarray(keras.ops.convert_to_numpy(l2_normalize(ops.convert_to_tensor(references))))
        )
    euclidean = distance in ("euclidean", "squared_euclidean")
    columns = np.ascontiguousarray(references.T * np.float32(-2.0 if euclidean else -1.0))
    reference_norms = np.einsum("ij,ij->i", references, references) if euclidean else None
    query_norms = reference_norms
    if euclidean and queries is not references:
        query_norms = np.einsum("ij,ij->i", queries, queries)

    def nearest(start):
        stop = min(start + slice_size, len(queries))
        distances = queries[start:stop] @ columns
        if euclidean:
            distances += reference_norms
            distances += query_norms[start:stop, None]
            np.maximum(distances, 0.0, out=distances)
        return start, _smallest(distances, count)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, min(cores, chunk_size // 64))  # slices of at least 64 queries keep BLAS efficient
    slice_size = -(-chunk_size // workers)
    with _single_threaded_blas(), ThreadPoolExecutor(workers) as pool:  # NumPy and BLAS release the GIL
        running = collections.deque()
        for start in range(0, len(queries), slice_size):
            running.append(pool.submit(nearest, start))
            if len(running) > workers:  # one slice queued beyond those computing, so none waits on the caller
                yield running.popleft().result()
        while running:
            yield running.popleft().result()


@contextlib.contextmanager
def _single_threaded_blas():
    """One BLAS thread per product while the slices run in parallel threads (BLAS's own threads would
    compete with them for the cores); threadpoolctl where installed, otherwise BLAS as it is."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _smallest(distances, count):
    """Column indices of each row's `count` smallest values, smallest first, equal values by column: what
    `top_k` of the negated rows returns, found with a few passes over the rows instead of a selection.

    The rows are cut into `groups` slices of width w (w >= count); the element-wise minimum of the slices
    holds w of each row's values, so the count-th smallest of those, `threshold`, is at least the row's
    count-th smallest value: every one of the row's `count` nearest is <= threshold. Those candidates
    (about `count` per row) are sorted, stably, in column order."""
    rows, n = distances.shape
    groups = max(1, min(32, n // count))
    width = n // groups
    minima = distances[:, :width].copy()
    for g in range(1, groups):
        np.minimum(minima, distances[:, g * width : (g + 1) * width], out=minima)
    threshold = np.partition(minima, count - 1, axis=1)[:, count - 1]
    flat = np.flatnonzero(distances <= threshold[:, None])  # row-major: each row's candidates by column
    row = flat // n
    per_row = np.bincount(row, minlength=rows)
    slot = np.arange(flat.size) - (np.cumsum(per_row) - per_row)[row]
    values = np.full((rows, per_row.max()), np.inf, distances.dtype)
    columns = np.zeros((rows, per_row.max()), np.intp)
    values[row, slot] = distances.ravel()[flat]
    columns[row, slot] = flat - row * n
    order = np.argsort(values, axis=1, kind="stable")[:, :count]
    return np.take_along_axis(columns, order, axis=1)


def _without_self(indices, offset, depth):
    """Each query's `depth` nearest without itself, from its `depth + 1` nearest: its own index dropped
    where it is among them, else the first `depth` kept; the same list as masking its own column out of
    the chunk, without a pass over the chunk."""
    own = indices == (np.arange(len(indices)) + offset)[:, None]  # at most one per row
    kept = np.argsort(own, axis=1, kind="stable")[:, :depth]  # its own index last, the others in order
    return np.take_along_axis(indices, kept, axis=1)


def _average_precision_at_r(same, relevant):
    """MAP@R per query from its hits in neighbour order; 0 where R = 0 (those queries are left out)."""
    depth = same.shape[1]
    ranks = np.arange(1, depth + 1)
    precision = np.cumsum(same, axis=1) / ranks
    within_r = ranks[None, :] <= relevant[:, None]
    total = np.sum(np.where(within_r & same, precision, 0.0), axis=1)
    return np.where(relevant > 0, total / np.maximum(relevant, 1), 0.0)


def _mean(values):
    return float(np.mean(values)) if len(values) else float("nan")


def _key(name):
    """ "recall@5" -> "recall_at_5": names Keras' History and TensorBoard take as they are."""
    return name.replace("@", "_at_")


class RetrievalEvaluation(keras.callbacks.Callback):
    """Retrieval metrics of the model's embeddings during `fit`, by `evaluate`.

    After every `every` epochs the model (or `encoder`) embeds `data`'s inputs and `evaluate` scores them
    (each example searching the others, or `reference`'s embeddings). The values go into the epoch's `logs`
    (so into `model.fit(...).history`) as `val_recall_at_1`, `val_recall_at_5`, ..., `val_precision_at_1`,
    `val_map_at_r` (NaN on the epochs in between, so every history list has one value per epoch and
    `pandas.DataFrame(history.history)` works), into `results` ({epoch: metrics}), and with `log_dir` into
    TensorBoard scalars `retrieval/recall_at_1`, ... (TensorFlow's summary writer, so TensorFlow must be
    installed).

    A model that ends with `CosineProxies` outputs class cosines, not embeddings: pass the embedding model
    before it as `encoder` (a model ending so without `encoder` is refused when training begins).

    Args:
        data: `(x, y)`: inputs the model embeds, and their integer labels.
        k: the ks of recall@k. Defaults to (1, 5, 10).
        reference: `(x_ref, y_ref)` inputs and labels to search instead of `data` itself. Defaults to None.
        distance: as in `evaluate`. Defaults to "cosine".
        every: evaluate after every `every` epochs (>= 1). Defaults to 1.
        batch_size: for `model.predict`. Defaults to 256.
        log_dir: TensorBoard folder, or None. Defaults to None.
        prefix: prefix of the keys in `logs`. Defaults to "val_".
        encoder: the model whose outputs are the embeddings, when it is not the one `fit` trains (e.g. the
            encoder before `CosineProxies`). Defaults to None: the trained model.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    >>> y = np.arange(40) % 4
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)])
    >>> model.compile(optimizer="adam", loss=kerasloss.TripletLoss())
    >>> history = model.fit(x, y, epochs=2, batch_size=20, verbose=0,
    ...                     callbacks=[kerasloss.RetrievalEvaluation(data=(x, y), k=(1, 5))])
    >>> sorted(key for key in history.history if key.startswith("val_"))
    ['val_map_at_r', 'val_precision_at_1', 'val_recall_at_1', 'val_recall_at_5']
    """

    def __init__(
        self,
        data,
        k=(1, 5, 10),
        *,
        reference=None,
        distance="cosine",
        every=1,
        batch_size=256,
        log_dir=None,
        prefix="val_",
        encoder=None,
    ):
        super().__init__()
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("RetrievalEvaluation: `data` must be (x, y): inputs and their integer labels")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise invalid_argument("every", "an integer >= 1", every)
        if distance not in DISTANCES:
            raise invalid_argument("distance", f"one of {list(DISTANCES)}", distance)
        ks = _check_k(k)
        if log_dir is not None and importlib.util.find_spec("tensorflow") is None:
            raise ImportError(
                "RetrievalEvaluation(log_dir=...) writes TensorBoard scalars with TensorFlow's summary writer, "
                "which is not installed: pip install 'kerasloss[tensorflow]' (or leave log_dir=None)."
            )
        self.data, self.k, self.reference, self.distance = data, k, reference, distance
        self.every, self.batch_size, self.log_dir, self.prefix = every, batch_size, log_dir, prefix
        self.encoder = encoder
        self.names = [_key(f"recall@{kk}") for kk in ks] + [_key("precision@1"), _key("map@r")]
        self.results = {}
        self._writer = None

    def on_train_begin(self, logs=None):
        from kerasloss.metric_learning.proxies import CosineProxies  # the layer whose outputs are class cosines

        if self.encoder is None and self.model.layers and isinstance(self.model.layers[-1], CosineProxies):
            raise ValueError(
                "RetrievalEvaluation: the model ends with CosineProxies, whose outputs are class cosines, not "
                "embeddings; pass the embedding model before it as `encoder=` (e.g. model.layers[0])"
            )

    def _embed(self, x):
        embedder = self.encoder if self.encoder is not None else self.model
        return np.asarray(embedder.predict(x, batch_size=self.batch_size, verbose=0))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            if logs is not None:  # one value per epoch in every history list
                logs.update({self.prefix + name: float("nan") for name in self.names})
            return
        reference = None
        if self.reference is not None:
            reference = (self._embed(self.reference[0]), self.reference[1])
        found = evaluate(self._embed(self.data[0]), self.data[1], k=self.k, reference=reference, distance=self.distance)
        metrics = {_key(name): value for name, value in found.items() if name != "queries"}
        self.results[epoch + 1] = metrics
        if logs is not None:
            logs.update({self.prefix + name: value for name, value in metrics.items()})
        if self.log_dir is not None:
            import tensorflow as tf  # TensorBoard's writer (checked for at construction)

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            with self._writer.as_default():
                for name, value in metrics.items():
                    tf.summary.scalar(f"retrieval/{name}", value, step=epoch + 1)
            self._writer.flush()
