"""Keras internals are reached in one module: kerasloss/core/keras_private.py imports the three keras.src names
the library needs, names the Keras versions it was tested on, and no other module imports keras.src."""

import ast
import pathlib
import re
import tomllib

import keras

from kerasloss.core import keras_private

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_only_keras_private_imports_keras_src():
    reaching = sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "kerasloss").rglob("*.py")
        if any(name == "keras.src" or name.startswith("keras.src.") for name in _imports(path))
    )
    assert reaching == ["kerasloss/core/keras_private.py"]


def test_the_names_are_keras_own():
    assert keras_private.get_keras_mask.__module__.startswith("keras.src")
    assert keras_private.set_keras_mask.__module__.startswith("keras.src")
    assert keras_private.reduce_weighted_values.__module__.startswith("keras.src")


def test_the_oldest_tested_keras_is_the_floor_the_package_declares():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(re.fullmatch(r"keras>=([\d.]+)", d).group(1) for d in dependencies if d.startswith("keras"))
    assert floor == keras_private.TESTED[0]
    version = tuple(int(part) for part in keras.__version__.split(".")[:2])
    assert version >= tuple(int(part) for part in floor.split(".")[:2])
