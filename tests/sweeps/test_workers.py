"""A worker trains exactly what the chief recorded: the data and model it loads are fingerprinted and
compared with the chief's record, and a worker that sees something else (a data file overwritten after
the chief started, a model module edited, other files on another machine) refuses, naming what changed.
A local worker that refuses is not restarted: a restart would refuse too."""

import re
import subprocess
import sys

import numpy as np
import pytest

from sweeps import cluster
from tests.sweeps.test_cluster import ROOT, _start

MODEL = "import keras\n\n\ndef build(input_shape, outputs):\n    inputs = keras.Input(input_shape)\n{body}"
LINEAR = "    return keras.Model(inputs, keras.layers.Dense(outputs)(inputs))\n"
HIDDEN = "    return keras.Model(inputs, keras.layers.Dense(outputs)(keras.layers.Dense(4)(inputs)))\n"


def _points(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(200) < 0.3).astype(int)
    return {"x": rng.normal(size=(200, 2)) + y[:, None], "y": y}


def _project(folder):
    folder.mkdir()
    np.savez(folder / "points.npz", **_points(0))
    (folder / "tiny_model.py").write_text(MODEL.format(body=LINEAR))
    (folder / "mine.toml").write_text(
        'dataset = "points.npz"\ntask = "binary"\nmodel = "tiny_model:build"\nepochs = 1\ntuner = "grid"\n'
        '[objective]\nname = "pr_auc"\n[space.loss]\nchoice = ["BinaryCrossentropy", "FocalLoss"]\n'
    )
    return folder / "mine.toml"


def _worker(port, tuner_id, tmp_path):
    command = [sys.executable, "-m", "sweeps", "worker", "mine", "--oracle", f"127.0.0.1:{port}", "--id", tuner_id,
               "--logdir", str(tmp_path / "logs"), "--state", str(tmp_path / "state")]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_a_worker_refuses_data_or_a_model_changed_after_the_chief_started(tmp_path):
    """Overwriting the spec's .npz after the chief started: the worker used to train on the new file and the
    chief accepted its results. Now it refuses (exit 2) naming the data, then the model; put back, the
    same files are accepted, and the chief's trials are all the accepted worker's."""
    spec = _project(tmp_path / "project")
    chief = _start(["run", str(spec), "--bind", "127.0.0.1:0", "--workers", "0"], tmp_path)
    try:
        port = chief.wait_for(r"chief listening on 127\.0\.0\.1:(\d+)").group(1)
        data, model = spec.parent / "points.npz", spec.parent / "tiny_model.py"
        original = data.read_bytes()
        np.savez(data, **_points(1))
        refused = _worker(port, "w1", tmp_path)
        assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr[-2000:]
        assert "worker w1 refuses sweep 'mine': what it would train differs from what the chief recorded" in (
            refused.stderr
        )
        assert f"data (the arrays of {data} are not those the chief recorded)" in refused.stderr, refused.stderr
        assert "model" not in refused.stderr.split("recorded in")[-1].split(". Every")[0]

        data.write_bytes(original)
        model.write_text(MODEL.format(body=HIDDEN))
        refused = _worker(port, "w2", tmp_path)
        assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr[-2000:]
        assert "worker w2 refuses sweep 'mine'" in refused.stderr and "model (tiny_model:build" in refused.stderr
        assert "data (" not in refused.stderr

        model.write_text(MODEL.format(body=LINEAR))
        accepted = _worker(port, "w3", tmp_path)
        assert accepted.returncode == 0, accepted.stderr[-3000:]
        output = chief.finish(timeout=120)
    finally:
        chief.process.kill()
    assert chief.process.returncode == 0, output
    assert sorted(re.findall(r"trial (\d+) -> (\w+)", output)) == [("00", "w3"), ("01", "w3")], output  # ids padded: 10


class _Chief:
    def __init__(self):
        self.said, self.given_up = [], []

    def say(self, text):
        self.said.append(text)

    def give_up(self, tuner_id, reason):
        self.given_up.append((tuner_id, reason))


@pytest.mark.slow
def test_a_local_worker_that_refuses_the_sweep_is_not_restarted(tmp_path):
    """It used to be restarted (to refuse again) until no restart was left, and the chief's error said the
    workers had died."""
    chief = _Chief()
    refusing = [sys.executable, "-c", f"import sys; sys.exit({cluster.REFUSED})"]  # `python -m sweeps worker`'s status
    workers = cluster.LocalWorkers(chief, lambda tuner_id: refusing, 1)
    workers.processes["worker1"].wait(timeout=60)
    alive = workers.check()
    assert [t for t in chief.said if " started (pid " in t] == chief.said[:1]  # once: no restart
    assert alive is False  # none left: the chief ends with WorkersLostError
    assert chief.given_up == [("worker1", "ended with exit status 3, refusing the sweep (its error is above)")]
    assert workers.refused == ["worker1"]
