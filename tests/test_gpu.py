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
