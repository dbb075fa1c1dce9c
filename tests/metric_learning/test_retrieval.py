"""kerasloss.metric_learning.retrieval.evaluate against a brute-force NumPy reference written from the definitions
(recall@k, precision@1, MAP@R of Musgrave et al. 2020), with and without a reference set, every distance,
chunked or not, searched on the host (NumPy, what a CPU-only backend uses) and on the device (keras.ops);
singletons left out; ties ordered by index (the host search on every backend; TensorFlow and JAX on the device)."""

import keras
import numpy as np
import pytest

import kerasloss
from kerasloss.metric_learning import retrieval
from kerasloss.metric_learning.retrieval import _smallest, evaluate
from tests.backend import BACKEND


def brute_force(queries, query_labels, references, reference_labels, ks, distance, leave_out_self):
    q, r = np.asarray(queries, np.float64), np.asarray(references, np.float64)
    if distance == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        r = r / np.linalg.norm(r, axis=1, keepdims=True)
        d = 1.0 - q @ r.T
    elif distance == "dot":
        d = -(q @ r.T)
    else:
        d = np.sqrt(((q[:, None, :] - r[None, :, :]) ** 2).sum(-1))
    recalls, maps = {k: [] for k in ks}, []
    for i in range(len(q)):
        order = [j for j in np.argsort(d[i], kind="stable") if not (leave_out_self and j == i)]
        same = np.asarray([reference_labels[j] == query_labels[i] for j in order])
        big_r = int(same.sum())
        if big_r == 0:
            continue
        for k in ks:
            recalls[k].append(same[:k].any())
        precision_at = np.cumsum(same[:big_r]) / np.arange(1, big_r + 1)
        maps.append(float(np.sum(precision_at * same[:big_r]) / big_r))
    result = {f"recall@{k}": float(np.mean(recalls[k])) for k in ks}
    result["precision@1"] = result["recall@1"]
    result["map@r"] = float(np.mean(maps))
    result["queries"] = len(maps)
    return result


def _clusters(seed, n=60, classes=5, dim=8, spread=0.8):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = rng.normal(size=(classes, dim))
    return (centres[labels] + spread * rng.normal(size=(n, dim))).astype("float32"), labels


@pytest.fixture(params=["host", "device"])
def search(request, monkeypatch):
    """Each test that takes it runs twice: the NumPy search a CPU-only backend uses, and the keras.ops one."""
    monkeypatch.setattr(retrieval, "SEARCH_ON_HOST", request.param == "host")
    return request.param


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "squared_euclidean", "dot"])
@pytest.mark.parametrize("chunk_size", [7, 1024])
def test_equals_brute_force_on_the_embeddings_themselves(distance, chunk_size, search):
    x, y = _clusters(0)
    got = evaluate(x, y, k=(1, 3, 10), distance=distance, chunk_size=chunk_size)
    expected = brute_force(x, y, x, y, (1, 3, 10), "euclidean" if distance == "squared_euclidean" else distance, True)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "squared_euclidean", "dot"])
def test_chunked_equals_unchunked(distance, search):
    """Chunks of 1, 13 and 64 queries (the host search slices a chunk across cores) against one chunk of all."""
    x, y = _clusters(8, n=150, classes=6)
    whole = evaluate(x, y, k=(1, 5, 10), distance=distance, chunk_size=len(x))
    for chunk_size in (1, 13, 64):
        assert evaluate(x, y, k=(1, 5, 10), distance=distance, chunk_size=chunk_size) == whole


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "squared_euclidean", "dot"])
def test_equals_brute_force_against_a_reference_set(distance, search):
    x, y = _clusters(1)
    reference, reference_labels = _clusters(2, n=40, classes=4)  # class 4 of the queries is absent there
    got = evaluate(x, y, k=(1, 5), reference=(reference, reference_labels), distance=distance)
    expected = brute_force(x, y, reference, reference_labels, (1, 5), distance, False)
    assert got == pytest.approx(expected)
    assert got["queries"] == int(np.isin(y, reference_labels).sum())


def test_singletons_are_left_out_and_a_perfect_embedding_scores_one(search):
    y = np.array([0, 0, 0, 1, 1, 2])  # class 2 has no other member
    x = np.eye(3, dtype="float32")[y] + 0.01 * np.arange(6)[:, None].astype("float32")
    got = evaluate(x, y, k=(1, 2))
    assert got == {"recall@1": 1.0, "recall@2": 1.0, "precision@1": 1.0, "map@r": 1.0, "queries": 5}


def test_map_at_r_counts_only_the_first_r_neighbours(search):
    """A reference set that holds the query too: R = 3 references share its label; its neighbours are
    0 (hit), 1 (hit), 2 (miss), 3 (hit, but past R): MAP@R = (1/1 + 2/2 + 0) / 3. No two distances tie (PyTorch
    orders equal distances as it likes)."""
    x = np.array([[0.0], [1.0], [2.1], [3.3]], np.float32)
    y = np.array([0, 0, 1, 0])
    got = evaluate(x[:1], y[:1], k=1, reference=(x, y), distance="euclidean")
    assert got["map@r"] == pytest.approx((1 / 1 + 2 / 2 + 0) / 3)
    got = evaluate(x, y, k=1, distance="euclidean")
    expected = brute_force(x, y, x, y, (1,), "euclidean", True)
    assert got == pytest.approx(expected)


def test_ties_are_ordered_by_reference_index(search):
    if BACKEND == "torch" and search == "device":
        pytest.skip("PyTorch's topk order among equal values is unspecified (documented)")
    x = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]], np.float32)  # 1 and 2 tie as query 0's neighbours
    for labels, recall in (([0, 0, 1], 1.0), ([0, 1, 0], 0.0)):
        got = evaluate(x[:1], np.array(labels[:1]), k=1, reference=(x[1:], np.array(labels[1:])), distance="euclidean")
        assert got["recall@1"] == recall


@pytest.mark.parametrize("seed", range(4))
def test_host_selection_is_a_stable_sort_of_each_row(seed):
    """`_smallest` against a stable argsort, on rows with many ties (values drawn from a few levels), on rows
    all equal, and with counts from 1 to the whole row."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    rows = rng.integers(0, 4 + seed, size=(9, n)).astype(np.float32)
    rows[0] = 1.0
    for count in sorted({1, min(n, 3), min(n, 40), n}):
        expected = np.argsort(rows, axis=1, kind="stable")[:, :count]
        np.testing.assert_array_equal(_smallest(rows.copy(), count), expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"k": 0}, "`k`"),
        ({"k": (1, 2.5)}, "`k`"),
        ({"k": 2.0}, "`k`"),
        ({"k": 60}, "k=60 exceeds the 59 references"),
        ({"distance": "manhattan"}, "`distance`"),
        ({"chunk_size": 0}, "`chunk_size`"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    x, y = _clusters(3)
    with pytest.raises(ValueError, match=message):
        evaluate(x, y, **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_embeddings_are_refused_naming_the_rows(bad):
    x, y = _clusters(6, n=8)
    with pytest.raises(ValueError, match=r"8 of 8 embeddings rows are NaN or infinite \(rows 0, 1, 2, 3, 4, \.\.\.\)"):
        evaluate(np.full((8, 3), bad), [0, 0, 1, 1, 2, 2, 3, 3], k=1)
    x[5, 1] = bad
    with pytest.raises(ValueError, match=r"1 of 8 embeddings rows .* \(rows 5\)"):
        evaluate(x, y, k=1)
    with pytest.raises(ValueError, match=r"1 of 8 reference rows"):
        evaluate(_clusters(6, n=8)[0], y, k=1, reference=(x, y))


@pytest.mark.parametrize("scale", [1e-25, 1e20])
@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "dot"])
def test_tiny_and_huge_embeddings_rank_as_at_unit_scale(scale, distance, search):
    x, y = _clusters(7)
    at_one = evaluate(x, y, k=(1, 5), distance=distance)
    assert evaluate(x * scale, y, k=(1, 5), distance=distance) == at_one  # 1e20**2 overflows float32


def test_shapes_are_checked():
    x, y = _clusters(4)
    with pytest.raises(ValueError, match="one label each"):
        evaluate(x, y[:-1])
    with pytest.raises(ValueError, match="same dimension"):
        evaluate(x, y, reference=(x[:, :3], y))


def test_module_is_reachable_from_the_package():
    assert kerasloss.metric_learning.retrieval.evaluate is evaluate


def _embedding_model():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6)])
    model.compile(optimizer="adam", loss=kerasloss.TripletLoss())
    return model


@pytest.mark.slow
def test_callback_logs_the_metrics_of_the_models_embeddings():
    x, y = _clusters(5)
    callback = kerasloss.RetrievalEvaluation(data=(x, y), k=(1, 5), every=2)
    model = _embedding_model()
    history = model.fit(x, y, epochs=4, batch_size=20, verbose=0, callbacks=[callback])
    assert sorted(callback.results) == [2, 4]  # every second epoch
    final = evaluate(model.predict(x, verbose=0), y, k=(1, 5))
    for name in ("recall@1", "recall@5", "precision@1", "map@r"):
        key = name.replace("@", "_at_")
        assert callback.results[4][key] == pytest.approx(final[name])
    logged = history.history["val_map_at_r"]
    assert np.isnan(logged[0]) and np.isnan(logged[2])  # the epochs in between: NaN, one value per epoch
    assert logged[1::2] == [callback.results[2]["map_at_r"], callback.results[4]["map_at_r"]]
    assert {len(values) for values in history.history.values()} == {4}  # pandas.DataFrame(history.history)


@pytest.mark.slow
def test_callback_refuses_class_cosines_and_measures_the_encoder():
    x, y = _clusters(8)
    encoder = _embedding_model()
    model = keras.Sequential([encoder, kerasloss.CosineProxies(5)])
    model.compile(optimizer="adam", loss=kerasloss.ArcFace(scale=4.0))
    with pytest.raises(ValueError, match=r"ends with CosineProxies.*encoder="):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[kerasloss.RetrievalEvaluation(data=(x, y), k=1)])
    callback = kerasloss.RetrievalEvaluation(data=(x, y), k=1, encoder=encoder)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert callback.results[1]["recall_at_1"] == pytest.approx(
        evaluate(encoder.predict(x, verbose=0), y, k=1)["recall@1"]
    )


@pytest.mark.slow
def test_callback_searches_a_reference_set_and_writes_tensorboard(tmp_path):
    x, y = _clusters(6)
    log_dir = None if BACKEND != "tensorflow" else str(tmp_path / "retrieval")
    callback = kerasloss.RetrievalEvaluation(data=(x[:30], y[:30]), reference=(x[30:], y[30:]), k=1, log_dir=log_dir)
    model = _embedding_model()
    model.fit(x, y, epochs=1, batch_size=20, verbose=0, callbacks=[callback])
    embedded = model.predict(x, verbose=0)
    expected = evaluate(embedded[:30], y[:30], k=1, reference=(embedded[30:], y[30:]))
    assert callback.results[1]["recall_at_1"] == pytest.approx(expected["recall@1"])
    if log_dir is not None:
        assert any(path.name.startswith("events.out.tfevents") for path in (tmp_path / "retrieval").iterdir())


@pytest.mark.parametrize(
    "kwargs, message",
    [({"every": 0}, "`every`"), ({"distance": "l1"}, "`distance`"), ({"k": 0}, "`k`")],
)
def test_callback_arguments_are_checked(kwargs, message):
    x, y = _clusters(7)
    with pytest.raises(ValueError, match=message):
        kerasloss.RetrievalEvaluation(data=(x, y), **kwargs)
