"""What `pip install kerasloss` gives: the package kerasloss on keras and numpy, for any backend, built
without setuptools warnings; and a command line that imports no backend."""

import importlib.metadata
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import keras
import pytest

import kerasloss

ROOT = pathlib.Path(__file__).resolve().parents[1]
HARNESS_ONLY = {"tensorflow", "keras-tuner", "tensorboard", "scikit-learn", "matplotlib", "pandas", "grpcio"}


def _imported(stderr):
    """Top-level module names from `python -X importtime` output."""
    lines = (line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:"))
    return {name.split(".")[0] for name in lines}


@pytest.mark.slow
def test_the_command_line_imports_no_backend():
    """`python -m kerasloss recommend` answers without keras, so without TensorFlow's 5-10 s import."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kerasloss", "recommend", "binary", "--imbalance", "50"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("model.compile(loss=kerasloss.")
    heavy = {"keras", "tensorflow", "jax", "torch"} & _imported(done.stderr)
    assert not heavy, f"python -m kerasloss imported {sorted(heavy)}"


@pytest.mark.parametrize(
    ("argv0", "orig_argv", "command_line"),
    [
        ("-m", ["python", "-m", "kerasloss", "recommend"], True),  # sys.argv[0] while `-m` looks for the module
        ("-m", ["python", "-mkerasloss", "recommend"], True),
        ("-m", ["python", "-X", "importtime", "-m", "kerasloss"], True),
        ("-m", ["python", "-m", "sweeps", "run"], False),  # a package that imports kerasloss: all registered
        ("-m", ["python", "-m", "pytest", "-m", "kerasloss"], False),
        ("-m", ["python", "-m", "kerasloss.tools.selector"], False),
        ("-c", ["python", "-c", "import kerasloss", "-m", "kerasloss"], False),
    ],
)
def test_only_python_m_kerasloss_skips_registration(monkeypatch, argv0, orig_argv, command_line):
    monkeypatch.setattr(sys, "argv", [argv0])
    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    assert kerasloss._finding_main() is command_line


@pytest.mark.slow
def test_import_kerasloss_registers_every_loss_and_the_lazy_names_resolve():
    """A plain `import kerasloss` registers every class with Keras (a `.keras` file needs nothing else);
    where the command line skipped that, each name still resolves on first use."""
    script = (
        "import json, sys\n"
        "lazy = sys.argv[1] == 'lazy'\n"
        "if lazy:  # what kerasloss/__init__.py sees under `python -m kerasloss`\n"
        "    sys.argv[0], sys.orig_argv = '-m', [sys.executable, '-m', 'kerasloss']\n"
        "import kerasloss\n"
        "assert ('keras' in sys.modules) is not lazy\n"
        "import keras\n"
        "ours = lambda: {n.split('>')[1] for n in keras.saving.get_custom_objects() if n.startswith('kerasloss>')}\n"
        "before = ours()\n"
        "from kerasloss import FocalLoss\n"
        "assert FocalLoss is kerasloss.FocalLoss is kerasloss.get('focal').__class__\n"
        "assert set(kerasloss.__all__) <= set(dir(kerasloss))\n"
        "for name in kerasloss.__all__:\n"
        "    getattr(kerasloss, name)\n"
        "assert callable(kerasloss.recommend), kerasloss.recommend\n"
        "after = ours()\n"
        "print(json.dumps([sorted(before), sorted(after)]))\n"
    )
    for mode in ("eager", "lazy"):
        done = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        before, after = map(set, json.loads(done.stdout))
        assert {"FocalLoss", "TripletLoss", "UncertaintyWeighting", "UncertaintyWeightedModel"} <= after
        assert before == (after if mode == "eager" else set()), mode


def test_the_harness_pins_this_library_version():
    harness = tomllib.loads((ROOT / "sweeps" / "pyproject.toml").read_text())["project"]
    pins = dict(
        re.fullmatch(r"([\w-]+)(?:\[[\w,-]+\])?==(.+)", d).groups() for d in harness["dependencies"] if "==" in d
    )
    assert pins["kerasloss"] == kerasloss.__version__
    assert pins["keras-tuner"] == importlib.metadata.version("keras-tuner")  # the version the tests ran against


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="backend-independent: once, in `make test-all`")
def test_a_jax_only_install(tmp_path):
    """Build the wheel (no setuptools warning; only kerasloss inside), install it with JAX into a fresh venv:
    no TensorFlow, no harness, and a loss computes on JAX."""
    source = tmp_path / "src"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "kerasloss", source / "kerasloss", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip"]

    built = _run([*pip, "wheel", "--no-deps", "-v", str(source), "-w", str(tmp_path / "wheels")], output=True)
    warnings = re.findall(r"\w*Warning\b.*", built)  # SetuptoolsDeprecationWarning, BuildBackendWarning, ...
    assert not warnings, warnings
    (wheel,) = (tmp_path / "wheels").glob("kerasloss-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist()}
    assert top_level == {"kerasloss", f"kerasloss-{kerasloss.__version__}.dist-info"}

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    jax = f"jax[cpu]=={importlib.metadata.version('jax')}" if _installed("jax") else "jax[cpu]"
    _run([*pip, "--python", python, "install", "--quiet", str(wheel), jax])
    listed = json.loads(_run([*pip, "--python", python, "list", "--format", "json"]))
    installed = {package["name"].lower().replace("_", "-") for package in listed}
    assert {"kerasloss", "keras", "numpy", "jax"} <= installed
    assert not installed & (HARNESS_ONLY | {"torch"}), sorted(installed & (HARNESS_ONLY | {"torch"}))

    script = (
        "import importlib.util, sys\n"
        "import numpy as np\n"
        "import kerasloss, keras\n"
        "assert keras.backend.backend() == 'jax'\n"
        "loss = kerasloss.FocalLoss(gamma=2.0, alpha=0.25, from_logits=True)\n"
        "print(float(loss(np.array([[1.0, 0.0]]), np.zeros((1, 2), 'float32'))))\n"
        "assert importlib.util.find_spec('sweeps') is None, 'a top-level sweeps was installed'\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    environment["KERAS_BACKEND"] = "jax"
    value = _run([python, "-c", script], cwd=tmp_path, env=environment)
    # p_t = 0.5 for both labels: mean of alpha_t (1 - p_t)^2 log 2 with alpha_t 0.25 and 0.75
    assert float(value) == pytest.approx(0.125 * math.log(2), rel=1e-6)
    advice = _run(
        [python, "-m", "kerasloss", "recommend", "binary", "--imbalance", "50"], cwd=tmp_path, env=environment
    )
    assert advice.startswith("model.compile(loss=kerasloss.")


def _installed(distribution):
    try:
        return bool(importlib.metadata.version(distribution))
    except importlib.metadata.PackageNotFoundError:
        return False


def _run(command, output=False, **kwargs):
    """The command's stdout (with its stderr if `output`); its failure, with both, fails the test."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr if output else done.stdout
