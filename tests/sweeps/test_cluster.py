"""Distributed mode (`sweeps.cluster`): a chief and two workers on loopback finish a sweep; a worker killed
mid-trial, or one that stops answering, does not hang the chief, and its trial is run again, once. A
worker trains exactly what the chief recorded: the data and model it loads are fingerprinted and compared
with the chief's record, and a worker that sees something else (a data file overwritten after the chief
started, a model module edited, other files on another machine) refuses, naming what changed. A local
worker that refuses is not restarted: a restart would refuse too."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sweeps import cluster
from tests.sweeps.support import ROOT, start

SWEEP = "focal_imbalance"


def _check_finished_once(tmp_path, output, trials):
    """Every trial COMPLETED, reported once by the chief, one complete TensorBoard session each."""
    ids = [str(i) for i in range(trials)]
    statuses = {}
    for trial in (tmp_path / "state" / SWEEP).glob("trial_*/trial.json"):
        content = json.loads(trial.read_text())
        statuses[content["trial_id"]] = content["status"]
    assert statuses == dict.fromkeys(ids, "COMPLETED")
    ended = re.findall(rf"^\[{SWEEP}\] trial (\d+) by ", output, re.MULTILINE)
    assert sorted(ended) == ids, output
    _check_sessions(tmp_path / "logs" / SWEEP, ids)


def _check_sessions(folder, ids):
    """One complete TensorBoard session per trial: `trial_N,values...,execution_0`."""
    sessions = sorted(os.listdir(folder), key=lambda s: int(s.split(",")[0][len("trial_") :]))
    assert [s.split(",")[0] for s in sessions] == [f"trial_{i}" for i in ids], sessions
    assert all(s.endswith(",execution_0") for s in sessions), sessions
    for session in sessions:
        files = os.listdir(folder / session)
        assert len(files) == 1 and files[0].startswith("events.out.tfevents"), (session, files)


@pytest.mark.slow
def test_chief_and_two_workers_survive_a_worker_killed_mid_trial(tmp_path):
    chief = start(["run", SWEEP, "--trials", "4", "--executions", "1", "--workers", "2"], tmp_path)
    pids = {m: int(p) for m, p in [chief.wait_for(rf"(worker{i}) started \(pid (\d+)\)").groups() for i in (1, 2)]}
    victim_trial, victim = chief.wait_for(r"trial (\d+) -> (worker\d)").groups()
    time.sleep(0.5)  # inside the trial: building and training take seconds
    os.kill(pids[victim], signal.SIGKILL)

    output = chief.finish(timeout=300)
    assert chief.process.returncode == 0, output
    assert f"{victim} ended with signal SIGKILL; its trial {victim_trial} goes back to the queue" in output
    assert len(re.findall(rf"trial {victim_trial} -> ", output)) == 2, output  # run again, once
    assert set(re.findall(r"trial \d+ -> (worker\d)", output)) == {"worker1", "worker2"}  # both worked
    _check_finished_once(tmp_path, output, 4)


@pytest.mark.slow
def test_a_silent_worker_is_given_up_and_its_late_result_refused(tmp_path):
    """A worker on "another machine" stops answering (SIGSTOP, as a hung host or a lost network): the
    chief gives up on it after the heartbeat timeout and re-queues its trial; when it wakes up, its
    result is refused and its sessions are not written."""
    chief = start(
        [
            "run",
            SWEEP,
            "--trials",
            "5",
            "--executions",
            "1",
            "--workers",
            "1",
            "--bind",
            "127.0.0.1:0",
            "--heartbeat-timeout",
            "5",
        ],
        tmp_path,
    )
    port = chief.wait_for(r"chief listening on 127\.0\.0\.1:(\d+)").group(1)
    remote = start(["worker", SWEEP, "--oracle", f"127.0.0.1:{port}", "--id", "remote1"], tmp_path)
    try:
        stalled_trial = chief.wait_for(r"trial (\d+) -> remote1").group(1)
        os.kill(remote.process.pid, signal.SIGSTOP)
        chief.wait_for(
            rf"remote1 sent no heartbeat for 5 s; its trial {stalled_trial} goes back to the queue", timeout=60
        )
        os.kill(remote.process.pid, signal.SIGCONT)
        remote.wait_for(rf"trial {stalled_trial}: the chief gave it to another worker; this result is dropped")
        output = chief.finish(timeout=300)
    finally:
        os.kill(remote.process.pid, signal.SIGCONT)
        remote.process.kill()
        remote.finish(timeout=30)
    assert chief.process.returncode == 0, output
    _check_finished_once(tmp_path, output, 5)


@pytest.mark.slow
def test_a_spec_given_by_path_with_its_own_data_and_model_runs_on_a_worker(tmp_path):
    """Workers run the spec the chief recorded in the state, so a spec outside the suite, its CSV and its
    model module reach them (before: every worker died with "Unknown sweep")."""
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    x = rng.normal(size=(300, 3)) + y[:, None]
    rows = ["a,b,c,y"] + [f"{r[0]},{r[1]},{r[2]},{t}" for r, t in zip(x, y, strict=True)]
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "points.csv").write_text("\n".join(rows) + "\n")
    (folder / "tiny_model.py").write_text(
        "import keras\n\n\ndef build(input_shape, outputs):\n    inputs = keras.Input(input_shape)\n"
        "    return keras.Model(inputs, keras.layers.Dense(outputs)(inputs))\n"
    )
    (folder / "mine.toml").write_text(
        'dataset = "points.csv"\ntask = "binary"\ntarget = "y"\nmodel = "tiny_model:build"\nepochs = 2\n'
        'tuner = "grid"\n[objective]\nname = "roc_auc"\n[space.loss]\nchoice = ["BinaryCrossentropy", "FocalLoss"]\n'
        '[space.gamma]\nchoice = [2.0]\nwhen = { loss = "FocalLoss" }\n'
    )
    chief = start(["run", str(folder / "mine.toml"), "--workers", "1"], tmp_path)
    output = chief.finish(timeout=300)
    assert chief.process.returncode == 0, output
    assert len(re.findall(r"^\[mine worker1\] trial \d+ ", output, re.MULTILINE)) == 2, output
    assert "best trial" in output
    _check_sessions(tmp_path / "logs" / "mine", ["00", "01"])  # ids padded to the default budget of 10


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
    chief = start(["run", str(spec), "--bind", "127.0.0.1:0", "--workers", "0"], tmp_path)
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
