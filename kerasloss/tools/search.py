"""A loss's search space for your own keras-tuner `HyperModel`, in one line:

    from kerasloss.tools.search import choice

    def build(hp):
        model = ...
        loss = kerasloss.search_space(hp, "focal", gamma=(0.5, 5.0), alpha=choice(0.25, 0.5, 0.75))
        model.compile(optimizer="adam", loss=loss)
        return model

kerasloss does not import keras-tuner: `hp` is the `keras_tuner.HyperParameters` your tuner passes in.
"""

import dataclasses
import inspect
import itertools
import numbers
import warnings

from kerasloss.core.registry import _REGISTRY, FromLogitsWarning, _normalize_name, get

__all__ = ["search_space"]

# Beyond this many combinations of the searched values' extremes, each argument is checked with the
# fixed ones only (a product of many long choices would cost more than the search it guards).
_MOST_COMBINATIONS = 4096
_NO_DEFAULT = object()  # a required argument: a range of integers is an `hp.Int`


@dataclasses.dataclass(frozen=True)
class Choice:
    """A choice among `values`, spelled out: `choice(0.25, 0.5, 0.75)`.

    >>> kerasloss.tools.search.choice(0.25, 0.75)
    Choice(values=(0.25, 0.75))
    """

    values: tuple


@dataclasses.dataclass(frozen=True)
class Fixed:
    """One value, not searched, spelled out: `fixed([0.1, 0.5, 0.9])`.

    >>> kerasloss.tools.search.fixed([0.1, 0.9])
    Fixed(value=[0.1, 0.9])
    """

    value: object


def choice(*values) -> Choice:
    """A choice among `values` (`hp.Choice`), for an argument where a plain list would also be one value
    of the argument (focal's `alpha`, pinball's `quantiles` take a list per class / per output)."""
    return Choice(tuple(values))


def fixed(value) -> Fixed:
    """`value` as given, not searched, for an argument where a plain list would read as a choice."""
    return Fixed(value)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class _Space:
    """One argument's space: how to declare it on `hp`, and the values a validity check must try (a
    choice's every value, a range's ends, the fixed value)."""

    declare: object  # hp -> the value chosen for this trial
    extremes: tuple


def _choice_space(name, values):
    if not values:
        raise ValueError(f"search_space: `{name}`: a choice needs at least one value, got []")
    odd = [value for value in values if not isinstance(value, (str, bool, numbers.Real))]
    if odd:
        raise ValueError(
            f"search_space: `{name}`: keras-tuner chooses among numbers, strings and booleans only; got {odd[0]!r}. "
            "Choose among named settings in your own build(hp) instead."
        )
    values = list(values)
    return _Space(lambda hp: hp.Choice(name, values), tuple(values))


def _range_space(name, space, default):
    log = len(space) == 3 and space[2] == "log"
    if len(space) not in (2, 3) or (len(space) == 3 and not log) or not all(map(_is_number, space[:2])):
        raise ValueError(
            f"search_space: `{name}`: a range is (low, high) or (low, high, 'log') of numbers, got {space!r}"
        )
    low, high = space[:2]
    if not low < high:
        raise ValueError(f"search_space: `{name}`: a range needs low < high, got {space!r}")
    if log and low <= 0:
        raise ValueError(f"search_space: `{name}`: a log range needs low > 0, got {space!r}")
    sampling = "log" if log else "linear"
    integral = all(isinstance(end, numbers.Integral) for end in (low, high))
    if (isinstance(default, numbers.Integral) and not isinstance(default, bool)) or (
        default is _NO_DEFAULT and integral
    ):
        low, high = int(low), int(high)
        return _Space(lambda hp: hp.Int(name, low, high, sampling=sampling), (low, high))
    low, high = float(low), float(high)
    return _Space(lambda hp: hp.Float(name, low, high, sampling=sampling), (low, high))


def _fixed_space(name, value):
    # keras-tuner's Fixed holds one number, string or bool; None or a list value (per-class weights) is
    # passed to the loss as is, undeclared.
    if isinstance(value, (str, bool, numbers.Real)):
        return _Space(lambda hp: hp.Fixed(name, value), (value,))
    return _Space(lambda hp: value, (value,))


def _accepts(cls, arguments):
    try:
        cls(**arguments)
    except (TypeError, ValueError):
        return False
    return True


def _raises_value_error(cls, name, value):
    """Whether `value` alone is refused (a ValueError), not merely missing a required argument."""
    try:
        cls(**{name: value})
    except ValueError:
        return True
    except TypeError:
        return False
    return False


def _list_space(cls, loss, name, values, base):
    """A plain list is a choice, unless the loss also takes the whole list as one value of the argument
    (then it is that value when no item is a value alone, and refused as ambiguous when each is)."""
    whole = _accepts(cls, {**base, name: values})
    if not whole:
        return _choice_space(name, values)
    if not all(_accepts(cls, {**base, name: value}) for value in values):
        return _fixed_space(name, values)
    raise ValueError(
        f"search_space: `{name}`={values!r} reads two ways for {loss!r}: one value of `{name}` (a list) or a "
        f"choice among its items. Say which: `{name}=kerasloss.tools.search.fixed({values!r})` or "
        f"`{name}=kerasloss.tools.search.choice({', '.join(map(repr, values))})`."
    )


def _spaces(cls, loss, space, defaults):
    """Each argument's _Space; fixed values first, so a list is read against them."""
    fixed_values = {
        name: value.value if isinstance(value, Fixed) else value
        for name, value in space.items()
        if not isinstance(value, (list, tuple, Choice))
    }
    spaces = {}
    for name, value in space.items():
        if isinstance(value, Choice):
            spaces[name] = _choice_space(name, value.values)
        elif isinstance(value, tuple):
            spaces[name] = _range_space(name, value, defaults.get(name, _NO_DEFAULT))
        elif isinstance(value, list):
            spaces[name] = _list_space(cls, loss, name, value, fixed_values)
        else:
            spaces[name] = _fixed_space(name, fixed_values[name])
    return spaces


def _described(values):
    return ", ".join(f"`{name}`={value!r}" for name, value in values.items())


def _check(cls, loss, values, name=None):
    """Build the loss with `values`; a refusal names them, `name` first (the argument being tried)."""
    try:
        cls(**values)
    except (TypeError, ValueError) as error:
        others = {key: value for key, value in values.items() if key != name}
        if name is None:
            culprit = _described(values) + " together are"
        elif not others or _raises_value_error(cls, name, values[name]):
            culprit = f"`{name}`={values[name]!r} is"
        else:
            culprit = f"`{name}`={values[name]!r} with {_described(others)} is"
        raise ValueError(f"search_space: {culprit} outside what {loss!r} accepts: {error}") from None


def _check_extremes(cls, loss, spaces):
    """Every argument's extremes with the fixed values, then every combination of the searched ones'
    extremes (a range's end valid alone can still fail beside another value: `delta=1000` in float16)."""
    fixed_values = {name: s.extremes[0] for name, s in spaces.items() if len(s.extremes) == 1}
    searched = {name: s.extremes for name, s in spaces.items() if len(s.extremes) > 1}
    firsts = {name: extremes[0] for name, extremes in searched.items()}  # a searched required argument too
    for name, space in spaces.items():
        for value in space.extremes:
            others = {key: v for key, v in firsts.items() if key != name and _required(cls, key)}
            _check(cls, loss, {**fixed_values, **others, name: value}, name)
    count = 1
    for extremes in searched.values():
        count *= len(extremes)
    if len(searched) < 2 or count > _MOST_COMBINATIONS:
        return
    for combination in itertools.product(*searched.values()):
        _check(cls, loss, {**fixed_values, **dict(zip(searched, combination, strict=True))})


def _required(cls, name):
    parameter = inspect.signature(cls.__init__).parameters.get(name)
    return parameter is not None and parameter.default is inspect.Parameter.empty


def _loss_class(loss):
    cls = _REGISTRY.get(_normalize_name(loss)) if isinstance(loss, str) and len(loss) <= 100 else None
    if cls is None:
        get(loss)  # raises, listing the valid names
    return cls


def _check_arguments(cls, loss, space):
    parameters = inspect.signature(cls.__init__).parameters
    for name in space:
        if name not in parameters or name == "self":
            raise ValueError(f"search_space: {loss!r} takes no argument `{name}`")
    required = [n for n, p in parameters.items() if n != "self" and p.default is inspect.Parameter.empty]
    for name in required:
        if name not in space and parameters[name].kind is not inspect.Parameter.VAR_KEYWORD:
            raise ValueError(f"search_space: {loss!r} needs `{name}`: give it a value, fixed or searched")
    return {n: p.default for n, p in parameters.items() if p.default is not inspect.Parameter.empty}


def search_space(hp, loss, **space):
    """Declare the search space of `loss`'s arguments on `hp` and return the loss built with the values
    the tuner chose for this trial.

    Each keyword names an argument of the loss: a list is a choice (`hp.Choice`), a tuple `(low, high)` a
    range (`hp.Float`; `hp.Int` for an argument whose default is an integer, so `alpha=(0, 1)` is the
    interval, not {0, 1}), `(low, high, "log")` a log-scaled range, and any other value is fixed
    (`hp.Fixed`). Where the loss also takes a whole list as one value of an argument (focal's per-class
    `alpha`, pinball's `quantiles`), a list whose items are each valid too is refused as ambiguous: say
    `kerasloss.tools.search.choice(0.25, 0.75)` or `kerasloss.tools.search.fixed([0.1, 0.5, 0.9])`. The hyperparameters
    are named after the arguments; as everywhere in keras-tuner, a name already declared on `hp` (a
    tuner's trial declares the whole space before `build(hp)` runs) gives the value set for it, so two
    losses in one model cannot both search an argument of the same name.

    Every value the space can produce is checked against what the loss accepts before the search starts,
    with the fixed arguments and in combination with the other searched ones (up to 4096 combinations of
    their extremes): an argument the loss does not take, a required one left out, or a range that reaches
    outside the valid values (`gamma=(-1.0, 2.0)`; `delta=(1.0, 1000.0)` with `dtype="float16"`) raises
    `ValueError` naming the arguments.

    Args:
        hp: a `keras_tuner.HyperParameters` (the one your `build(hp)` receives).
        loss: a `kerasloss.get` name ("focal", "triplet", ...).
        **space: the arguments' choices, ranges and fixed values.

    Returns:
        The loss for this trial, a `keras.losses.Loss`.
    """
    cls = _loss_class(loss)
    with warnings.catch_warnings():  # probes: only the loss returned below decides from_logits
        warnings.simplefilter("ignore", FromLogitsWarning)
        defaults = _check_arguments(cls, loss, space)
        spaces = _spaces(cls, loss, space, defaults)
        _check_extremes(cls, loss, spaces)
        declared = {name: s.declare(hp) for name, s in spaces.items()}
    return get(loss, **declared)
