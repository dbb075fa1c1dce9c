"""The search (`sweeps.tuning`): every tuner the command line offers runs a real (tiny) sweep to the end, the
grid oracle keeps concurrent workers busy, patience scores the best epoch, and the seeds, search space
and planned trial count follow the spec."""

import dataclasses
import io
import json
import os

import pytest

from sweeps import spec as specs
from sweeps import tuning
from tests.sweeps.support import binary, run_sweep

SWEEP = "focal_imbalance"


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["random", "bayesian", "hyperband", "grid"])
def test_each_tuner_runs_a_sweep(tmp_path, tuner):
    spec = dataclasses.replace(specs.load("huber_sin"), epochs=3, executions=1)
    out = io.StringIO()
    searcher = tuning.run(spec, str(tmp_path / "logs"), str(tmp_path / "state"), trials=3, tuner=tuner, stream=out)

    expected = {"random": "RandomSearchOracle", "bayesian": "BayesianOptimizationOracle"}
    expected.update(hyperband="HyperbandOracle", grid="GridOracle")
    assert type(searcher.oracle).__name__ == expected[tuner]
    trials = searcher.oracle.trials.values()
    completed = [t for t in trials if t.status == "COMPLETED"]
    assert completed and len(completed) == len(trials), [(t.trial_id, t.status, t.message) for t in trials]
    if tuner != "hyperband":
        assert len(completed) == 3
    else:  # hyperband sets each trial's epochs (tuner/epochs) itself, within the spec's budget
        assert all(1 <= t.hyperparameters.values["tuner/epochs"] <= spec.epochs for t in completed)
    sessions = sorted(os.listdir(tmp_path / "logs" / spec.name))
    assert sorted(s.split(",")[0] for s in sessions) == sorted(f"trial_{t.trial_id}" for t in completed)
    lines = [line for line in out.getvalue().splitlines() if line.startswith(f"[{spec.name}] trial ")]
    assert len(lines) == len(completed), out.getvalue()
    assert all(t.metrics.exists(spec.tuner_objective) for t in completed)


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


@pytest.mark.slow
def test_patience_stops_early_and_scores_the_best_epoch(tmp_path):
    spec = {
        "name": "patient",
        "task": "binary",
        "epochs": 40,
        "patience": 2,
        "loss": "BinaryCrossentropy",
        "objective": {"name": "pr_auc"},
        "learning_rate": 0.3,
        "space": {"batch_size": {"choice": [400]}},
    }
    result, _ = run_sweep(tmp_path, spec, binary(600, 3))
    trial = result.trials[0]
    (execution,) = trial.measured["executions"]
    assert trial.measured["epochs"] == [execution["epochs"]] and execution["epochs"] < 40
    assert execution["epochs"] - execution["best_epoch"] == 2  # stopped two epochs after the best
    assert trial.metrics["val_pr_auc"] == pytest.approx(execution["metrics"]["val_pr_auc"])


@pytest.mark.slow
def test_hyperband_runs(tmp_path):
    spec = {
        "name": "bands",
        "task": "binary",
        "epochs": 3,
        "tuner": "hyperband",
        "loss": "FocalLoss",
        "objective": {"name": "pr_auc"},
        "space": {"gamma": {"choice": [0.0, 1.0, 2.0, 4.0]}},
    }
    result, _ = run_sweep(tmp_path, spec, binary(300, 4))
    assert result.best is not None and all(t.status == "COMPLETED" for t in result.trials)
    assert {max(t.measured["epochs"]) for t in result.trials} <= {1, 3}


def test_the_progress_counts_the_trials_a_random_search_will_run():
    spec = specs.from_dict({"name": "r", "dataset": "circle", "objective": {"name": "pr_auc"}, "loss": "FocalLoss",
                            "tuner": "random", "space": {"gamma": {"choice": [1.0, 2.0]}}})  # fmt: skip
    assert tuning.planned_trials(spec, 10) == 2


def _spec(**fields):
    table = {"name": "t", "dataset": "circle", "objective": {"name": "pr_auc"},
             "space": {"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]},
                       "gamma": {"choice": [1.0, 2.0, 3.0], "when": {"loss": "FocalLoss"}}}}  # fmt: skip
    return specs.from_dict(table | fields)


def test_an_execution_seed_is_the_same_for_the_same_sweep_seed_and_execution_and_differs_otherwise():
    seeds = {(sweep, e): tuning.execution_seed(sweep, e) for sweep in (0, 1, 7) for e in range(5)}
    assert len(set(seeds.values())) == len(seeds)
    assert all(0 <= seed < 2**31 for seed in seeds.values())  # keras.utils.set_random_seed takes it
    assert tuning.execution_seed(7, 3) == seeds[(7, 3)]
    assert tuning.execution_seed(0, 0) == 451315558  # not Python's salted hash: the same in every process


def test_the_search_space_declares_choices_ranges_and_conditions():
    spec = _spec(space={"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]},
                        "gamma": {"choice": [1.0, 3.0], "when": {"loss": "FocalLoss"}},
                        "learning_rate": {"min": 1e-4, "max": 0.1, "log": True},
                        "batch_size": {"min": 16, "max": 64}})  # fmt: skip
    space = {hp.name: hp for hp in tuning.search_space(spec).space}
    assert {name: type(hp).__name__ for name, hp in space.items()} == {
        "loss": "Choice", "gamma": "Choice", "learning_rate": "Float", "batch_size": "Int"
    }  # fmt: skip
    assert space["loss"].values == ["BinaryCrossentropy", "FocalLoss"] and space["loss"].ordered is False
    assert space["gamma"].values == [1.0, 3.0] and space["gamma"].ordered is True
    ((parent, values),) = [(c.name, c.values) for c in space["gamma"].conditions]
    assert (parent, values) == ("loss", ["FocalLoss"]) and space["loss"].conditions == []
    assert (space["learning_rate"].min_value, space["learning_rate"].max_value) == (1e-4, 0.1)
    assert space["learning_rate"].sampling == "log" and space["batch_size"].sampling == "linear"
    assert (space["batch_size"].min_value, space["batch_size"].max_value) == (16, 64)


def test_the_planned_trials_count_each_conditional_branch_once():
    assert tuning.planned_trials(_spec(), 100) == 1 + 3  # BCE, and focal with three gammas
    assert tuning.planned_trials(_spec(), 2) == 2  # the budget when it is smaller
    rates = {"learning_rate": {"choice": [0.01, 0.1]}}
    assert tuning.planned_trials(_spec(space=_spec().table["space"] | rates), 100) == (1 + 3) * 2


def test_a_range_or_hyperband_plans_the_whole_budget():
    ranged = _spec(space={"gamma": {"min": 0.0, "max": 4.0}}, loss="FocalLoss")
    assert tuning.planned_trials(ranged, 13) == 13
    assert tuning.planned_trials(_spec(tuner="hyperband"), 13) == 13


@pytest.mark.parametrize(
    ("tuner", "oracle"),
    [("random", "RandomSearchOracle"), ("bayesian", "BayesianOptimizationOracle"), ("grid", "GridOracle"),
     ("hyperband", "HyperbandOracle")],
)  # fmt: skip
def test_each_tuner_gets_its_oracle_optimizing_the_validation_objective(tuner, oracle):
    spec = _spec(epochs=5, seed=3)
    made = tuning.make_oracle(spec, tuner, 6)
    assert type(made).__name__ == oracle
    assert made.objective.name == "val_pr_auc" and made.objective.direction == "max" and made.seed == 3
    if tuner == "hyperband":
        assert made.max_epochs == 5  # the spec's epochs: hyperband's largest budget
    else:
        assert made.max_trials == 6
    assert [hp.name for hp in made.get_space().space] == ["loss", "gamma"]


def test_the_leading_metrics_are_the_validation_objective_and_the_same_metric_on_test():
    measured = {"val_pr_auc": 0.8, "test_pr_auc": 0.7, "val_f1": 0.5, "test_f1": 0.4}
    assert tuning.counted(_spec(), measured) == {"objective": 0.8, "test_objective": 0.7}
