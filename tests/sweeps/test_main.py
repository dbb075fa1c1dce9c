"""`python -m sweeps` (`sweeps.__main__`): `list` and `--help` answer without TensorFlow; bad arguments, values out
of range and a sweep never run end with status 2 and a message saying what is wrong, before anything runs; `best
--save` copies the kept model."""

import json
import subprocess
import sys

import pytest

from sweeps import spec as specs
from sweeps.__main__ import main
from tests.sweeps.support import ROOT

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


def test_command_line_rejects_unknown_experiments_and_bad_budgets(capsys):
    assert main(["experiment", "nope"]) == 2
    assert "known: mse_vs_bce" in capsys.readouterr().err
    assert main(["experiment", "mae_linear", "--budget", "0"]) == 2


def test_a_missing_spec_path_and_trial_counts_below_one_are_errors(capsys):
    assert main(["run", "/nonexistent/x.toml"]) == 2
    assert "no spec file '/nonexistent/x.toml'" in capsys.readouterr().err
    assert main(["run", "focal_imbalance", "--trials", "0", "--executions", "1"]) == 2
    assert main(["run", "focal_imbalance", "--trials", "-1"]) == 2
    assert "--trials must be >= 1" in capsys.readouterr().err


def test_help_shows_every_command_and_the_spec_fields(capsys):
    with pytest.raises(SystemExit) as end:
        main(["--help"])
    assert end.value.code == 0
    shown = capsys.readouterr().out
    assert "{list,run,worker,results,best,board,report,experiment}" in shown
    assert "spec fields (TOML; paths relative to the spec file):" in shown


@pytest.mark.parametrize(
    ("argv", "message"),
    [([], "the following arguments are required"), (["nope"], "invalid choice: 'nope'"),
     (["run", "--tuner", "nope"], "argument --tuner: invalid choice: 'nope'"),
     (["run", "--trials", "two"], "argument --trials: invalid int value: 'two'"),
     (["worker", "focal_imbalance"], "the following arguments are required: --oracle, --id"),
     (["results", "x", "--format", "xml"], "argument --format: invalid choice: 'xml'")],
)  # fmt: skip
def test_arguments_the_parser_refuses_end_with_status_2_naming_them(capsys, argv, message):
    with pytest.raises(SystemExit) as end:
        main(argv)
    assert end.value.code == 2 and message in capsys.readouterr().err


def test_list_prints_each_sweep_of_the_default_suite_with_its_objective(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == specs.available()
    (focal,) = [line for line in lines if line.startswith("focal_imbalance ")]
    assert " val_pr_auc over " in focal


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["run", "focal_imbalance", "--workers", "-1"], "--workers must be >= 0, got -1"),
     (["run", "focal_imbalance", "--executions", "0"], "--executions must be >= 1, got 0"),
     (["run", "no_such_sweep"], "no_such_sweep"),
     (["experiment", "--repeats", "0"], "--repeats must be >= 1 and --budget in (0, 1]"),
     (["experiment", "--budget", "1.5"], "--repeats must be >= 1 and --budget in (0, 1]")],
)  # fmt: skip
def test_values_out_of_range_end_with_status_2_before_anything_runs(capsys, tmp_path, argv, message):
    assert main([*argv, "--logdir", str(tmp_path / "logs")]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["results", "best", "board"])
def test_a_sweep_never_run_is_an_error_for_the_commands_that_read_one(capsys, tmp_path, command):
    assert main([command, "folder/mine.toml", "--state", str(tmp_path)]) == 2  # a spec path: its file name
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "'mine'" in error


def test_best_saves_a_copy_of_the_kept_model_to_a_keras_path_only(capsys, tmp_path):
    kept = tmp_path / "state" / "mine" / "best"
    kept.mkdir(parents=True)
    (kept / "model.keras").write_bytes(b"the model")
    entry = {"trial_id": "3", "execution": 1, "objective": 0.9, "metrics": {"test_pr_auc": 0.8}, "model": "model.keras"}
    (kept / "best.json").write_text(json.dumps(entry))
    state = ["--state", str(tmp_path / "state")]
    assert main(["best", "mine", *state, "--save", str(tmp_path / "out.h5")]) == 2
    assert "--save takes a path ending in .keras" in capsys.readouterr().err
    assert main(["best", "mine", *state, "--save", str(tmp_path / "out" / "best.keras")]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("sweep mine: best trial 3 (execution 1), ") and "test_pr_auc 0.8" in shown
    assert (tmp_path / "out" / "best.keras").read_bytes() == b"the model"
