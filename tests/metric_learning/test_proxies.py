"""CosineProxies and the losses over its cosines (ArcFace, CosFace, ProxyAnchor, ProxyNCA): against independent
NumPy references written from the papers (tests/reference/proxies.py), pytorch-metric-learning 2.9's values
stored as literals (tests/literals/proxy.py), float64 finite differences, degenerate inputs, the layer's training
and .keras round trip, and a learning test on digits. ArcFace's own rules are in test_margins.py."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, numpy, value_and_grad
from tests.literals import proxy as pml
from tests.reference import proxies as ref
from tests.reference.formulas import finite_differences


def _cosines(batch=12, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, batch)
    x = rng.normal(size=(batch, classes))
    x[np.arange(batch), labels] += 1.5  # the target class usually closest
    return labels, np.tanh(x / 2)


LOSSES = {
    "arcface": (lambda **kw: kerasloss.ArcFace(**kw), {"scale": 16.0, "margin": 0.3}, ref.arcface),
    "cosface": (lambda **kw: kerasloss.CosFace(**kw), {"scale": 16.0, "margin": 0.2}, ref.cosface),
    "proxy_nca": (lambda **kw: kerasloss.ProxyNCA(**kw), {"scale": 3.0}, ref.proxy_nca),
}


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize(("batch", "classes"), [(1, 2), (5, 3), (12, 5), (40, 7)])
def test_per_example_losses_match_the_papers(name, batch, classes):
    make, kwargs, reference = LOSSES[name]
    labels, cosines = _cosines(batch, classes)
    got = numpy(make(**kwargs, reduction=None)(labels, cosines))
    np.testing.assert_allclose(got, reference(labels, cosines, *kwargs.values()), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(("batch", "classes"), [(1, 2), (5, 3), (12, 5), (40, 7)])
@pytest.mark.parametrize(("alpha", "delta"), [(32.0, 0.1), (8.0, 0.3)])
def test_proxy_anchor_matches_the_paper(batch, classes, alpha, delta):
    labels, cosines = _cosines(batch, classes)
    got = float(numpy(kerasloss.ProxyAnchor(alpha, delta)(labels, cosines)))
    assert got == pytest.approx(ref.proxy_anchor(labels, cosines, alpha, delta), rel=2e-5, abs=2e-6)


def _pml_rows():
    """(id, case, make the loss, pml's reduced value, pml's per-example values or None) per stored row."""
    tables = {
        "arcface": (pml.ARCFACE, lambda r: kerasloss.ArcFace(r["scale"], r["margin"])),
        "subcenter_arcface": (pml.SUBCENTER_ARCFACE, lambda r: kerasloss.ArcFace(r["scale"], r["margin"])),
        "cosface": (pml.COSFACE, lambda r: kerasloss.CosFace(r["scale"], r["margin"])),
        "proxy_anchor": (pml.PROXY_ANCHOR, lambda r: kerasloss.ProxyAnchor(r["alpha"], r["delta"])),
        "proxy_nca": (pml.PROXY_NCA, lambda r: kerasloss.ProxyNCA(r["scale"])),
    }
    rows = []
    for name, (table, make) in tables.items():
        for i, row in enumerate(table):
            case = (pml.SUBCENTER_CASES if name == "subcenter_arcface" else pml.CASES)[row["case"]]
            rows.append((f"{name}-{row['case']}-{i}", case, make(row), row["loss"], row.get("per_example")))
    return rows


PML_ROWS = _pml_rows()


def _layer_cosines(case, dtype="float32"):
    proxies = np.asarray(case["proxies"])
    layer = kerasloss.CosineProxies(proxies.shape[1] // case.get("sub_centers", 1), case.get("sub_centers", 1))
    layer.build((None, proxies.shape[0]))
    layer.proxies.assign(proxies.astype("float32"))
    return numpy(layer(np.asarray(case["x"], "float32")))


@pytest.mark.parametrize(("name", "case", "loss", "value", "per_example"), PML_ROWS, ids=[r[0] for r in PML_ROWS])
def test_equal_to_pytorch_metric_learning(name, case, loss, value, per_example):
    """pml 2.9's ArcFaceLoss / SubCenterArcFaceLoss / CosFaceLoss / ProxyAnchorLoss / ProxyNCALoss on the
    same proxies and embeddings, computed once in float64 and stored: through CosineProxies (float32
    cosines; ArcFace's scale of 64 makes 1e-7 in a cosine 1e-5 in the loss), and from float64 cosines
    (the reference's) where the backend computes in float64."""
    labels = np.asarray(case["labels"])
    got = float(numpy(loss(labels, _layer_cosines(case))))
    assert got == pytest.approx(value, rel=1e-4, abs=1e-4)
    if BACKEND != "tensorflow":
        return
    cosines = ref.sub_center_cosines(np.asarray(case["x"]), np.asarray(case["proxies"]), case.get("sub_centers", 1))
    exact = type(loss).from_config({**loss.get_config(), "dtype": "float64", "reduction": None})
    per = numpy(exact(labels, cosines))
    assert per.mean() == pytest.approx(value, rel=1e-9, abs=1e-12)
    if per_example is not None:
        np.testing.assert_allclose(per, per_example, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["arcface", "cosface", "proxy_nca"])
def test_stored_pml_rows_cover_wrapping_and_a_batch_of_one(name):
    cases = {row["case"] for row in getattr(pml, name.upper())}
    assert {"arc_wrap", "batch_of_one"} <= cases or name != "arcface"
    assert "batch_of_one" in cases


GRADIENTS = [
    ("arcface", kerasloss.ArcFace(16.0, 0.3, dtype="float64"), lambda y, c: ref.arcface(y, c, 16.0, 0.3).mean()),
    ("cosface", kerasloss.CosFace(16.0, 0.2, dtype="float64"), lambda y, c: ref.cosface(y, c, 16.0, 0.2).mean()),
    ("proxy_anchor", kerasloss.ProxyAnchor(8.0, 0.1, dtype="float64"), lambda y, c: ref.proxy_anchor(y, c, 8.0, 0.1)),
    ("proxy_nca", kerasloss.ProxyNCA(3.0, dtype="float64"), lambda y, c: ref.proxy_nca(y, c, 3.0).mean()),
]


@pytest.mark.parametrize(("name", "loss", "reference"), GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_gradient_matches_float64finite_differences(name, loss, reference):
    if BACKEND != "tensorflow":
        pytest.skip("float64 end to end: Keras computes 64-bit inputs in 32 bits on JAX and PyTorch")
    labels, cosines = _cosines(9, 4, seed=3)
    _, gradient = value_and_grad(lambda c: loss(labels, c), cosines)
    np.testing.assert_allclose(
        gradient, finite_differences(lambda c: reference(labels, c), cosines), rtol=1e-5, atol=1e-8
    )


@pytest.mark.parametrize(
    "loss",
    [kerasloss.ArcFace(), kerasloss.CosFace(), kerasloss.ProxyAnchor(), kerasloss.ProxyNCA()],
    ids=lambda loss: type(loss).__name__,
)
@pytest.mark.parametrize("cosines", ["exactly 1", "exactly -1", "zeros"])
def test_cosines_at_the_ends_stay_finite(loss, cosines):
    labels = np.array([0, 1, 2, 0])
    values = {"exactly 1": np.ones((4, 3)), "exactly -1": -np.ones((4, 3)), "zeros": np.zeros((4, 3))}[cosines]
    value, gradient = value_and_grad(lambda c: loss(labels, c), values.astype("float32"))
    assert np.isfinite(value) and np.all(np.isfinite(gradient))


def test_proxy_anchor_without_any_positive_proxy_and_out_of_range_ids():
    cosines = np.random.default_rng(0).uniform(-1, 1, (4, 3)).astype("float32")
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\]"):
        kerasloss.ProxyAnchor()(np.array([0, 1, 3, 0]), cosines)
    with pytest.raises(ValueError, match=r"expects y_pred of shape \(batch, num_classes\)"):
        kerasloss.ArcFace()(np.array([0, 1]), np.zeros((2, 3, 4), "float32"))


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: kerasloss.ArcFace(scale=0.0), "scale"),
        (lambda: kerasloss.ArcFace(margin=-0.1), "margin"),
        (lambda: kerasloss.CosFace(margin=-1.0), "margin"),
        (lambda: kerasloss.ProxyAnchor(alpha=-1.0), "alpha"),
        (lambda: kerasloss.ProxyAnchor(delta=-0.1), "delta"),
        (lambda: kerasloss.ProxyNCA(scale=0.0), "scale"),
        (lambda: kerasloss.CosineProxies(0), "num_classes"),
        (lambda: kerasloss.CosineProxies(3, sub_centers=0), "sub_centers"),
    ],
)
def test_invalid_hyperparameters_raise_at_construction(make, argument):
    with pytest.raises(ValueError, match=rf"argument `{argument}`"):
        make()


@pytest.mark.parametrize("sub_centers", [1, 3])
def test_cosine_proxies_outputs_the_cosines_and_the_best_sub_center(sub_centers):
    rng = np.random.default_rng(1)
    embeddings, proxies = rng.normal(size=(6, 4)), rng.normal(size=(4, 5 * sub_centers))
    layer = kerasloss.CosineProxies(5, sub_centers=sub_centers)
    layer.build(embeddings.shape)
    layer.proxies.assign(proxies.astype("float32"))
    got = numpy(layer(embeddings.astype("float32")))
    np.testing.assert_allclose(got, ref.sub_center_cosines(embeddings, proxies, sub_centers), rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32


def test_the_layer_computes_in_float32_under_mixed_precision():
    layer = kerasloss.CosineProxies(3, dtype="mixed_float16")
    out = layer(np.random.default_rng(0).normal(size=(2, 4)).astype("float16"))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"


@pytest.mark.slow
def test_a_model_with_proxies_trains_and_reloads_in_a_fresh_process(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)], name="encoder")
    model = keras.Sequential([encoder, kerasloss.CosineProxies(3, sub_centers=2)])
    model.compile(optimizer="adam", loss=kerasloss.ArcFace(scale=16.0, margin=0.3))
    x, y = np.random.default_rng(0).normal(size=(32, 8)).astype("float32"), np.arange(32) % 3
    before = numpy(model.layers[-1].proxies).copy()
    model.fit(x, y, epochs=2, verbose=0)
    assert np.abs(numpy(model.layers[-1].proxies) - before).max() > 0  # fit trained the proxies
    path = tmp_path / "proxies.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "out.npy", numpy(model(x)))
    script = textwrap.dedent(
        f"""
        import keras, numpy as np
        import kerasloss
        model = keras.models.load_model({str(path)!r})
        layer = model.layers[-1]
        assert type(layer) is kerasloss.CosineProxies and layer.sub_centers == 2
        assert type(model.loss) is kerasloss.ArcFace and model.loss.margin == 0.3
        x = np.load({str(tmp_path / "x.npy")!r})
        expected = np.load({str(tmp_path / "out.npy")!r})
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, rtol=1e-6)
        print("reloaded")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "reloaded" in result.stdout, result.stderr[-3000:]


@pytest.mark.parametrize(
    "loss",
    [kerasloss.ArcFace(scale=16.0, margin=0.3), kerasloss.CosFace(scale=16.0, margin=0.2), kerasloss.ProxyAnchor()],
    ids=lambda loss: type(loss).__name__,
)
@pytest.mark.slow
def test_proxy_losses_train_embeddings_on_digits(loss):
    """Digits, a linear encoder trained through CosineProxies; the encoder's held-out MAP@R rises far
    above the untrained encoder's."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16)])
    before = kerasloss.metric_learning.retrieval.evaluate(numpy(encoder(x[1200:])), y[1200:], k=1)["map@r"]
    model = keras.Sequential([encoder, kerasloss.CosineProxies(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit(x[:1200], y[:1200], batch_size=64, epochs=8, verbose=0)
    after = kerasloss.metric_learning.retrieval.evaluate(numpy(encoder(x[1200:])), y[1200:], k=1)["map@r"]
    assert after > before + 0.2, (before, after)


def test_the_layer_is_float32_under_a_global_mixed_policy():
    """Keras would autocast float32 proxies to float16 inside call(): the layer's dtype is float32 unless
    given (found in review: cosines 1.7e-4 off under mixed_float16, 1.3e-3 under mixed_bfloat16)."""
    rng = np.random.default_rng(0)
    embeddings, proxies = rng.normal(size=(6, 8)), rng.normal(size=(8, 5))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        layer = kerasloss.CosineProxies(5)
        layer.build(embeddings.shape)
        layer.proxies.assign(proxies.astype("float32"))
        got = numpy(layer(embeddings.astype("float32")))
    finally:
        keras.config.set_dtype_policy(previous)
    np.testing.assert_allclose(got, ref.proxy_cosines(embeddings, proxies), atol=1e-6)


def test_the_layer_takes_rank_two_embeddings_only():
    with pytest.raises(ValueError, match=r"CosineProxies expects embeddings of shape \(batch, dim\)"):
        kerasloss.CosineProxies(3, sub_centers=2)(np.zeros((2, 5, 4), "float32"))


def test_the_proxy_columns_are_normalized_exactly_with_a_zero_column_kept_zero():
    """`_unit_columns` sums the squares of the variable itself (no max-scaled copy kept for the gradient):
    the columns at unit length in value and in gradient, against float64, at initializer scales from 1e-3 to
    1e3; a zero column stays zero with a finite gradient."""
    from kerasloss.metric_learning.proxies import _unit_columns

    rng = np.random.default_rng(3)
    for scale in (1e-3, 1.0, 1e3):
        p = rng.normal(size=(6, 5)) * scale
        p[:, 2] = 0.0
        weights = rng.normal(size=(6, 5))
        w = keras.ops.convert_to_tensor(weights.astype("float32"))  # a backend tensor: torch * ndarray is NumPy's
        value, gradient = value_and_grad(lambda x, w=w: keras.ops.sum(_unit_columns(x) * w), p.astype("float32"))
        norms = np.linalg.norm(p, axis=0)
        unit = np.divide(p, norms, out=np.zeros_like(p), where=norms > 0)
        np.testing.assert_allclose(value, np.sum(unit * weights), rtol=1e-5)
        expected = np.divide(
            weights - unit * np.sum(weights * unit, axis=0), norms, out=weights.copy(), where=norms > 0
        )
        np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
        assert np.isfinite(gradient).all()
