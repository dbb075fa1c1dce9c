"""A sweep resumes only with the model its trials were run with (`sweeps.state.fingerprint`): what a model
function computes is fingerprinted, not only its own lines: a partial's arguments, a callable object's
attributes, a closure's variables, the helper modules it imports from the spec's folder. What cannot be
read is refused; what has not changed (another process, a moved folder) still resumes."""

import functools
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sweeps import sources, state
from sweeps import spec as specs

NET = """
import keras
import helpers


def build(input_shape, outputs, width=4):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, keras.layers.Dense(outputs)(helpers.block(inputs, width)))
"""
HELPERS = """
import keras


def block(x, width):
    return keras.layers.Dense(width, activation="relu")(x)
"""


def _spec(name="fp"):
    table = {
        "name": name,
        "task": "binary",
        "objective": {"name": "pr_auc"},
        "space": {"loss": {"choice": ["FocalLoss"]}},
    }
    return specs.from_dict(table, data_given=True, model_given=True)


def _model(function):
    return state.fingerprint(_spec(), "data", function)["model"]


def _folder(path):
    path.mkdir(parents=True, exist_ok=True)
    (path / "net.py").write_text(NET)
    (path / "helpers.py").write_text(HELPERS)
    return str(path)


def _touch(path):
    os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 10**9))  # a new modification time: loaded again


def test_a_partials_arguments_are_part_of_the_fingerprint(tmp_path):
    build = sources.import_function("net:build", _folder(tmp_path))
    narrow, wide = functools.partial(build, width=2), functools.partial(build, width=512)
    assert _model(narrow) != _model(wide)  # before: both the digest of None
    assert _model(narrow) == _model(functools.partial(build, width=2))


def test_a_resumed_sweep_with_another_partial_is_refused(tmp_path):
    build = sources.import_function("net:build", _folder(tmp_path / "spec"))
    spec, folder = _spec(), str(tmp_path / "state")
    state.write(spec, state.fingerprint(spec, "data", functools.partial(build, width=2)), folder, trials=2)
    state.check(spec, state.fingerprint(spec, "data", functools.partial(build, width=2)), folder)  # resumes
    with pytest.raises(state.StateError, match=r"the spec changed since the trials .* were run: model\."):
        state.check(spec, state.fingerprint(spec, "data", functools.partial(build, width=512)), folder)


def test_an_edited_helper_module_beside_the_spec_changes_the_fingerprint(tmp_path):
    folder = _folder(tmp_path)
    before = _model(sources.import_function("net:build", folder))
    (tmp_path / "helpers.py").write_text(HELPERS.replace('activation="relu"', 'activation="tanh"'))
    _touch(tmp_path / "helpers.py")
    assert _model(sources.import_function("net:build", folder)) != before  # before: net.py's own lines only


class Builder:
    """A callable object: its attributes decide the model."""

    def __init__(self, width):
        self.width = width

    def __call__(self, input_shape, outputs):
        import keras

        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs)(keras.layers.Dense(self.width)(inputs)))


def _closure(width):
    def build(input_shape, outputs):
        return Builder(width)(input_shape, outputs)

    return build


def test_callable_objects_closures_and_defaults_are_read():
    assert _model(Builder(2)) != _model(Builder(3)) and _model(Builder(2)) == _model(Builder(2))
    assert _model(_closure(2)) != _model(_closure(3))
    assert _model(Builder(2).__call__) != _model(Builder(3).__call__)

    def narrow(input_shape, outputs, width=2):
        return Builder(width)(input_shape, outputs)

    def wide(input_shape, outputs, width=3):
        return Builder(width)(input_shape, outputs)

    wide.__qualname__ = narrow.__qualname__
    assert _model(narrow) != _model(wide)


def test_a_keras_object_as_an_argument_is_read_by_its_configuration(tmp_path):
    import keras

    build = sources.import_function("net:build", _folder(tmp_path))
    first = functools.partial(build, initializer=keras.initializers.GlorotUniform(seed=1))
    second = functools.partial(build, initializer=keras.initializers.GlorotUniform(seed=2))
    assert _model(first) != _model(second)


def test_a_function_without_source_is_read_by_its_code():
    namespace = {}
    exec("def narrow(input_shape, outputs):\n    return 2\n", namespace)  # no file: inspect.getsource fails
    exec("def wide(input_shape, outputs):\n    return 512\n", namespace)
    wide = namespace["wide"]
    wide.__qualname__ = "narrow"
    assert _model(namespace["narrow"]) != _model(wide)


def test_what_cannot_be_read_is_refused(tmp_path):
    build = sources.import_function("net:build", _folder(tmp_path))
    with pytest.raises(specs.SpecError, match=r"`model`: the model function cannot be fingerprinted: an argument of "
                       r"its functools.partial is a numpy.random._generator.Generator object"):  # fmt: skip
        _model(functools.partial(build, rng=np.random.default_rng(0)))


FINGERPRINT = """
import sys
from sweeps import sources, spec, state
function = sources.import_function("net:build", sys.argv[1])
table = {"name": "fp", "task": "binary", "objective": {"name": "pr_auc"}, "space": {"loss": {"choice": ["FocalLoss"]}}}
print(state.fingerprint(spec.from_dict(table, data_given=True, model_given=True), "data", function)["model"])
"""


@pytest.mark.slow
def test_an_unchanged_model_has_one_fingerprint_in_every_process_and_folder(tmp_path):
    folder = _folder(tmp_path / "first")
    moved = shutil.copytree(folder, tmp_path / "moved")  # a new checkout of the same files
    (tmp_path / "fingerprint.py").write_text(textwrap.dedent(FINGERPRINT))

    def fingerprint(where, seed):
        environment = {**os.environ, "PYTHONHASHSEED": str(seed)}  # sets iterate in another order
        command = [sys.executable, str(tmp_path / "fingerprint.py"), str(where)]
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300, check=True)
        return done.stdout.strip()

    here = _model(sources.import_function("net:build", folder))
    assert fingerprint(folder, 1) == fingerprint(moved, 2) == here
