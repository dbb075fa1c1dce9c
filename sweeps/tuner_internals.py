"""The one door to keras-tuner's internals: everything the harness uses beyond keras-tuner's public API.

The harness extends keras-tuner where its public API stops (a chief that serves workers that come and go,
metrics whose direction keras-tuner cannot guess, a retry queue that forgets ended trials). Those pieces
live in `keras_tuner.src` and in private attributes, which may change in any release, so they are reached
from this module only, and only on the version they were written and tested against: another version is
refused at import with what to install.
"""

import keras_tuner

TESTED_VERSION = "1.4.8"  # sweeps/pyproject.toml pins it


class UnsupportedKerasTunerError(ImportError):
    """keras-tuner is not the version whose internals the harness was written against."""


def check_version(version):
    if version != TESTED_VERSION:
        raise UnsupportedKerasTunerError(
            f"kerasloss-sweeps reaches into keras-tuner's internals and runs on keras-tuner {TESTED_VERSION} only; "
            f"found {version}. Install it: pip install keras-tuner=={TESTED_VERSION}"
        )


check_version(keras_tuner.__version__)

# Only once the version is known: the internals this module was written against.
from keras_tuner.src import config, protos  # noqa: E402
from keras_tuner.src.distribute import oracle_chief  # noqa: E402
from keras_tuner.src.engine import conditions, metrics_tracking  # noqa: E402
from keras_tuner.src.engine import trial as trial_module  # noqa: E402
from keras_tuner.src.engine.oracle import synchronized  # noqa: E402

__all__ = ["oracle_chief", "protos", "synchronized", "trial_module"]

# keras-tuner 1.4.8 left a debugging print in `conditions.Parent.to_proto`: every trial with a conditional
# hyperparameter sent over gRPC printed its parent's value. Silence it for that module only.
conditions.print = lambda *args, **kwargs: None
config.DEBUG = False  # its traceback of every failed trial: a diverged one has its line instead


def declare_metric_directions(direction):
    """keras-tuner guesses a metric's direction from Keras' metric of the same name, and fails outright on
    one that needs arguments (`recall_at_precision` is Keras' RecallAtPrecision): `direction(name)` is
    asked first ("min", "max" or None for keras-tuner's guess)."""
    infer = metrics_tracking.infer_metric_direction

    def _metric_direction(name):
        return direction(name) or infer(name)

    metrics_tracking.infer_metric_direction = _metric_direction


def holds_oracle(oracle):
    """Whether this process holds the oracle itself (a chief), not a worker's client of it."""
    return hasattr(oracle, "_retry_queue")


def retry_queue(oracle):
    """The ids of the trials the oracle will hand out again (a worker died while running them)."""
    return oracle._retry_queue


def set_retry_queue(oracle, trial_ids):
    oracle._retry_queue = list(trial_ids)
