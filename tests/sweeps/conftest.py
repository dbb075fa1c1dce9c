"""The harness is built on TensorFlow (tf.data, tf.summary, keras-tuner on the TensorFlow backend): its tests,
scenarios/ included, are skipped on the other backends. `flipped` is the sweep several test files read."""

import keras
import pytest

from tests.sweeps.support import binary, run_sweep


def pytest_collection_modifyitems(config, items):
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason="the sweep harness runs on the TensorFlow backend")
    for item in items:
        if "tests/sweeps/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def flipped(tmp_path_factory):
    """Two trials, three seeds each, on data whose test labels are the opposite of the truth: the trial that
    learns wins on validation and loses on test. Run once for test_results, test_best and test_report."""
    tmp_path = tmp_path_factory.mktemp("flipped")
    train, val, test = binary(400, 0), binary(200, 1), binary(200, 2, flip=True)
    spec = {
        "name": "flipped",
        "task": "binary",
        "epochs": 4,
        "executions": 3,
        "tuner": "grid",
        "loss": "BinaryCrossentropy",
        "objective": {"name": "pr_auc"},
        "space": {"learning_rate": {"choice": [1e-6, 0.05]}},
    }
    result, out = run_sweep(tmp_path, spec, (train, val, test))
    return tmp_path, result, out, test
