"""The best model a sweep keeps (`sweeps.best`): one model in STATE/NAME/best, replaced only by a trial whose
objective beats the recorded best in the spec's direction; it reproduces its recorded test metrics, `python -m
sweeps best --save` exports it, and a model that saves but does not load is not kept."""

import json
import os
import subprocess
import sys
import types

import keras
import numpy as np
import pytest

from sweeps import best, metrics
from tests.sweeps.support import ROOT, binary, linear, run_sweep


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
def test_a_model_that_saves_but_does_not_load_is_not_kept(tmp_path, capsys):
    def doubled(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Lambda(lambda x: 2 * x)(keras.layers.Dense(outputs)(inputs)))

    spec = {"name": "lambda", "task": "binary", "epochs": 1, "loss": "BinaryCrossentropy",
            "objective": {"name": "pr_auc"}, "space": {"learning_rate": {"choice": [0.01]}}}  # fmt: skip
    result, _ = run_sweep(tmp_path, spec, binary(200, 0), model=doubled)
    assert result.best is not None and "saves but does not load" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match=r"could not be saved as a \.keras file that loads"):
        result.best_model()


def _spec(direction="max"):
    return types.SimpleNamespace(name="s", direction=direction, tuner_objective="val_m")


def _saved(path, outputs=1):
    """A small model saved as .keras at `path` (a trial's candidate)."""
    linear((3,), outputs).save(path)
    return str(path)


def test_the_kept_model_lives_in_the_sweeps_best_folder(tmp_path):
    assert best.folder(str(tmp_path), "s") == os.path.join(str(tmp_path), "s", "best")
    assert best.record(str(tmp_path), "s") is None


def test_no_kept_model_is_a_file_not_found_saying_why(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"sweep 's': no best model in .*: no trial completed"):
        best.path_of(str(tmp_path), "s")
    assert best.offer(str(tmp_path), _spec(), "0", 1, 0.5, None, {"test_m": 0.4})
    with pytest.raises(FileNotFoundError, match=r"the best trial \(0\) could not be saved as a \.keras file"):
        best.path_of(str(tmp_path), "s")


def test_a_better_trial_replaces_the_kept_model_and_a_worse_one_does_not(tmp_path):
    state_dir = str(tmp_path / "state")
    assert best.offer(state_dir, _spec(), "0", 2, 0.5, _saved(tmp_path / "a.keras"), {"test_m": 0.4})
    assert best.path_of(state_dir, "s") == os.path.join(state_dir, "s", "best", "model.keras")
    assert best.load(state_dir, "s").output_shape == (None, 1)
    assert not best.offer(state_dir, _spec(), "1", 0, 0.5, _saved(tmp_path / "b.keras", 2), {"test_m": 0.9})  # a tie
    assert best.record(state_dir, "s") == {"trial_id": "0", "execution": 2, "objective": 0.5, "objective_name": "val_m",
                                           "metrics": {"test_m": 0.4}, "model": "model.keras"}  # fmt: skip
    assert best.offer(state_dir, _spec(), "2", 1, 0.6, _saved(tmp_path / "c.keras", 3), {"test_m": 0.5})
    assert best.record(state_dir, "s")["trial_id"] == "2" and best.load(state_dir, "s").output_shape == (None, 3)
    assert not (tmp_path / "c.keras").exists()  # moved into place, not copied: one model on disk
    assert best.offer(state_dir, _spec(), "3", 0, 0.7, None, {"test_m": 0.6})  # better, but could not be saved
    assert not os.path.exists(os.path.join(state_dir, "s", "best", "model.keras"))  # the old best is not its model


def test_smaller_is_better_where_the_objective_is_minimized(tmp_path):
    assert best.offer(str(tmp_path), _spec("min"), "0", 0, 0.5, None, {})
    assert not best.offer(str(tmp_path), _spec("min"), "1", 0, 0.6, None, {})
    assert best.offer(str(tmp_path), _spec("min"), "2", 0, 0.4, None, {})
    assert best.record(str(tmp_path), "s")["trial_id"] == "2"


def test_a_candidate_is_the_predictor_saved_as_keras(tmp_path):
    built = types.SimpleNamespace(predictor=linear((3,), 2), dataset=types.SimpleNamespace(encoder=None))
    path = tmp_path / "staging" / "candidate.keras"
    assert best.save_candidate(built, str(path))
    assert keras.models.load_model(path).output_shape == (None, 2)
