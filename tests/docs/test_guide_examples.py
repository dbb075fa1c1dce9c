"""The complete examples of the guides run as written.

A page marks an example with HTML comments, invisible on the site: the ```python blocks between
`<!-- example: NAME -->` and `<!-- /example -->` belong to example NAME, and sections of the same name anywhere on
the page are joined in page order. Each example runs in a fresh Python process with the repository on `sys.path`,
in a temporary folder (what it writes stays there):

- docs/guides/custom-loss.md, `custom`: the loss, its class and its tests, run by pytest as a test module;
- docs/guides/saving.md, `save` then `load`: two processes, so the load finds nothing the first one registered;
- docs/guides/metric-learning.md, `complete` then `proxies`: one process, the second using the first's data.

The subprocesses inherit the environment (the backend, and tests/conftest.py's oneDNN settings). They import
TensorFlow and train small models, so they are marked `slow`, as every test that starts a process is;
`test_every_marked_example_is_found_and_compiles` checks the pages' code without running it. They run once, on
TensorFlow (`make test-all`): the library's own tests cover the other backends, and CI's time is kept for them.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ROOT / "docs" / "guides"
SECTION = re.compile(r"<!-- example: ([\w-]+) -->(.*?)<!-- /example -->", re.DOTALL)
BLOCK = re.compile(r"^```python\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)

# page: the examples it must mark, in the order they run
PAGES = {
    "custom-loss.md": ["custom"],
    "saving.md": ["save", "load"],
    "metric-learning.md": ["complete", "proxies"],
}


ONCE = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the pages' examples: once, on TensorFlow")


def examples(page):
    """{example name: the source of its python blocks, joined in page order}."""
    found = {}
    for name, body in SECTION.findall((GUIDES / page).read_text(encoding="utf-8")):
        found.setdefault(name, []).extend(BLOCK.findall(body))
    return {name: "\n\n".join(blocks) for name, blocks in found.items()}


def run(arguments, folder, timeout=300):
    """Run `python ARGUMENTS` in `folder` with the repository first on sys.path; returns the CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return subprocess.run(
        [sys.executable, *arguments], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )


def run_script(source, folder, name):
    path = Path(folder) / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    result = run([str(path)], folder)
    assert result.returncode == 0, f"example {name!r} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result.stdout


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_marked_example_is_found_and_compiles(page):
    found = examples(page)
    assert sorted(found) == sorted(PAGES[page]), f"{page} marks {sorted(found)}, expected {sorted(PAGES[page])}"
    for name, source in found.items():
        assert source.strip(), f"{page}: example {name!r} holds no python block"
        compile(source, f"{page}:{name}", "exec")  # a SyntaxError names the page and the example


@pytest.mark.slow
@ONCE
def test_custom_loss_example_and_its_tests_pass(tmp_path):
    source = examples("custom-loss.md")["custom"]
    path = tmp_path / "test_pseudo_huber.py"  # the page's tests are pytest tests: pytest runs the module
    path.write_text(source, encoding="utf-8")
    result = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)], tmp_path)
    assert result.returncode == 0, f"{result.stdout[-5000:]}\n{result.stderr[-3000:]}"
    passed = re.search(r"(\d+) passed", result.stdout)
    defined = len(re.findall(r"^def test_", source, re.MULTILINE))
    assert passed and int(passed.group(1)) >= defined, result.stdout[-2000:]


@pytest.mark.slow
@ONCE
def test_saving_example_loads_in_a_fresh_process(tmp_path):
    found = examples("saving.md")
    run_script(found["save"], tmp_path, "save")
    assert (tmp_path / "classifier.keras").is_file()
    printed = run_script(found["load"], tmp_path, "load")
    assert "FocalLoss(gamma=2.0, alpha=0.75, from_logits=True" in printed
    assert "kerasloss>LogitAdjusted" in printed


@pytest.mark.slow
@ONCE
def test_metric_learning_example_runs_end_to_end(tmp_path):
    found = examples("metric-learning.md")
    printed = run_script(found["complete"] + "\n\n" + found["proxies"], tmp_path, "metric_learning")
    assert "unseen classes, recall@1:" in printed and "ArcFace, recall@1 per epoch:" in printed
    assert (tmp_path / "encoder.keras").is_file() and (tmp_path / "classifier.keras").is_file()
