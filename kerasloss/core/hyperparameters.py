"""Hyperparameters declared once per loss function: `@hyperparameters(gamma=non_negative, ...)` and the
checks it takes. Each check is `(argument name, value) -> normalized value` and raises one message shape,
Keras' own (`errors.invalid_argument`)."""

import functools
import inspect
import math
from collections.abc import Callable

from kerasloss.core.errors import invalid_argument


def passed_through(argument, value):
    """Declares a keyword-only argument of a loss function that is no hyperparameter (a reference set of
    embeddings): it is passed through unchecked, is not a constructor argument and is not in `get_config()`."""
    return value


def hyperparameters(renamed: "dict[str, str] | None" = None, **checks: "Callable[[str, object], object]") -> "Callable":
    """Declare a loss function's hyperparameters once: each keyword-only argument and its check.

        @hyperparameters(gamma=non_negative, alpha=alpha_weights, from_logits=boolean)
        def binary_focal_loss(y_true, y_pred, *, gamma=2.0, alpha=0.25, from_logits=False): ...

    The decorated function checks its arguments on every call, so `binary_focal_loss(y, p, gamma=-1)`
    raises exactly as `FocalLoss(gamma=-1)` does; a `Loss` class whose `function` it is runs the same
    checks once, at construction (`function.check`), and then calls the function unchecked
    (`function.unchecked`). The defaults are the function's; the class's signature repeats them for
    `help()` and IDEs, and a test holds the two equal. Each check takes (argument name, value) and
    returns the normalized value. Every keyword-only argument must be declared, and only those; one
    declared `passed_through` (a reference set) is passed through as is, and is no hyperparameter.

    `renamed` maps an argument's former name to its name now ({"similarity": "distance"}): the former
    name is still accepted, by the function and by the class (so a `.keras` file saved before the rename
    loads), and means the new one; giving both is an error.
    """
    renamed = dict(renamed or {})

    def decorate(function):
        parameters = inspect.signature(function).parameters.values()
        defaults = {p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
        if set(defaults) != set(checks) or not set(renamed.values()) <= set(checks):
            raise RuntimeError(f"{function.__name__}: declare a check for exactly {sorted(defaults)}")
        passed_names = {name for name, check in checks.items() if check is passed_through}
        hyper = {name: default for name, default in defaults.items() if name not in passed_names}

        def check(**values):
            spelled = {}  # a value given by its former name is checked, and reported, under that name
            for old, new in renamed.items():
                if old in values:
                    value = values.pop(old)
                    if value is None:
                        continue
                    if new in values and values[new] != value:
                        raise ValueError(
                            f"Pass `{new}` only (`{old}` is its former name). Received: {old}={value!r}, "
                            f"{new}={values[new]!r}"
                        )
                    values[new] = value
                    spelled[new] = old
            unknown = sorted(set(values) - set(hyper))
            if unknown:
                raise TypeError(f"{function.__name__}() got an unexpected keyword argument {unknown[0]!r}")
            given = {**hyper, **values}
            missing = [name for name, value in given.items() if value is inspect.Parameter.empty]
            if missing:
                raise TypeError(f"{function.__name__}() missing required keyword argument {missing[0]!r}")
            return {name: checks[name](spelled.get(name, name), given[name]) for name in hyper}

        @functools.wraps(function)
        def checked(y_true, y_pred, **values):
            passed = {name: values.pop(name) for name in passed_names if name in values}
            return function(y_true, y_pred, **check(**values), **passed)

        checked.check, checked.unchecked = check, function
        checked.renamed, checked.passed_through = dict(renamed), frozenset(passed_names)
        return checked

    return decorate


def default_of(function, argument):
    """The default of a declared function's keyword argument."""
    return inspect.signature(getattr(function, "unchecked", function)).parameters[argument].default


# The checks: each takes (argument name, value) and returns the normalized value. The layers and models
# use the same ones: `positive("max_scale", value)`, `one_of("mean", "max")("pooling", value)`.


def _plain(value):
    """NumPy scalars and arrays (and 0-d backend tensors) as the Python number, bool, str or list they
    hold: `np.float32(2.0)` is 2.0 and `np.array([0.3, 0.7])` is [0.3, 0.7], checked like those, and
    `get_config()` stays plain JSON. Anything else is returned as is."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    if getattr(value, "ndim", 0) >= 1 and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, str):
        return str(value)  # np.str_ -> str
    return value


def _real(argument, value, expected):
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_argument(argument, expected, value)
    try:
        value_ = float(value)  # 10**400 is an int no float can hold
    except OverflowError:
        raise invalid_argument(argument, expected, f"{str(value)[:20]}... ({len(str(value))} digits)") from None
    if not math.isfinite(value_):
        raise invalid_argument(argument, expected, value)
    return value_


def non_negative(argument, value):
    """gamma, margin: a finite float >= 0."""
    value_ = _real(argument, value, "a finite float >= 0")
    if value_ < 0:
        raise invalid_argument(argument, "a finite float >= 0", value)
    return value_


def positive(argument, value):
    """temperature, delta, weights: a finite float > 0."""
    value_ = _real(argument, value, "a finite float > 0")
    if value_ <= 0:
        raise invalid_argument(argument, "a finite float > 0", value)
    return value_


def unit_interval(argument, value):
    """A weight or probability: a float in [0, 1]."""
    value_ = _real(argument, value, "a float in [0, 1]")
    if not 0 <= value_ <= 1:
        raise invalid_argument(argument, "a float in [0, 1]", value)
    return value_


def open_unit_interval(argument, value):
    """A threshold: a float in (0, 1)."""
    value_ = _real(argument, value, "a float in (0, 1)")
    if not 0 < value_ < 1:
        raise invalid_argument(argument, "a float in (0, 1)", value)
    return value_


def smoothing(argument, value):
    """label_smoothing: a float in [0, 1) (1 would make every target uniform)."""
    value_ = _real(argument, value, "a float in [0, 1)")
    if not 0 <= value_ < 1:
        raise invalid_argument(argument, "a float in [0, 1)", value)
    return value_


def boolean(argument, value):
    """from_logits and other switches: True or False (not 0, 1 or "yes")."""
    value = _plain(value)
    if not isinstance(value, bool):
        raise invalid_argument(argument, "True or False", value)
    return value


def unit_values(argument, value):
    """quantiles (one per output): a float in [0, 1] or a non-empty sequence of them (a tuple back)."""
    return _unit_values(argument, value, optional=False)


def alpha_weights(argument, value):
    """alpha: None (no weighting), a float in [0, 1], or a non-empty sequence of them (per class/label)."""
    return _unit_values(argument, value, optional=True)


def _unit_values(argument, value, *, optional):
    expected = ("None, " if optional else "") + "a float in [0, 1], or a non-empty list of floats in [0, 1]"
    value = _plain(value)
    if value is None and optional:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            raise invalid_argument(argument, expected, value)
        try:
            return tuple(unit_interval(argument, v) for v in value)
        except ValueError:
            raise invalid_argument(argument, expected, value) from None
    try:
        return unit_interval(argument, value)
    except ValueError:
        raise invalid_argument(argument, expected, value) from None


def integer(argument, value):
    """axis, num_classes: an integer (not a bool, not a float)."""
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_argument(argument, "an integer", value)
    return value


def optional_integer(argument, value):
    """ignore_class: an integer or None."""
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_argument(argument, "an integer or None", value)
    return value


def one_of(*choices):
    """A check that the value is one of `choices` (strings): `one_of("mean", "max")`."""

    def check(argument, value):
        value = _plain(value)
        if not isinstance(value, str) or value not in choices:
            raise invalid_argument(argument, f"one of {list(choices)}", value)
        return value

    return check


def half_open_unit_interval(argument, value):
    """beta, clip: a float in [0, 1)."""
    value_ = _real(argument, value, "a float in [0, 1)")
    if not 0 <= value_ < 1:
        raise invalid_argument(argument, "a float in [0, 1)", value)
    return value_


def at_least(bound):
    """A check that the value is a finite float >= `bound`: `at_least(-1.0)` (PolyLoss's epsilon)."""
    expected = f"a finite float >= {bound:g}"

    def check(argument, value):
        value_ = _real(argument, value, expected)
        if value_ < bound:
            raise invalid_argument(argument, expected, value)
        return value_

    return check


def class_counts(argument, value):
    """class_counts: a non-empty list of finite numbers > 0, one per class (a tuple of floats back)."""
    return _per_class(argument, value, positive, "a non-empty list of counts > 0, one per class")


def class_weights(argument, value):
    """Per-class weights: None, or a non-empty list of finite floats >= 0, one per class."""
    if _plain(value) is None:
        return None
    return _per_class(argument, value, non_negative, "None, or a non-empty list of weights >= 0, one per class")


def class_alpha(argument, value):
    """alpha of the softmax focal losses: None, one float in [0, 1] for every class, or a per-class list
    of weights >= 0 (class-balanced weights sum to the number of classes, so exceed 1)."""
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        return _per_class(argument, value, non_negative, "None, a float in [0, 1], or a list of weights >= 0")
    try:
        return alpha_weights(argument, value)
    except ValueError:
        raise invalid_argument(argument, "None, a float in [0, 1], or a list of weights >= 0", value) from None


def _per_class(argument, value, check, expected):
    value = _plain(value)
    if not isinstance(value, (list, tuple)) or not value:
        raise invalid_argument(argument, expected, value)
    try:
        return tuple(check(argument, v) for v in value)
    except ValueError:
        raise invalid_argument(argument, expected, value) from None
