"""The docstrings a user reads in `help()` and Jupyter: every example in them runs as a doctest, and every
public loss, layer and model documents its arguments, its inputs, a reference and a `compile()` example.

The doctests run on whichever backend the suite runs on (`KERAS_BACKEND`); their printed values are
rounded so that TensorFlow, JAX and PyTorch agree. Their namespace holds `kerasloss`, `keras` and `np`.
"""

import doctest
import importlib
import inspect
import pkgutil

import keras
import numpy as np
import pytest

import kerasloss

# `python -m kerasloss` itself (parses sys.argv when run, not when imported) holds no examples.
MODULES = sorted(
    info.name for info in pkgutil.walk_packages(kerasloss.__path__, "kerasloss.") if info.name != "kerasloss.__main__"
)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _doctests():
    finder = doctest.DocTestFinder()
    found = []
    for name in ["kerasloss", *MODULES]:
        module = importlib.import_module(name)
        globs = {"kerasloss": kerasloss, "keras": keras, "np": np}
        found += [test for test in finder.find(module, name, globs=globs) if test.examples]
    return sorted(found, key=lambda test: test.name)


DOCTESTS = _doctests()


@pytest.mark.parametrize("test", DOCTESTS, ids=[test.name for test in DOCTESTS])
def test_docstring_examples(test):
    report = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


def _public(predicate):
    return sorted(
        (name for name in kerasloss.__all__ if predicate(getattr(kerasloss, name))),
        key=str.lower,
    )


def _is_loss(obj):
    # kerasloss.Loss, the base class, computes nothing: its subclasses are the losses.
    return inspect.isclass(obj) and issubclass(obj, keras.losses.Loss) and obj is not kerasloss.Loss


def _is_layer_or_model(obj):
    return inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)


LOSSES = _public(_is_loss)
LAYERS = _public(_is_layer_or_model)
LOSS_DOC = ("Args:", "reduction", "name", "dtype", "y_true", "y_pred", "Example", ">>>", "model.compile")


def test_every_loss_and_layer_is_checked():
    assert len(LOSSES) >= 19 and {"FocalLoss", "TripletLoss", "MultiTaskLoss"} <= set(LOSSES)
    assert {"LearnableTemperature", "UncertaintyWeighting", "UncertaintyWeightedModel"} <= set(LAYERS)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_docstring_is_complete(name):
    """What Keras' own loss docstrings hold: a one-line summary, the formula, every argument (with
    `reduction`, `name`, `dtype`), the inputs, a runnable example ending in `model.compile`, a reference."""
    cls = getattr(kerasloss, name)
    doc = inspect.getdoc(cls) or ""
    missing = [word for word in LOSS_DOC if word not in doc]
    assert not missing, f"{name}'s docstring lacks {missing}"
    assert "http" in doc or "doi" in doc.lower(), f"{name}'s docstring cites no reference with a link or DOI"
    summary = doc.splitlines()[0]
    assert summary.endswith(".") and len(doc.splitlines()) > 20, f"{name}: {summary!r} is no full docstring"
    hyperparameters = set(inspect.signature(cls.__init__).parameters) - {"self"}
    undocumented = [arg for arg in sorted(hyperparameters) if f"\n    {arg}:" not in doc]
    assert not undocumented, f"{name}'s Args do not describe {undocumented}"


@pytest.mark.parametrize("name", LAYERS)
def test_layer_docstring_is_complete(name):
    doc = inspect.getdoc(getattr(kerasloss, name)) or ""
    missing = [word for word in ("Args:", "Example", ">>>", "https://arxiv.org/abs/") if word not in doc]
    assert not missing, f"{name}'s docstring lacks {missing}"


@pytest.mark.parametrize("name", LOSSES)
def test_functional_form_hyperparameters_are_annotated(name):
    """Type hints on the public functions: every keyword-only hyperparameter of a loss's function."""
    function = getattr(kerasloss, name).function
    keywords = [p for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY]
    unannotated = [p.name for p in keywords if p.annotation is inspect.Parameter.empty]
    assert not unannotated, f"{function.__name__} has no type hint on {unannotated}"
