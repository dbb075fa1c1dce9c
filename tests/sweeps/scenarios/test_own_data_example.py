"""The example of docs/harness/own-data.md ("Your own data and model") runs as written: the CSV writer, the
spec with its model module, and the same through `sweeps.run` with arrays and the model function (the manual's
code block)."""

import io
import os
import shutil
import subprocess
import sys

import pytest

import sweeps
from tests.sweeps.support import ROOT

EXAMPLE = os.path.join(ROOT, "examples", "own_data")


@pytest.mark.slow
def test_the_readme_example_runs_from_its_files(tmp_path):
    folder = tmp_path / "own_data"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.csv", "__pycache__"))
    made = subprocess.run([sys.executable, str(folder / "make_data.py")], capture_output=True, text=True)
    assert made.returncode == 0 and "569 rows, 30 features, 212 malignant" in made.stdout, made.stderr
    out = io.StringIO()
    result = sweeps.run(
        str(folder / "breast_cancer.toml"),
        trials=2,
        executions=1,
        logdir=str(tmp_path / "logs"),
        state=str(tmp_path / "s"),
        stream=out,
    )
    assert [t.status for t in result.trials] == ["COMPLETED", "COMPLETED"]
    assert result.best.objective > 0.9  # the tumours separate well: PR-AUC near 1
    assert "[breast_cancer] trial 1 (2 of 2) loss=FocalLoss alpha=0.25 gamma=1 -> val_pr_auc" in out.getvalue()


@pytest.mark.slow
def test_the_manuals_python_example_runs_as_written(tmp_path):
    with open(os.path.join(ROOT, "docs", "harness", "own-data.md")) as file:
        manual = file.read()
    start = manual.index("```python", manual.index("The same from Python")) + len("```python")
    code = manual[start : manual.index("```", start)]
    code = code.replace('sys.path.insert(0, "examples/own_data")', f"sys.path.insert(0, {EXAMPLE!r})")
    code = code.replace(
        "model=build)", f"model=build, logdir={str(tmp_path / 'logs')!r}, state={str(tmp_path / 's')!r})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sweep cancer_api: 4 trials, 0 failed; best trial" in done.stdout
