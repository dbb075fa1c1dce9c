"""The same checks on a GPU, where one is visible to the backend (GPU kernels differ: fused
cross-entropy, XLA's GPU emitters, TF32 matmuls). Skipped, with the reason, on CPU-only machines."""

import keras
import numpy as np
import pytest

from tests.backend import BACKEND, gpu_visible, numpy, on_gpu
from tests.cases import CASES

pytestmark = pytest.mark.skipif(not gpu_visible(), reason=f"no GPU visible to the {BACKEND} backend")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_numpy_reference_on_gpu(case):
    y_true, y_pred = case.data(np.random.default_rng(0))
    values = case.make(reduction=None)(keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred))
    assert on_gpu(values)
    np.testing.assert_allclose(numpy(values), case.reference(y_true, y_pred), rtol=1e-4, atol=1e-6)


def test_pairwise_inner_products_keep_float32_precision_on_gpu():
    """The B x B products under every pairwise loss match float64 to float32 rounding, although a
    float32 matmul on recent GPUs may round its inputs to TF32 (JAX's default on an H100)."""
    from kerasloss.metric_learning.pairwise import inner_products

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 256, 128)).astype("float32")
    exact = a.astype("float64") @ b.astype("float64").T
    scale = np.abs(exact).max()
    ours = numpy(inner_products(keras.ops.convert_to_tensor(a), keras.ops.convert_to_tensor(b)))
    plain = numpy(keras.ops.matmul(keras.ops.convert_to_tensor(a), keras.ops.transpose(keras.ops.convert_to_tensor(b))))
    ours_error, plain_error = np.abs(ours - exact).max() / scale, np.abs(plain - exact).max() / scale
    assert ours_error < 1e-6, (ours_error, plain_error)
    if BACKEND == "jax":  # the premise of inner_products: without it JAX's default is three digits off
        assert plain_error > 1e-5, (ours_error, plain_error)
