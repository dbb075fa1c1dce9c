"""Distributed mode: a chief and two workers on loopback finish a sweep; a worker killed mid-trial, or one
that stops answering, does not hang the chief, and its trial is run again, once."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from sweeps import spec as specs
from sweeps import tuning

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = "focal_imbalance"


class Lines:
    """A process's stdout, read in the background, searchable while it runs."""

    def __init__(self, process):
        self.process, self.lines = process, []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and not self._thread.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))

    def finish(self, timeout):
        self.process.wait(timeout=timeout)
        self._thread.join(timeout=10)
        return "\n".join(self.lines)


def _start(args, tmp_path):
    command = [
        sys.executable,
        "-m",
        "sweeps",
        *args,
        "--logdir",
        str(tmp_path / "logs"),
        "--state",
        str(tmp_path / "state"),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return Lines(process)


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
    chief = _start(["run", SWEEP, "--trials", "4", "--executions", "1", "--workers", "2"], tmp_path)
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
    chief = _start(
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
    remote = _start(["worker", SWEEP, "--oracle", f"127.0.0.1:{port}", "--id", "remote1"], tmp_path)
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
    chief = _start(["run", str(folder / "mine.toml"), "--workers", "1"], tmp_path)
    output = chief.finish(timeout=300)
    assert chief.process.returncode == 0, output
    assert len(re.findall(r"^\[mine worker1\] trial \d+ ", output, re.MULTILINE)) == 2, output
    assert "best trial" in output
    _check_sessions(tmp_path / "logs" / "mine", ["00", "01"])  # ids padded to the default budget of 10


def test_grid_oracle_hands_out_distinct_combinations_to_concurrent_workers(tmp_path):
    """keras-tuner's own grid oracle gives a second concurrent worker nothing (IDLE) until a trial ends;
    ours gives every worker the next untried combination, and the grid is covered exactly once."""
    spec = specs.load(SWEEP)
    oracle = tuning.make_oracle(spec, "grid", 100)
    oracle._set_project_dir(str(tmp_path), SWEEP)
    oracle.verbose = 0
    running = [oracle.create_trial(f"worker{i}") for i in range(4)]
    assert [t.status for t in running] == ["RUNNING"] * 4
    seen = {json.dumps(t.hyperparameters.values, sort_keys=True) for t in running}
    assert len(seen) == 4
    for trial in running:
        trial.status = "COMPLETED"
        oracle.update_trial(trial.trial_id, {spec.tuner_objective: 0.5})
        oracle.end_trial(trial)
    while (trial := oracle.create_trial("worker0")).status == "RUNNING":
        seen.add(json.dumps(trial.hyperparameters.values, sort_keys=True))
        trial.status = "COMPLETED"
        oracle.update_trial(trial.trial_id, {spec.tuner_objective: 0.5})
        oracle.end_trial(trial)
    assert trial.status == "STOPPED"
    assert len(seen) == tuning.planned_trials(spec, 100) == 7  # BCE, and focal: 3 gammas x 2 alphas
