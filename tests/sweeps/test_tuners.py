"""Every tuner the command line offers runs a real (tiny) sweep to the end: trials finish, each execution
writes its TensorBoard session, and hyperband's per-trial epoch budget reaches the training."""

import dataclasses
import io
import os

import pytest

from sweeps import spec as specs
from sweeps import tuning


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
