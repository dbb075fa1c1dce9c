"""keras-tuner's internals are reached through one module, on the version the harness was written against."""

import pathlib
import re

import keras_tuner
import pytest

from sweeps import tuner_internals

SWEEPS = pathlib.Path(tuner_internals.__file__).parent


def test_the_pinned_version_is_the_installed_one():
    assert keras_tuner.__version__ == tuner_internals.TESTED_VERSION


def test_another_keras_tuner_is_refused_saying_what_to_install():
    with pytest.raises(
        ImportError, match=r"keras-tuner 1\.4\.8 only; found 1\.5\.0\. .*pip install keras-tuner==1\.4\.8"
    ):
        tuner_internals.check_version("1.5.0")


def test_no_other_module_of_the_harness_reaches_into_keras_tuner():
    private = re.compile(r"keras_tuner\.src|\._retry_queue|\bconditions\.print")
    offenders = [
        path.name
        for path in SWEEPS.rglob("*.py")
        if path.name != "tuner_internals.py" and private.search(path.read_text())
    ]
    assert offenders == []
