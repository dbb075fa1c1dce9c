"""A sweep's answer: chosen on validation with the test part untouched, seed noise as paired intervals, the
results table (Python and `python -m sweeps results`), the best model kept and exported, diverged trials
failed, and model functions checked before the first trial."""

import csv
import io
import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import sweeps
from sweeps import metrics, results
from sweeps import spec as specs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _binary(n, seed, flip=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype("int64")
    x = (rng.normal(size=(n, 4)) + 1.2 * y[:, None]).astype("float32")
    return x, (1 - y if flip else y)


def _linear(input_shape, outputs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, keras.layers.Dense(outputs)(inputs))


def _run(tmp_path, spec, data, **options):
    out = io.StringIO()
    options.setdefault("model", _linear)
    result = sweeps.run(
        spec, data=data, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=out, **options
    )
    return result, out.getvalue()


@pytest.fixture(scope="module")
def flipped(tmp_path_factory):
    """Two trials, three seeds each, on data whose test labels are the opposite of the truth: the trial that
    learns wins on validation and loses on test."""
    tmp_path = tmp_path_factory.mktemp("flipped")
    train, val, test = _binary(400, 0), _binary(200, 1), _binary(200, 2, flip=True)
    spec = {
        "name": "flipped",
        "task": "binary",
        "epochs": 4,
        "executions": 3,
        "tuner": "grid",
        "loss": "BinaryCrossentropy",
        "objective": {"name": "pr_auc"},
        "space": {"learning_rate": {"choice": [1e-6, 0.05]}},
    }
    result, out = _run(tmp_path, spec, (train, val, test))
    return tmp_path, result, out, test


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
def test_the_best_model_reproduces_its_recorded_test_metrics(flipped):
    tmp_path, result, _, (x_test, y_test) = flipped
    model = result.best_model()
    kept = json.loads((tmp_path / "state" / "flipped" / "best" / "best.json").read_text())
    assert kept["trial_id"] == result.best.trial_id
    execution = result.best.executions("test_pr_auc")[kept["execution"]]
    logits = keras.ops.convert_to_numpy(model(x_test))
    assert metrics.binary(y_test, logits)["pr_auc"] == pytest.approx(execution, abs=1e-6)
    exported = tmp_path / "export" / "best.keras"
    command = [sys.executable, "-m", "sweeps", "best", "flipped", "--state", str(tmp_path / "state"), "--save"]
    subprocess.run([*command, str(exported)], capture_output=True, text=True, cwd=ROOT, check=True)
    check = (
        "import sys, keras, numpy as np, kerasloss; "
        f"m = keras.models.load_model({str(exported)!r}); x = np.load(sys.argv[1]); print(float(m(x)[0, 0]))"
    )
    np.save(tmp_path / "x.npy", x_test[:1])
    loaded = subprocess.run([sys.executable, "-c", check, str(tmp_path / "x.npy")], capture_output=True, text=True)
    assert float(loaded.stdout.strip().splitlines()[-1]) == pytest.approx(float(logits[0, 0]), abs=1e-5)
    disk = [p for p in (tmp_path / "state" / "flipped").rglob("*.keras")]
    assert len(disk) <= 2  # the best model and one candidate: bounded, whatever the trial count


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
    result, out = _run(tmp_path, spec, (x, y))
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


def test_non_finite_outputs_are_a_divergence_not_a_score():
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(metrics.DivergedError, match="8 of 8 validation output row"):
        metrics.measure("embedding", (labels, np.full((8, 3), np.nan)), (labels, np.zeros((8, 3))))
    with pytest.raises(metrics.DivergedError, match="1 of 2 test output row"):
        metrics.measure("regression", ([0.0, 1.0], [[0.0], [1.0]]), ([0.0, 1.0], [[np.inf], [1.0]]))


@pytest.mark.slow
def test_every_trial_failing_raises(tmp_path):
    x = np.random.default_rng(0).normal(size=(200, 3)).astype("float32")
    spec = {
        "name": "all_fail",
        "task": "regression",
        "epochs": 2,
        "loss": "MeanSquaredError",
        "objective": {"name": "mse"},
        "space": {"learning_rate": {"choice": [1e36]}},
    }
    with pytest.raises(sweeps.api.TrialsFailedError, match="every trial failed; the first: the model diverged"):
        _run(tmp_path, spec, (x, x[:, 0] * 1e3))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("wrong_signature", r"takes the keywords input_shape and outputs"),
        ("not_a_model", r"returned int, not a keras.Model"),
        ("wrong_shape", r"returns shape \(3,\) per example, not \(1,\)"),
        ("sigmoid", r"output layer applies a sigmoid; the harness trains on logits"),
        ("softmax_layer", r"output layer applies a softmax"),
    ],
)
@pytest.mark.slow
def test_a_wrong_model_function_is_refused_before_the_first_trial(tmp_path, model, message):
    def wrong_signature(shape, n):
        return _linear(shape, n)

    def not_a_model(input_shape, outputs):
        return 3

    def wrong_shape(input_shape, outputs):
        return _linear(input_shape, 3)

    def sigmoid(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs, activation="sigmoid")(inputs))

    def softmax_layer(input_shape, outputs):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(outputs), keras.layers.Softmax()])

    spec = {"name": "bad_model", "task": "binary", "loss": "BinaryCrossentropy", "objective": {"name": "pr_auc"},
            "space": {"learning_rate": {"choice": [0.01]}}}  # fmt: skip
    with pytest.raises(specs.SpecError, match=message):
        _run(tmp_path, spec, _binary(200, 0), model=locals()[model])
    assert not (tmp_path / "logs" / "bad_model").exists()  # nothing ran


def test_a_dict_spec_needs_a_name():
    with pytest.raises(specs.SpecError, match="a dict spec needs a `name`"):
        specs.from_dict({"task": "binary", "objective": {"name": "pr_auc"}, "loss": "FocalLoss", "space": {}})


@pytest.mark.parametrize(("given", "chosen"), [("pr_auc", "val_pr_auc"), ("val_pr_auc", "val_pr_auc")])
def test_the_objective_is_measured_on_validation(given, chosen):
    spec = specs.from_dict({"name": "o", "dataset": "circle", "objective": {"name": given}, "loss": "FocalLoss",
                            "space": {"gamma": {"choice": [1.0]}}})  # fmt: skip
    assert spec.tuner_objective == chosen


def test_an_objective_on_the_test_part_is_refused():
    with pytest.raises(specs.SpecError, match="would choose on the test part"):
        specs.from_dict({"name": "o", "dataset": "circle", "objective": {"name": "test_pr_auc"}, "loss": "FocalLoss",
                         "space": {"gamma": {"choice": [1.0]}}})  # fmt: skip


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
    result, _ = _run(tmp_path, spec, _binary(600, 3))
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
    result, _ = _run(tmp_path, spec, _binary(300, 4))
    assert result.best is not None and all(t.status == "COMPLETED" for t in result.trials)
    assert {max(t.measured["epochs"]) for t in result.trials} <= {1, 3}


def test_the_progress_counts_the_trials_a_random_search_will_run():
    from sweeps import tuning

    spec = specs.from_dict({"name": "r", "dataset": "circle", "objective": {"name": "pr_auc"}, "loss": "FocalLoss",
                            "tuner": "random", "space": {"gamma": {"choice": [1.0, 2.0]}}})  # fmt: skip
    assert tuning.planned_trials(spec, 10) == 2


NO_TENSORFLOW = """
import runpy, sys
sys.argv = ["sweeps", *sys.argv[1:]]
try:
    runpy.run_module("sweeps", run_name="__main__")
except SystemExit as end:
    assert not end.code, end.code
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
"""


@pytest.mark.parametrize("command", [["list"], ["--help"], ["run", "--help"]])
def test_list_and_help_import_no_tensorflow(command):
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *command], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
def test_the_report_names_the_best_trial_with_its_interval(flipped):
    from sweeps import report

    tmp_path, result, _, _ = flipped
    table = report.write(str(tmp_path / "state"), str(tmp_path / "report"))
    (line,) = [row for row in table.splitlines() if row.startswith("| flipped ")]
    _, low, high, _ = result.interval(result.best.trial_id)
    assert "| 2 x 3 | learning_rate=0.05 | val_pr_auc" in line and f"[{low:.3g}, {high:.3g}]" in line
    assert (tmp_path / "report" / "flipped-objective.png").stat().st_size > 1000


@pytest.mark.slow
def test_a_model_that_saves_but_does_not_load_is_not_kept(tmp_path, capsys):
    def doubled(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Lambda(lambda x: 2 * x)(keras.layers.Dense(outputs)(inputs)))

    spec = {"name": "lambda", "task": "binary", "epochs": 1, "loss": "BinaryCrossentropy",
            "objective": {"name": "pr_auc"}, "space": {"learning_rate": {"choice": [0.01]}}}  # fmt: skip
    result, _ = _run(tmp_path, spec, _binary(200, 0), model=doubled)
    assert result.best is not None and "saves but does not load" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match=r"could not be saved as a \.keras file that loads"):
        result.best_model()


def test_a_state_from_before_validation_is_refused_with_how_to_start_over(tmp_path):
    from sweeps import state

    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "sweep.json").write_text(json.dumps({"name": "old", "table": {}, "fingerprint": {}}))
    with pytest.raises(state.StateError, match=r"before trials were chosen on validation.*--overwrite"):
        results.load(str(tmp_path), "old")


def test_a_class_id_only_the_validation_part_holds_counts_as_a_class():
    from sweeps import sources

    train, val, test = (_binary(60, 0), _binary(30, 1), _binary(30, 2))
    val = (val[0], np.where(np.arange(30) == 0, 3, val[1]))
    checked = sources.from_arrays((train, val, test), sources.Source("arrays", "multiclass"))
    assert checked.classes == 4  # the model gets an output for it: no IndexError after training


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["ops_sigmoid", "raises"])
def test_more_wrong_model_functions_are_refused_before_the_first_trial(tmp_path, failure):
    def ops_sigmoid(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.ops.sigmoid(keras.layers.Dense(outputs)(inputs)))

    def raises(input_shape, outputs):
        return {}["width"]

    message = {"ops_sigmoid": "output layer applies a sigmoid", "raises": "the model function raised KeyError"}
    spec = {"name": "bad", "task": "binary", "loss": "BinaryCrossentropy", "objective": {"name": "pr_auc"},
            "space": {"learning_rate": {"choice": [0.01]}}}  # fmt: skip
    with pytest.raises(specs.SpecError, match=message[failure]):
        _run(tmp_path, spec, _binary(200, 0), model=locals()[failure])


def test_hyperband_trials_of_another_budget_are_not_seeds_of_the_best():
    def trial(trial_id, budget, values):
        executions = [{"execution": e, "seed": e, "metrics": {"val_m": v}} for e, v in enumerate(values)]
        return results.Trial(trial_id, "COMPLETED", {"g": 1.0}, {"val_m": float(np.mean(values))},
                             float(np.mean(values)), {"executions": executions}, None, budget)  # fmt: skip

    best, short = trial("3", 3, [0.9, 0.8, 0.85]), trial("0", 1, [0.88, 0.81, 0.84])
    result = results.Result("bands", "val_m", "max", (short, best), best)
    assert result.within_noise() == [] and "3 epochs" in result.summary()
    assert result.rows()[0]["budget"] == 1
