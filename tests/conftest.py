import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _float32_policy():
    """Tests that switch to mixed precision must not leak the policy into the next test."""
    yield
    keras.mixed_precision.set_global_policy("float32")
