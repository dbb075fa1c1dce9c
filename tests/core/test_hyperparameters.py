"""Hyperparameters declared once: the checks refuse a bad value naming the argument and the value, NumPy values are
taken like Python ones, and a loss function and its class refuse with one message."""

import numpy as np
import pytest

import kerasloss
from kerasloss.core import hyperparameters as checks
from kerasloss.core import registry


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: checks.non_negative("gamma", v), -1e-9),
        (lambda v: checks.positive("temperature", v), 0.0),
        (lambda v: checks.unit_interval("alpha", v), 1.0001),
        (lambda v: checks.smoothing("label_smoothing", v), 1.0),
        (lambda v: checks.alpha_weights("alpha", v), True),
        (lambda v: checks.alpha_weights("alpha", v), "0.5"),
        (lambda v: checks.boolean("from_logits", v), 1),
        (lambda v: checks.half_open_unit_interval("beta", v), 1.0),
        (lambda v: checks.at_least(-1.0)("epsilon", v), -1.01),
        (lambda v: checks.class_counts("class_counts", v), [3, 0]),
        (lambda v: checks.class_counts("class_counts", v), []),
        (lambda v: checks.class_counts("class_counts", v), None),
        (lambda v: checks.class_weights("class_weights", v), [1.0, -0.5]),
        (lambda v: checks.class_weights("class_weights", v), 2.0),
        (lambda v: checks.class_alpha("alpha", v), 1.5),
        (lambda v: checks.class_alpha("alpha", v), [0.5, -1.0]),
    ],
)
def test_checks_reject_with_argument_and_value(check, value):
    with pytest.raises(ValueError, match=r"Invalid value for argument `\w+`\. Expected .*Received: \w+="):
        check(value)


def test_checks_normalise_values():
    assert checks.alpha_weights("alpha", [0, 1]) == (0.0, 1.0)
    assert checks.alpha_weights("alpha", None) is None
    assert checks.smoothing("label_smoothing", 0) == 0.0
    assert checks.class_counts("class_counts", np.array([9, 1])) == (9.0, 1.0)
    assert checks.class_weights("class_weights", None) is None
    assert checks.class_alpha("alpha", [0.2, 2.6]) == (0.2, 2.6)  # per-class weights may exceed 1
    assert checks.class_alpha("alpha", 0.25) == 0.25
    assert checks.at_least(-1.0)("epsilon", -1) == -1.0


def _as_numpy(value):
    """The NumPy form a user might pass: float64/int64/bool_ scalars, str_, and arrays for lists."""

    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, str):
        return np.str_(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    return value


def _all_cases():
    from tests.cases import CASES

    return CASES


@pytest.mark.parametrize("case", _all_cases(), ids=str)
def test_numpy_hyperparameters_are_taken_like_python_ones(case):
    import json

    numpy_kwargs = {key: _as_numpy(value) for key, value in case.kwargs.items()}
    loss = case.cls(**numpy_kwargs)
    config = loss.get_config()
    assert config == case.make().get_config()
    json.dumps(config)  # plain JSON: no NumPy scalar or array inside
    assert all(type(v) in (bool, int, float, str, list, type(None)) for v in config.values())


def test_numpy_scalars_and_arrays_the_issue_names():

    assert kerasloss.FocalLoss(gamma=np.float32(2.0)).gamma == 2.0
    assert kerasloss.FocalLoss(gamma=np.int64(2)).get_config()["gamma"] == 2.0
    assert kerasloss.FocalLoss(from_logits=np.bool_(True)).from_logits is True
    frequencies = np.array([0.9, 0.1])
    loss = kerasloss.SparseCategoricalFocalLoss(alpha=1 - frequencies)
    assert loss.get_config()["alpha"] == [0.09999999999999998, 0.9]
    assert kerasloss.FocalLoss(alpha=np.float32(0.75)).get_config()["alpha"] == pytest.approx(0.75)
    assert kerasloss.TripletLoss(mining=np.str_("hard")).get_config()["mining"] == "hard"


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda np: kerasloss.FocalLoss(gamma=np.float32(-1.0)), "gamma"),
        (lambda np: kerasloss.FocalLoss(gamma=np.float64("nan")), "gamma"),
        (lambda np: kerasloss.FocalLoss(gamma=np.bool_(True)), "gamma"),
        (lambda np: kerasloss.FocalLoss(alpha=np.array([0.5, 1.5])), "alpha"),
        (lambda np: kerasloss.FocalLoss(alpha=np.array([[0.5]])), "alpha"),
        (lambda np: kerasloss.FocalLoss(from_logits=np.int64(1)), "from_logits"),
        (lambda np: kerasloss.NTXent(temperature=np.float32(0.0)), "temperature"),
    ],
)
def test_numpy_values_are_validated_the_same_way(make, argument):

    with pytest.raises(ValueError, match=f"Invalid value for argument `{argument}`"):
        make(np)


def _registered_classes():
    return sorted({cls for cls in registry._REGISTRY.values()}, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", _registered_classes(), ids=lambda cls: cls.__name__)
def test_each_loss_declares_its_hyperparameters_once(cls):
    """The checks live on the functional form (`@hyperparameters`); the class's signature repeats its
    defaults for help() and IDEs, in the same order, and runs the same checks at construction."""
    import inspect

    function = cls.function
    declared = {
        p.name: p.default
        for p in inspect.signature(function).parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name not in function.passed_through  # a reference set is no setting
    }
    constructor = {
        p.name: p.default
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name not in ("self", "reduction", "name", "dtype", *function.renamed)
    }
    assert list(constructor.items()) == list(declared.items())
    assert callable(function.check) and callable(function.unchecked)
    values = {"num_classes": 3, "class_counts": [3, 2, 1]}
    required = {name: values[name] for name, default in declared.items() if default is inspect.Parameter.empty}
    assert cls(**required).get_config().keys() >= declared.keys()


@pytest.mark.parametrize(
    ("function", "cls", "argument", "value"),
    [
        (kerasloss.binary_focal_loss, kerasloss.FocalLoss, "gamma", -1.0),
        (kerasloss.nt_xent, kerasloss.NTXent, "similarity", "cosin"),
        (kerasloss.info_nce, kerasloss.InfoNCE, "symmetric", "yes"),
        (kerasloss.kl_divergence, kerasloss.KLDivergence, "from_logits", 1),
        (kerasloss.triplet_loss, kerasloss.TripletLoss, "mining", "hardest"),
        (kerasloss.sparse_categorical_crossentropy, kerasloss.SparseCategoricalCrossentropy, "ignore_class", 2.5),
        (kerasloss.multitask_loss, kerasloss.MultiTaskLoss, "threshold", 1.0),
    ],
)
def test_function_and_class_refuse_a_value_with_one_message(function, cls, argument, value):
    """A typo such as similarity="cosin" used to reach the function unchecked (and compute a dot product)."""

    with pytest.raises(ValueError) as by_class:
        cls(**{argument: value})
    with pytest.raises(ValueError) as by_function:
        function(np.zeros((2, 1)), np.zeros((2, 2, 3), "float32"), **{argument: value})
    assert str(by_function.value) == str(by_class.value)
    assert f"`{argument}`" in str(by_class.value)


def test_a_function_refuses_an_argument_it_does_not_take():

    with pytest.raises(TypeError, match="unexpected keyword argument 'gama'"):
        kerasloss.binary_focal_loss(np.zeros((2, 1)), np.zeros((2, 1), "float32"), gama=2.0)
