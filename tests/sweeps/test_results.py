"""A sweep's answer (`sweeps.results`): chosen on validation with the test part untouched, seed noise as paired
intervals, the results table (Python and `python -m sweeps results`), diverged trials failed and older
states refused. The run these read (`flipped`) is in conftest.py."""

import csv
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from sweeps import results
from tests.sweeps.support import ROOT, run_sweep


@pytest.mark.slow
def test_the_best_trial_is_chosen_on_validation_and_the_test_part_only_reports(flipped):
    _, result, out, _ = flipped
    learned, untrained = result.trial("1"), result.trial("0")
    assert learned.values == {"learning_rate": 0.05}
    assert learned.metrics["val_pr_auc"] > untrained.metrics["val_pr_auc"]
    assert learned.metrics["test_pr_auc"] < untrained.metrics["test_pr_auc"]  # the flipped test labels
    assert result.best is learned and result.objective == "val_pr_auc"
    assert f"best trial {learned.trial_id} " in out and "; test " in out


@pytest.mark.slow
def test_executions_keep_a_spread_and_compare_pairs_them_by_seed(flipped):
    _, result, out, _ = flipped
    learned = result.trial("1")
    values = list(learned.executions("val_pr_auc").values())
    assert len(values) == 3 and learned.metrics["val_pr_auc"] == pytest.approx(np.mean(values))
    assert learned.metrics["val_pr_auc_std"] == pytest.approx(np.std(values, ddof=1))
    seeds = [[e["seed"] for e in t.measured["executions"]] for t in result.trials]
    assert seeds[0] == seeds[1] and len(set(seeds[0])) == 3  # execution e has one seed in every trial
    compared = result.compare("1", "0")
    first, second = learned.executions("val_pr_auc"), result.trial("0").executions("val_pr_auc")
    differences = [first[e] - second[e] for e in range(3)]
    half = 4.302652729749464 * np.std(differences, ddof=1) / math.sqrt(3)  # t(0.975, 2)
    assert compared["n"] == 3 and compared["difference"] == pytest.approx(np.mean(differences))
    assert compared["low"] == pytest.approx(np.mean(differences) - half)
    assert compared["high"] == pytest.approx(np.mean(differences) + half)
    assert "95% interval" in out and "over 3 seeds" in out


def test_the_interval_of_one_seed_is_not_a_number():
    mean, low, high, n = results.t_interval([0.25])
    assert (mean, n) == (0.25, 1) and math.isnan(low) and math.isnan(high)


def test_a_trial_within_seed_noise_of_the_best_is_named():
    def trial(trial_id, values):
        executions = [{"execution": e, "seed": e, "metrics": {"val_m": v}} for e, v in enumerate(values)]
        return results.Trial(trial_id, "COMPLETED", {"a": trial_id}, {"val_m": float(np.mean(values))},
                             float(np.mean(values)), {"executions": executions})  # fmt: skip

    best, tied, worse = trial("0", [0.90, 0.80, 0.85]), trial("1", [0.88, 0.81, 0.84]), trial("2", [0.5, 0.4, 0.45])
    result = results.Result("toy", "val_m", "max", (best, tied, worse), best)
    assert [t.trial_id for t, _ in result.within_noise()] == ["1"]
    assert "within seed noise of the best" in result.summary() and "trial 1 (a=1)" in result.summary()


@pytest.mark.slow
def test_the_results_table_from_python_and_the_command_line(flipped):
    tmp_path, result, _, _ = flipped
    frame = result.to_frame()
    assert [int(t) for t in frame["trial_id"]] == [0, 1] and set(frame["status"]) == {"COMPLETED"}
    for column in ("learning_rate", "val_pr_auc", "val_pr_auc_std", "test_pr_auc", "test_f1_std", "epochs", "seconds"):
        assert column in frame.columns, column
    assert list(frame["epochs"]) == [4.0, 4.0]
    command = [sys.executable, "-m", "sweeps", "results", "flipped", "--state", str(tmp_path / "state"), "--format"]
    shown = subprocess.run([*command, "csv"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(shown)))
    assert [int(r["trial_id"]) for r in rows] == [0, 1]
    assert float(rows[1]["val_pr_auc"]) == pytest.approx(result.trial("1").metrics["val_pr_auc"])
    as_json = subprocess.run([*command, "json"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert json.loads(as_json)[0]["status"] == "COMPLETED"
    markdown = subprocess.run([*command, "markdown"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert markdown.splitlines()[0].startswith("| trial_id | status | learning_rate |")


@pytest.mark.slow
def test_a_diverged_trial_fails_with_its_reason_and_never_wins(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 10.0).astype("float32")
    spec = {
        "name": "diverges",
        "task": "regression",
        "epochs": 3,
        "tuner": "grid",
        "loss": "MeanSquaredError",
        "objective": {"name": "mse"},
        "space": {"learning_rate": {"choice": [0.01, 1e36]}},
    }
    result, out = run_sweep(tmp_path, spec, (x, y))
    statuses = {t.values["learning_rate"]: t.status for t in result.trials}
    assert statuses == {0.01: "COMPLETED", 1e36: "FAILED"}
    assert result.best.values["learning_rate"] == 0.01
    assert "diverged" in out and "FAILED" in out
    failed = next(t for t in result.trials if t.status == "FAILED")
    assert "diverged" in results.failure_reason(failed.message)
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    (run,) = (tmp_path / "logs" / "diverges").glob(f"trial_{failed.trial_id},*")
    events = event_accumulator.EventAccumulator(str(run), size_guidance={"tensors": 0}).Reload()
    last = events.Tensors("objective")[-1]
    assert math.isnan(float(tensor_util.make_ndarray(last.tensor_proto)))  # TensorBoard shows no finite score for it
    assert b"diverged" in tensor_util.make_ndarray(events.Tensors("failure")[0].tensor_proto).item()


def test_a_state_from_before_validation_is_refused_with_how_to_start_over(tmp_path):
    from sweeps import state

    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "sweep.json").write_text(json.dumps({"name": "old", "table": {}, "fingerprint": {}}))
    with pytest.raises(state.StateError, match=r"before trials were chosen on validation.*--overwrite"):
        results.load(str(tmp_path), "old")


def test_hyperband_trials_of_another_budget_are_not_seeds_of_the_best():
    def trial(trial_id, budget, values):
        executions = [{"execution": e, "seed": e, "metrics": {"val_m": v}} for e, v in enumerate(values)]
        return results.Trial(trial_id, "COMPLETED", {"g": 1.0}, {"val_m": float(np.mean(values))},
                             float(np.mean(values)), {"executions": executions}, None, budget)  # fmt: skip

    best, short = trial("3", 3, [0.9, 0.8, 0.85]), trial("0", 1, [0.88, 0.81, 0.84])
    result = results.Result("bands", "val_m", "max", (short, best), best)
    assert result.within_noise() == [] and "3 epochs" in result.summary()
    assert result.rows()[0]["budget"] == 1
