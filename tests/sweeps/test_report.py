"""`python -m sweeps report` (`sweeps.report`): one row per sweep with the best trial, its interval over seeds and
the trials within seed noise of it, and a plot of the objective per hyperparameter."""

import json
import math
import struct

import numpy as np
import pytest

from sweeps import report, results
from sweeps import spec as specs


@pytest.mark.slow
def test_the_report_names_the_best_trial_with_its_interval(flipped):
    tmp_path, result, _, _ = flipped
    table = report.write(str(tmp_path / "state"), str(tmp_path / "report"))
    (line,) = [row for row in table.splitlines() if row.startswith("| flipped ")]
    _, low, high, _ = result.interval(result.best.trial_id)
    assert "| 2 x 3 | learning_rate=0.05 | val_pr_auc" in line and f"[{low:.3g}, {high:.3g}]" in line
    assert (tmp_path / "report" / "flipped-objective.png").stat().st_size > 1000


def _trial(trial_id, values, test=None, **hyperparameters):
    executions = [{"execution": e, "seed": e, "metrics": {"val_m": v}} for e, v in enumerate(values)]
    metrics = {"val_m": float(np.mean(values))} | ({"test_m": test} if test is not None else {})
    return results.Trial(trial_id, "COMPLETED", hyperparameters or {"a": trial_id}, metrics, float(np.mean(values)),
                         {"executions": executions})  # fmt: skip


def test_a_row_gives_the_best_trial_its_interval_over_seeds_its_test_value_and_the_trials_tied_with_it():
    best, tied = _trial("0", [0.90, 0.80, 0.85], 0.7), _trial("1", [0.88, 0.81, 0.84])
    worse = _trial("2", [0.5, 0.4, 0.45])
    half = 4.302652729749464 * np.std([0.90, 0.80, 0.85], ddof=1) / math.sqrt(3)  # t(0.975, 2)
    row = report.row(results.Result("toy", "val_m", "max", (best, tied, worse), best))
    assert row == f"| toy | 3 x 3 | a=0 | val_m 0.85 [{0.85 - half:.3g}, {0.85 + half:.3g}] | 0.7 | 1 |"


def test_a_row_of_one_seed_has_no_interval_and_cannot_tell_ties():
    best = _trial("3", [0.9], 0.7, gamma=2.0, loss="FocalLoss")
    row = report.row(results.Result("one", "val_m", "max", (best,), best))
    assert row == "| one | 1 x 1 | gamma=2, loss=FocalLoss | val_m 0.9 | 0.7 | one seed: unknown |"


def test_a_row_says_none_are_tied_and_shows_a_missing_test_value_as_nan():
    best, worse = _trial("0", [0.90, 0.80, 0.85]), _trial("1", [0.5, 0.4, 0.45])
    row = report.row(results.Result("toy", "val_m", "max", (best, worse), best))
    assert row.endswith("| nan | none |") and row.startswith("| toy | 2 x 3 | a=0 | val_m 0.85 [")


def test_no_completed_sweep_is_said_and_writes_no_report(tmp_path):
    (tmp_path / "state").mkdir()
    said = report.write(str(tmp_path / "state"), str(tmp_path / "logs"))
    assert said == f"No completed trials under {tmp_path / 'state'}: run `python -m sweeps run` first."
    assert not (tmp_path / "logs" / "report.md").exists()


def test_a_state_of_an_older_version_is_a_row_naming_its_error(tmp_path):
    (tmp_path / "state" / "old").mkdir(parents=True)
    (tmp_path / "state" / "old" / "sweep.json").write_text(json.dumps({"name": "old", "table": {}, "fingerprint": {}}))
    table = report.write(str(tmp_path / "state"), str(tmp_path / "logs"))
    (row,) = table.splitlines()[2:]
    assert row.startswith("| old | | sweep 'old': its state in ") and "--overwrite" in row
    assert (tmp_path / "logs" / "report.md").read_text() == "# Sweep report\n\n" + table + "\n"


def test_the_plot_has_one_panel_per_searched_hyperparameter(tmp_path):
    spec = specs.from_dict({"name": "p", "dataset": "circle", "objective": {"name": "pr_auc"},
                            "space": {"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]},
                                      "gamma": {"choice": [1.0, 3.0], "when": {"loss": "FocalLoss"}},
                                      "learning_rate": {"min": 1e-4, "max": 0.1, "log": True}}})  # fmt: skip
    trials = (_trial("0", [0.6, 0.7], loss="BinaryCrossentropy", learning_rate=0.01),
              _trial("1", [0.8, 0.9], loss="FocalLoss", gamma=3.0, learning_rate=0.001))  # fmt: skip
    path = tmp_path / "p-objective.png"
    report.plot(spec, results.Result("p", "val_m", "max", trials, trials[1]), path)
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (3 * 256, 240)  # 3.2 x 3 in, 80 dpi
