"""Resume: a sweep killed with SIGKILL mid-trial, re-run with the same state, finishes every trial
exactly once, re-runs the interrupted one, and leaves one complete TensorBoard session per execution."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.sweeps.support import ROOT


def _command(tmp_path):
    return [
        sys.executable, "-m", "sweeps", "run", "focal_imbalance", "--trials", "3", "--executions", "1",
        "--logdir", str(tmp_path / "logs"), "--state", str(tmp_path / "state"),
    ]  # fmt: skip


@pytest.mark.slow
def test_killed_sweep_resumes_without_loss_or_duplicates(tmp_path):
    first = subprocess.Popen(_command(tmp_path), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in first.stdout:  # wait for trial 0 to finish, then kill inside trial 1
        if line.startswith("[focal_imbalance] trial 0"):
            break
    time.sleep(1.0)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)

    oracle = json.loads((tmp_path / "state" / "focal_imbalance" / "oracle.json").read_text())
    assert oracle["ongoing_trials"], "the kill should land inside a trial"
    interrupted = next(iter(oracle["ongoing_trials"].values()))

    second = subprocess.run(_command(tmp_path), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming: 1 trial(s) already finished" in second.stdout
    reran = [line for line in second.stdout.splitlines() if line.startswith("[focal_imbalance] trial ")]
    assert [line.split()[2] for line in reran] == [interrupted, "2"]  # the interrupted trial once, then the rest

    statuses = {}
    for trial in (tmp_path / "state" / "focal_imbalance").glob("trial_*/trial.json"):
        content = json.loads(trial.read_text())
        statuses[content["trial_id"]] = content["status"]
    assert statuses == {"0": "COMPLETED", "1": "COMPLETED", "2": "COMPLETED"}

    sessions = sorted(os.listdir(tmp_path / "logs" / "focal_imbalance"))
    assert [s.split(",")[0] for s in sessions] == ["trial_0", "trial_1", "trial_2"], sessions
    for session in sessions:
        files = os.listdir(tmp_path / "logs" / "focal_imbalance" / session)
        assert len(files) == 1 and files[0].startswith("events.out.tfevents"), (session, files)
