"""The README is a front page (at most 12 KB; the manual is the site under docs/), its links lead somewhere, and its
quickstart runs word for word."""

import json
import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_readme_is_a_front_page():
    assert len(README.encode()) <= 12 * 1024, f"README.md is {len(README.encode())} bytes; the manual goes in docs/"


def test_the_readmes_links_lead_to_files():
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


def test_the_readmes_benchmark_table_is_the_one_results_json_gives():
    """`make bench` rewrites the README's table (bench/report.py); by hand it would drift from the measurements."""
    from bench import report

    rows = json.loads((ROOT / "bench" / "results.json").read_text())
    assert report.README_START in README, "README.md lost its benchmark table's markers"
    assert report.with_readme_headline(README, rows) == README, "run `make bench` (or bench.report) to refresh it"


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the quickstart installs TensorFlow: once")
def test_the_quickstart_runs_as_written(tmp_path):
    """The Python block under "Quickstart", as it stands, in a fresh process (it trains and saves m.keras)."""
    section = README[README.index("## Quickstart") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("```", start)]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "m.keras").exists()
