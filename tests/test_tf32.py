"""TF32: the B x B products of the pairwise losses stay float32-accurate when a GPU rounds matmul inputs
to TF32 (10 mantissa bits). Without a GPU, TF32 is emulated: the matmul that `inner_products` calls
rounds its inputs to TF32 first, as the tensor cores do, and accumulates in float32."""

import numpy as np
import pytest

import kerasloss
from kerasloss.metric_learning import pairwise
from tests.backend import BACKEND, compiled, numpy
from tests.reference import formulas as ref

pytestmark = pytest.mark.skipif(
    BACKEND == "jax", reason="JAX takes a per-operation precision (HIGHEST): inner_products never splits there"
)


def to_tf32(x):
    """Round float32 to TF32's 10-bit mantissa, to nearest even (what the tensor cores read)."""
    bits = np.asarray(x, np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x0FFF) + ((bits >> 13) & 1)) & np.uint32(0xFFFFE000)
    return rounded.view(np.float32)


def tf32_matmul(a, b):
    import keras

    product = to_tf32(numpy(a)).astype(np.float64) @ to_tf32(numpy(b)).astype(np.float64)
    return keras.ops.convert_to_tensor(product.astype(np.float32))


@pytest.fixture
def emulated_tf32(monkeypatch):
    monkeypatch.setattr(pairwise, "_matmul", tf32_matmul)

    def use(split):
        monkeypatch.setattr(pairwise, "SPLIT_PRODUCTS", split)

    return use


def _rows(seed, n=16, d=64):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_the_head_is_exact_in_tf32_and_head_plus_tail_is_x(mode):
    """Also under XLA, which must not fold c - (c - x) back to x."""
    x = _rows(0) * np.float32(3.7)
    split = pairwise._tf32_head_and_tail if mode == "eager" else compiled(pairwise._tf32_head_and_tail)
    head, tail = (numpy(v) for v in split(x))
    np.testing.assert_array_equal(head, to_tf32(head))
    np.testing.assert_array_equal(head + tail, x)
    assert np.max(np.abs(tail / x)) <= 2.0**-11


@pytest.mark.parametrize("split", [True, False])
def test_split_products_are_float32_accurate_under_tf32(emulated_tf32, split):
    a, b = _rows(1), _rows(2)
    exact = a.astype(np.float64) @ b.astype(np.float64).T
    emulated_tf32(split)
    error = np.max(np.abs(numpy(pairwise.inner_products(a, b)) - exact)) / np.max(np.abs(exact))
    if split:
        assert error < 2e-7, error  # float32's own rounding of a 64-term sum
    else:
        assert error > 1e-4, error  # what TF32 does to a single pass: the emulation bites


def test_contrastive_and_triplet_losses_match_float64_under_tf32(emulated_tf32):
    rng = np.random.default_rng(3)
    views = (rng.normal(size=(16, 1, 32)) + 0.3 * rng.normal(size=(16, 2, 32))).astype("float32")
    labels = np.arange(16) % 4
    embeddings = (3 * rng.normal(size=(16, 32))).astype("float32")
    cases = [
        (kerasloss.NTXent(temperature=0.07, reduction=None), np.zeros(16), views, ref.nt_xent(views, 0.07)),
        (
            kerasloss.TripletLoss(reduction=None),
            labels,
            embeddings,
            ref.triplet_semi_hard(labels, embeddings, 1.0),
        ),
    ]
    # Absolute errors: the losses are differences of terms near 1/T = 14, float32 rounds those to ~1e-6.
    for loss, y_true, y_pred, expected in cases:
        emulated_tf32(True)
        error = np.max(np.abs(numpy(loss(y_true, y_pred)) - expected))
        assert error < 1e-5, (type(loss).__name__, error)
        emulated_tf32(False)
        error = np.max(np.abs(numpy(loss(y_true, y_pred)) - expected))
        assert error > 1e-4, (type(loss).__name__, error)  # what the split saves


def test_the_cpu_computes_one_product():
    """No TF32 on a CPU: the automatic choice does not split (no 3x cost where it buys nothing)."""
    from tests.backend import gpu_visible

    if gpu_visible():
        pytest.skip("a GPU is visible")
    assert pairwise.SPLIT_PRODUCTS is None and not pairwise._tf32_possible()


def test_torch_new_precision_api_does_not_break_the_losses():
    """torch >= 2.9 raises on its legacy TF32 flags once `fp32_precision` is set: the check must not."""
    if BACKEND != "torch":
        pytest.skip("PyTorch's TF32 settings")
    import torch

    if not hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        pytest.skip("torch < 2.9 has no fp32_precision")
    before = torch.backends.cuda.matmul.fp32_precision
    try:
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        value = numpy(kerasloss.TripletLoss()(np.arange(8) % 2, _rows(4, n=8, d=4)))
        assert np.isfinite(value)
    finally:
        torch.backends.cuda.matmul.fp32_precision = before
