"""Runs that go wrong, each reproduced: concurrent runs of one sweep, damaged state,
a finished distributed sweep re-run, a chief left alone by a dead worker, a worker with no chief, names
that would leave the log and state folders, and spec values that used to fail mid-run or train garbage."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import sweeps
from sweeps import spec as specs
from sweeps import state
from tests.sweeps.support import ROOT, Lines, start


def _base(**changes):
    table = {
        "dataset": "imbalanced_90_10",
        "space": {"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]}},
        "objective": {"name": "pr_auc"},
    }
    return table | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "gamma": {"min": 0.5, "max": 2.0, "log": "false"}}},
            "true or false",
        ),
        ({"seed": 2**32}, r"`seed`: expected an integer in \[0, 2\*\*32\)"),
        ({"seed": -1}, r"`seed`: expected an integer in \[0, 2\*\*32\)"),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "gamma": {"choice": [1.0], "when": {"loss": "Focal"}}}},
            r"`space.gamma.when`: loss never takes \['Focal'\] .* gamma would never be searched",
        ),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "batch_size": {"choice": [0, 32]}}},
            r"`space.batch_size`: expected positive integers, got \[0, 32\]",
        ),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "learning_rate": {"min": -1.0, "max": 0.1}}},
            r"`space.learning_rate`: expected finite numbers > 0",
        ),
        ({"batch_size": 2.5}, r"`batch_size`: expected int, got 2.5"),
        ({"learning_rate": float("inf")}, r"`learning_rate`: expected a number in \(0, inf\), got inf"),
    ],
)
def test_spec_values_that_used_to_fail_mid_run_are_refused_first(changes, message):
    with pytest.raises(specs.SpecError, match=message):
        specs.parse(_base(**changes), "bad")


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.slow
def test_hostile_names_write_nothing_outside_their_folders(tmp_path):
    """A spec file named `...toml` (the sweep `..`) and worker ids with separators are refused before
    anything is created; the parent folder is the same before and after."""
    parent = tmp_path / "parent"
    (parent / "victim").mkdir(parents=True)
    (parent / "victim" / "data").write_text("keep me")
    (parent / "...toml").write_text((specs.SPEC_DIR / "focal_imbalance.toml").read_text())
    before = _listing(parent)
    logs, states = ["--logdir", str(parent / "work" / "logs")], ["--state", str(parent / "work" / "state")]
    commands = [
        ["run", str(parent / "...toml"), *logs, *states],
        ["worker", "focal_imbalance", "--oracle", "127.0.0.1:9", "--id", "../../victim/data", *logs, *states],
        ["worker", "..", "--oracle", "127.0.0.1:9", "--id", "w1", *logs, *states],
    ]
    for command in commands:
        done = subprocess.run([sys.executable, "-m", "sweeps", *command], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 2, (command, done.stderr[-2000:])
        assert "invalid" in done.stderr, done.stderr[-2000:]
    assert _listing(parent) == before
    assert (parent / "victim" / "data").read_text() == "keep me"


@pytest.mark.slow
def test_a_worker_with_no_chief_says_so_and_exits(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeps",
            "worker",
            "focal_imbalance",
            "--oracle",
            "127.0.0.1:9",
            "--id",
            "w1",
            "--connect-timeout",
            "2",
            "--state",
            str(tmp_path / "s"),
            "--logdir",
            str(tmp_path / "l"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "no chief answers at 127.0.0.1:9 after 2 s" in done.stderr, done.stderr[-2000:]


def _tiny(name="tiny"):
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype(int)
    x = rng.normal(size=(200, 2)) + y[:, None]
    spec = {
        "name": name,
        "task": "binary",
        "epochs": 1,
        "tuner": "grid",
        "objective": {"name": "pr_auc"},
        "space": {"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]}},
    }
    return spec, (x, y)


@pytest.mark.slow
def test_damaged_state_files_are_named_with_how_to_recover(tmp_path):
    spec, data = _tiny()
    options = {"data": data, "logdir": str(tmp_path / "l"), "state": str(tmp_path / "s"), "stream": io.StringIO()}
    sweeps.run(spec, trials=1, **options)
    trial = next((tmp_path / "s" / "tiny").glob("trial_*/trial.json"))
    trial.write_bytes(b'{"trial_id": "0", "stat')
    with pytest.raises(state.StateError, match=rf"{trial} is damaged \(JSONDecodeError.*delete {trial.parent}"):
        sweeps.run(spec, trials=2, **options)
    trial.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(state.StateError, match=r"is damaged \(UnicodeDecodeError"):
        sweeps.run(spec, trials=2, **options)
    (tmp_path / "s" / "tiny" / "oracle.json").write_text("[")
    with pytest.raises(state.StateError, match=r"oracle.json is damaged .*--overwrite"):
        sweeps.run(spec, trials=2, **options)
    (tmp_path / "s" / "tiny" / state.RECORD).write_text("{")
    with pytest.raises(state.StateError, match=r"sweep.json is unreadable .*--overwrite"):
        sweeps.run(spec, trials=2, **options)
    result = sweeps.run(spec, trials=1, overwrite=True, **options)
    assert [t.status for t in result.trials] == ["COMPLETED"]


@pytest.mark.slow
def test_a_second_run_of_one_sweep_stops_at_once_naming_the_holder(tmp_path):
    first = start(
        ["run", "focal_imbalance", "--trials", "10", "--executions", "1"], tmp_path
    )  # long enough to be caught running
    first.wait_for(r"\[focal_imbalance\] trial 00 ")
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeps",
            "run",
            "focal_imbalance",
            "--trials",
            "3",
            "--logdir",
            str(tmp_path / "logs"),
            "--state",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert second.returncode == 2, second.stderr[-2000:]
    assert f"is already running on the state {tmp_path / 'state'} (pid {first.process.pid} on" in second.stderr
    output = first.finish(timeout=300)
    assert first.process.returncode == 0, output
    statuses = [
        json.loads(p.read_text())["status"] for p in (tmp_path / "state" / "focal_imbalance").glob("*/trial.json")
    ]
    assert statuses == ["COMPLETED"] * 7  # the whole grid
    assert len(os.listdir(tmp_path / "logs" / "focal_imbalance")) == 7  # no session lost


@pytest.mark.slow
def test_a_finished_distributed_sweep_rerun_runs_nothing(tmp_path):
    first = start(["run", "focal_imbalance", "--trials", "2", "--executions", "1", "--workers", "1"], tmp_path)
    output = first.finish(timeout=300)
    assert first.process.returncode == 0, output
    again = start(["run", "focal_imbalance", "--trials", "2", "--executions", "1", "--workers", "1"], tmp_path)
    output = again.finish(timeout=300)
    assert again.process.returncode == 0, output
    assert "resuming: 2 trial(s) already finished" in output
    assert " -> worker" not in output, output  # no trial handed out again


@pytest.mark.slow
def test_the_chief_exits_when_its_only_remote_worker_died_after_the_last_trial(tmp_path):
    chief = start(["run", "focal_imbalance", "--trials", "1", "--executions", "1", "--bind", "127.0.0.1:0"], tmp_path)
    port = chief.wait_for(r"chief listening on 127\.0\.0\.1:(\d+)").group(1)
    remote = start(["worker", "focal_imbalance", "--oracle", f"127.0.0.1:{port}", "--id", "remote1"], tmp_path)
    chief.wait_for(r"trial 0 by remote1: val_pr_auc")
    os.kill(remote.process.pid, signal.SIGKILL)
    remote.finish(timeout=30)
    output = chief.finish(timeout=60)  # before: waited forever for a worker to ask and be told to stop
    assert chief.process.returncode == 0, output
    assert "best trial 0" in output


@pytest.mark.slow
def test_a_stalled_local_worker_completes_its_requeued_trial(tmp_path):
    """The worker stops answering mid-trial (SIGSTOP), the chief gives its trial back to the queue, the
    worker wakes and is handed the same trial again: it runs it to completion (it used to fail it with
    "was given to another worker", as it still remembered losing it)."""
    chief = start(
        ["run", "focal_imbalance", "--trials", "3", "--executions", "1", "--workers", "1", "--heartbeat-timeout", "4"],
        tmp_path,
    )
    pid = int(chief.wait_for(r"worker1 started \(pid (\d+)\)").group(1))
    stalled = chief.wait_for(r"trial (\d+) -> worker1").group(1)
    time.sleep(0.3)
    os.kill(pid, signal.SIGSTOP)
    chief.wait_for(rf"worker1 sent no heartbeat for 4 s; its trial {stalled} goes back to the queue", timeout=60)
    os.kill(pid, signal.SIGCONT)
    output = chief.finish(timeout=300)
    assert chief.process.returncode == 0, output
    ended = [json.loads(p.read_text()) for p in (tmp_path / "state" / "focal_imbalance").glob("*/trial.json")]
    assert sorted((t["trial_id"], t["status"]) for t in ended) == [(str(i), "COMPLETED") for i in range(3)], output
    assert len(os.listdir(tmp_path / "logs" / "focal_imbalance")) == 3


def test_lines_helper_is_shared():
    assert Lines  # the subprocess helpers come from tests/sweeps/support.py
