"""A loss's search space for your own keras-tuner `HyperModel`, in one line:

    def build(hp):
        model = ...
        loss = kerasloss.search_space(hp, "focal", gamma=(0.5, 5.0), alpha=[0.25, 0.5, 0.75])
        model.compile(optimizer="adam", loss=loss)
        return model

kerasloss does not import keras-tuner: `hp` is the `keras_tuner.HyperParameters` your tuner passes in.
"""

import numbers
import warnings

from kerasloss.base import FromLogitsWarning, get


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _declare(hp, name, space, default):
    """Declare one argument's space on `hp` and return the value the tuner chose; with the values a
    validity check must try (a choice's every value, a range's ends)."""
    if isinstance(space, list):
        if not space:
            raise ValueError(f"search_space: `{name}`: a choice needs at least one value, got []")
        return hp.Choice(name, space), space
    if isinstance(space, tuple):
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
        if isinstance(default, numbers.Integral) and not isinstance(default, bool):  # an integer argument
            return hp.Int(name, int(low), int(high), sampling=sampling), (int(low), int(high))
        return hp.Float(name, float(low), float(high), sampling=sampling), (float(low), float(high))
    return hp.Fixed(name, space), (space,)


def search_space(hp, loss, **space):
    """Declare the search space of `loss`'s arguments on `hp` and return the loss built with the values
    the tuner chose for this trial.

    Each keyword names an argument of the loss: a list is a choice (`hp.Choice`), a tuple `(low, high)` a
    range (`hp.Float`; `hp.Int` for an argument whose default is an integer, so `alpha=(0, 1)` is the
    interval, not {0, 1}), `(low, high, "log")` a log-scaled range, and any other value is fixed
    (`hp.Fixed`). The hyperparameters are named after the arguments; as everywhere in keras-tuner, a
    name already declared on `hp` (a tuner's trial declares the whole space before `build(hp)` runs) gives
    the value set for it, so two losses in one model cannot both search an argument of the same name.

    Every value the space can produce is checked against what the loss accepts before the search starts:
    an argument the loss does not take, or a range that reaches outside the argument's valid values
    (`gamma=(-1.0, 2.0)`), raises `ValueError` naming the argument.

    Args:
        hp: a `keras_tuner.HyperParameters` (the one your `build(hp)` receives).
        loss: a `kerasloss.get` name ("focal", "triplet", ...).
        **space: the arguments' choices, ranges and fixed values.

    Returns:
        The loss for this trial, a `keras.losses.Loss`.
    """
    with warnings.catch_warnings():  # probes: only the loss returned below decides from_logits
        warnings.simplefilter("ignore", FromLogitsWarning)
        defaults = get(loss).get_config()  # an unknown name fails here, listing the valid ones
        declared = {name: _declare_checked(hp, loss, name, values, defaults) for name, values in space.items()}
    return get(loss, **declared)


def _declare_checked(hp, loss, name, values, defaults):
    """Declare one argument's space and build the loss at its extremes: the chosen value for this trial."""
    chosen, extremes = _declare(hp, name, values, defaults.get(name))
    for value in extremes:
        try:
            get(loss, **{name: value})
        except TypeError:
            raise ValueError(f"search_space: {loss!r} takes no argument `{name}`") from None
        except ValueError as error:
            raise ValueError(f"search_space: `{name}`={value!r} is outside what {loss!r} accepts: {error}") from None
    return chosen
