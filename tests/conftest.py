import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow's oneDNN bfloat16 kernels die with SIGILL on hosts that advertise AMX but do not grant
# it to the process (this CI machine does); plain Eigen kernels run bfloat16 everywhere.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# PyTorch's oneDNN takes the same AMX path for bfloat16 matmuls; cap it at AVX-512 BF16.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")

import keras
import pytest


@pytest.fixture(autouse=True)
def _float32_policy():
    """Tests that switch to mixed precision must not leak the policy into the next test."""
    yield
    keras.mixed_precision.set_global_policy("float32")
