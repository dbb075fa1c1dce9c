"""Real sweeps served by a real TensorBoard process, read back through its HTTP API: every trial, the
declared (discrete) domains, and the columns TensorBoard shows without a click (its first five
hyperparameters and metrics) are sweep, loss, setting and the objective, in the all-sweeps view and in
one sweep's own view."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port, route, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/data/plugin/hparams/{route}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-TensorBoard-Feature-Flags": "{}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _serve(logdir):
    port = _free_port()
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1"]
    board = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return board, port


def _groups(port, count):
    body = {
        "experimentName": "",
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"],
        "colParams": [],
        "startIndex": 0,
        "sliceSize": 100,
    }
    deadline, groups = time.time() + 120, []
    while time.time() < deadline:
        try:
            groups = _post(port, "session_groups", body).get("sessionGroups", [])
            if len(groups) == count:
                break
        except OSError:
            pass
        time.sleep(1)
    return groups


@pytest.mark.slow
def test_two_sweeps_in_one_log_folder_are_one_hparams_table(tmp_path):
    """`tensorboard --logdir logs` (what `make tensorboard` serves) after two sweeps: one HParams table with
    every sweep's hyperparameters and declared domains, a `sweep` column, every metric; groups named by
    sweep and trial, none carrying another sweep's values or metrics."""
    logdir, state = tmp_path / "logs", tmp_path / "state"
    command = [
        "run",
        "focal_imbalance",
        "huber_sin",
        "--trials",
        "2",
        "--executions",
        "1",
        "--logdir",
        str(logdir),
        "--state",
        str(state),
    ]
    run = subprocess.run(
        [sys.executable, "-m", "sweeps", *command],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    progress = [line for line in run.stdout.splitlines() if line.startswith("[focal_imbalance] trial")]
    assert len(progress) == 2 and "(2 of 2)" in progress[1] and "left" in progress[1], run.stdout

    board, port = _serve(logdir)
    try:
        groups = _groups(port, 4)
        experiment = _post(port, "experiment", {"experimentName": ""})
    finally:
        board.terminate()
        board.wait(timeout=30)
    names = sorted(g["name"] for g in groups)
    assert names == ["focal_imbalance/trial_0", "focal_imbalance/trial_1", "huber_sin/trial_0", "huber_sin/trial_1"]
    for group in groups:
        sweep = group["name"].split("/")[0]
        values = group["hparams"]
        tags = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        assert values["sweep"] == sweep and values["loss"] and values["setting"]
        assert {"objective", "test_objective"} <= tags.keys() and "training_loss" not in tags
        if sweep == "focal_imbalance":
            assert tags["objective"] == tags["val_pr_auc"] and tags["test_objective"] == tags["test_pr_auc"]
            assert "delta" not in values and "val_mse" not in tags
        else:
            assert tags["objective"] == tags["val_mse"] and "val_pr_auc" not in tags
            assert not {"gamma", "alpha"} & values.keys()
    hparams = [h["name"] for h in experiment["hparamInfos"]]
    assert hparams == ["loss", "setting", "sweep"]  # then the metrics: all shown without a click
    domains = {h["name"]: h.get("domainDiscrete") for h in experiment["hparamInfos"] if h["name"] != "setting"}
    assert domains == {
        "sweep": ["focal_imbalance", "huber_sin"],
        "loss": ["BinaryCrossentropy", "FocalLoss", "Huber", "MeanAbsoluteError", "MeanSquaredError"],
    }
    metrics = [m["name"]["tag"] for m in experiment["metricInfos"]]
    assert metrics[:2] == ["objective", "test_objective"] and "training_loss" not in metrics
    assert {"val_pr_auc", "test_minority_recall", "val_mse", "test_mse"} <= set(metrics)

    # `make tensorboard SWEEP=huber_sin`: one sweep with a config of its own
    view = subprocess.run(
        [sys.executable, "-c", VIEW, str(state), str(logdir), "huber_sin"], capture_output=True, text=True, cwd=ROOT
    )
    assert view.returncode == 0, view.stderr[-2000:]
    board, port = _serve(view.stdout.strip().splitlines()[-1])
    try:
        groups = _groups(port, 2)
        experiment = _post(port, "experiment", {"experimentName": ""})
    finally:
        board.terminate()
        board.wait(timeout=30)
    assert sorted(g["name"] for g in groups) == ["huber_sin/trial_0", "huber_sin/trial_1"]
    hparams = {h["name"]: h.get("domainDiscrete") for h in experiment["hparamInfos"]}
    assert list(hparams)[:3] == ["delta", "loss", "sweep"] and hparams["delta"] == [0.1, 1.0]
    assert [m["name"]["tag"] for m in experiment["metricInfos"]][:4] == [
        "objective",
        "test_objective",
        "val_mse",
        "test_mse",
    ]


VIEW = """
import sys
from sweeps import state, tensorboard
state_dir, logdir, name = sys.argv[1:]
spec = state.recorded(state.read(state_dir, name))
print(tensorboard.sweep_view(spec, logdir, state_dir + "/" + name))
"""
