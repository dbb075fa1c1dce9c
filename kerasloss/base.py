"""The base class every kerasloss loss derives from, the registry behind `kerasloss.get`, and the
hyperparameter checks that turn bad arguments into a `ValueError` at construction.

A loss here is two things: a pure function returning one loss per sample, and a thin
`keras.losses.Loss` subclass that validates and stores the function's hyperparameters. Reduction,
`sample_weight`, masking and dtype conversion stay with Keras' own `Loss.__call__`.
"""

import functools
import inspect
import math
import re
import warnings
from collections.abc import Callable

import keras
from keras import ops

from kerasloss.errors import invalid_argument
from kerasloss.inputs import check_host_ids

PACKAGE = "kerasloss"

_REGISTRY = {}

# What a loss takes, declared on its class as `inputs` (read by the callbacks, the sweep harness and the
# loss selector instead of lists of names):
INPUTS = {
    "targets": "y_true has y_pred's shape (regression targets, probabilities, one-hot or 0/1 labels)",
    "class_ids": "y_true holds integer class ids, y_pred one score per class",
    "embeddings": "y_true holds integer class ids, y_pred one embedding per example (batch, dim)",
    "views": "y_pred holds several views of each example (batch, views, dim); y_true is ignored or class ids",
    "pairs": "y_true says whether a pair is similar, y_pred holds its two embeddings (batch, 2, dim)",
    "predicted_views": "y_pred holds each of two views' predictor output and projection (batch, 2, 2, dim)",
    "teacher_logits": "y_true holds a teacher's logits, y_pred the student's, of the same shape",
    "cosines": "y_true holds integer class ids, y_pred the class cosines of kerasloss.CosineProxies",
}


def _normalize_name(name):
    """'FocalLoss', 'focal_loss' and 'focal-loss' all become 'focalloss': case, `_` and `-` are ignored,
    nothing else ('../focal' and 'focal!!' are no names)."""
    return re.sub(r"[_-]", "", name.lower())


def register(*aliases: str) -> "Callable[[type], type]":
    """Register a class for `.keras` serialization (package "kerasloss") and for `kerasloss.get`.

    The class is found by its own name, in any case or underscore style, and by each alias.
    """

    def decorate(cls):
        cls = keras.saving.register_keras_serializable(package=PACKAGE)(cls)
        for alias in (cls.__name__, *aliases):
            key = _normalize_name(alias)
            if _REGISTRY.get(key, cls) is not cls:
                raise RuntimeError(f"kerasloss name {alias!r} is taken by {_REGISTRY[key].__name__}")
            _REGISTRY[key] = cls
        return cls

    return decorate


def available() -> dict[str, list[str]]:
    """The names `kerasloss.get` resolves, grouped by class: {class name: [aliases]}."""
    names = {}
    for key, cls in sorted(_REGISTRY.items()):
        names.setdefault(cls.__name__, []).append(key)
    return names


def registered() -> list[type]:
    """The registered loss classes, each once, by class name."""
    return sorted(set(_REGISTRY.values()), key=lambda cls: cls.__name__)


class FromLogitsWarning(UserWarning):
    """`kerasloss.get(name)` built a loss that takes probabilities because `from_logits` was not given."""


def get(identifier: "str | dict | keras.losses.Loss", **hyperparameters) -> keras.losses.Loss:
    """Build a kerasloss loss from a name, a serialized config, or return a loss instance as is.

    `kerasloss.get("focal", gamma=3.0)` is `kerasloss.FocalLoss(gamma=3.0)`. Names ignore case,
    underscores and dashes; an unknown name raises a `ValueError` listing the valid ones. Pass the
    result to `model.compile(loss=kerasloss.get("focal", from_logits=True))`: Keras resolves a string
    `loss="focal"` among its own names only, and fails in `fit`.

    A name whose loss takes `from_logits` and is built without it gets Keras' default, probabilities
    (`from_logits=False`), as `compile(loss="binary_crossentropy")` does; since a model whose last layer
    has no activation trains silently badly on that, `get` says so with a `FromLogitsWarning` (silence
    it by passing `from_logits` either way).
    """
    if isinstance(identifier, keras.losses.Loss):
        if hyperparameters:
            raise ValueError(
                f"kerasloss.get received a loss instance and hyperparameters {sorted(hyperparameters)}; "
                "pass a name to build a new loss."
            )
        return identifier
    if isinstance(identifier, dict):
        return _from_config(identifier, hyperparameters)
    if not isinstance(identifier, str):
        shown = repr(identifier)[:80]
        raise ValueError(f"kerasloss.get expects a loss name, config dict or Loss; received {shown}")
    cls = _REGISTRY.get(_normalize_name(identifier)) if len(identifier) <= 100 else None
    if cls is None:
        valid = ", ".join(sorted(k for k in _REGISTRY))
        shown = repr(identifier[:60]) + ("..." if len(identifier) > 60 else "")
        raise ValueError(f"Unknown kerasloss loss {shown}. Valid names (case, '_' and '-' ignored): {valid}")
    default = inspect.signature(cls.__init__).parameters.get("from_logits")
    if "from_logits" not in hyperparameters and default is not None and default.default is False:
        warnings.warn(
            f"kerasloss.get({identifier!r}) built {cls.__name__} with from_logits=False: y_pred must be "
            "probabilities (a sigmoid or softmax output). For a model whose last layer has no activation "
            "pass from_logits=True; pass from_logits=False to silence this warning.",
            FromLogitsWarning,
            stacklevel=2,
        )
    return cls(**hyperparameters)


def _from_config(config, hyperparameters):
    """A loss from a serialized kerasloss config ({"class_name": ..., "config": {...}}, as `keras.saving.
    serialize_keras_object` writes it); anything else, or an argument the class does not take, is refused
    naming the key."""
    class_name = config.get("class_name")
    registered = {cls.__name__: cls for cls in _REGISTRY.values()}
    name = class_name.split(">")[-1] if isinstance(class_name, str) else None
    if hyperparameters or name not in registered or not isinstance(config.get("config", {}), dict):
        raise ValueError(
            "kerasloss.get: a dict must be a serialized kerasloss loss, {'class_name': 'FocalLoss', 'config': "
            f"{{...}}}}, with no other arguments; received class_name={str(class_name)[:60]!r}"
        )
    return registered[name].from_config(dict(config.get("config", {})))


def data(argument, value):
    """Marks a keyword-only argument of a loss function as data, not a hyperparameter (a reference set):
    it is passed through unchecked, is not a constructor argument and is not in `get_config()`."""
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
    declared as `data` (a reference set) is passed through as is, and is no hyperparameter.

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
        data_names = {name for name, check in checks.items() if check is data}
        hyper = {name: default for name, default in defaults.items() if name not in data_names}

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
            passed = {name: values.pop(name) for name in data_names if name in values}
            return function(y_true, y_pred, **check(**values), **passed)

        checked.check, checked.unchecked = check, function
        checked.renamed, checked.data = dict(renamed), frozenset(data_names)
        return checked

    return decorate


def _default(function, argument):
    return inspect.signature(getattr(function, "unchecked", function)).parameters[argument].default


class Loss(keras.losses.Loss):
    """Base class: a registered, serializable wrapper around one pure loss function.

    Subclasses set `function` (the per-sample loss, declared with `@hyperparameters`) and pass their
    hyperparameters to `__init__` as keywords, unchecked: the function's declared checks run here.
    `get_config()` is exactly the constructor's arguments.
    """

    function = None
    inputs = None  # what the loss takes: one of INPUTS' keys, declared by every registered loss
    labels_are_ids = False  # y_true holds integer class ids: never cast to the (float) loss dtype

    def __init__(self, *, name, reduction="sum_over_batch_size", dtype=None, **hyperparameters):
        _check_dtype(dtype)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        function = type(self).function
        check = getattr(function, "check", None)
        for old, new in getattr(function, "renamed", {}).items():
            # The class passes the new name at its default along with the former one: the former is the
            # one given (a config saved before the rename). An explicit default is indistinguishable.
            if hyperparameters.get(old) is not None and hyperparameters.get(new) == _default(function, new):
                del hyperparameters[new]
        if check is not None:
            hyperparameters = check(**hyperparameters)
        _check_range(hyperparameters, self._dtype_policy.compute_dtype)
        self._hyperparameters = hyperparameters
        for key, value in hyperparameters.items():
            setattr(self, key, value)

    def call(self, y_true, y_pred, reference=None):
        function = type(self).function
        extra = {} if reference is None else {"reference": self._checked_reference(reference)}
        return getattr(function, "unchecked", function)(y_true, y_pred, **self._hyperparameters, **extra)

    @property
    def takes_reference(self) -> bool:
        """Whether this loss compares the batch with a reference set (`loss(y, x, reference=(emb, labels))`)."""
        return "reference" in getattr(type(self).function, "data", ())

    def _checked_reference(self, reference):
        if not self.takes_reference:
            raise ValueError(f"{type(self).__name__} does not compare the batch with a reference set; received one.")
        return reference

    def __call__(self, y_true, y_pred, sample_weight=None, reference=None):
        """Keras' `Loss.__call__`, except that class ids keep their own dtype. Keras converts `y_true` to
        the loss dtype: in bfloat16 (8 significant bits) class 257 becomes 256, in float16 every id past
        2048 rounds. Masks, reduction and `sample_weight` are Keras' own (its `reduce_weighted_values`).

        The pairwise losses with class labels also take `reference=(embeddings, labels)` (optionally
        `(embeddings, labels, valid)`, a boolean mask of the entries to use): each anchor of the batch is
        then compared with the batch and the reference set (pytorch-metric-learning's `ref_emb` replaces the
        batch instead), as
        `kerasloss.CrossBatchMemory` does with its memory.

        Class ids are checked while still host values: JAX without `jax_enable_x64` converts int64 ids to
        int32, wrapping 2**32 to 0, so ids it cannot hold raise a ValueError instead (`inputs.check_host_ids`).
        In `model.fit` on JAX without x64, Keras converts `y` before the loss sees it: see `kerasloss.inputs`.

        A float16 or bfloat16 loss reduces in float32 and returns its dtype: the mean of per-example values
        that each fit float16 is finite, where Keras' float16 sum of them can overflow to inf."""
        half = keras.backend.standardize_dtype(self.dtype) in ("float16", "bfloat16")
        if not self.labels_are_ids and reference is None and not half:
            return super().__call__(y_true, y_pred, sample_weight)
        # keras.src: Keras 3 exposes no public form of the two steps this copy of its __call__ must keep
        # identical (mask propagation, weighted reduction); using its own helpers keeps them identical.
        from keras.src.backend import get_keras_mask
        from keras.src.losses.loss import reduce_weighted_values

        in_mask = get_keras_mask(y_pred)
        with keras.name_scope(self.name):
            y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
            if self.labels_are_ids:
                check_host_ids(y_true, type(self).__name__)  # JAX without x64 would wrap 2**32 to 0 here
            y_true = ops.convert_to_tensor(y_true, dtype=None if self.labels_are_ids else self.dtype)
            losses = self.call(y_true, y_pred, reference=reference)
            out_mask = get_keras_mask(losses)
            masks = [m for m in (in_mask, out_mask) if m is not None]
            mask = (masks[0] & masks[1]) if len(masks) == 2 else (masks[0] if masks else None)
            reduced = reduce_weighted_values(
                ops.cast(losses, "float32") if half else losses,
                sample_weight=sample_weight,
                mask=mask,
                reduction=self.reduction,
                dtype="float32" if half else self.dtype,
            )
            return ops.cast(reduced, self.dtype) if half else reduced

    @classmethod
    def from_config(cls, config):
        """The constructor's arguments back; a key the class does not take is named (a `.keras` file edited
        by hand, or written by another version), not a bare TypeError."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(config) - accepted)
        if unknown:
            raise ValueError(
                f"{cls.__name__} config has the key(s) {unknown}, which it does not take. Its arguments: "
                f"{', '.join(sorted(accepted))}"
            )
        return cls(**config)

    def get_config(self):
        config = super().get_config()
        # Keras' Loss.get_config drops dtype; keep it so a float16 loss stays float16 after a round trip.
        config["dtype"] = self._dtype_policy.name
        config.update({key: _to_json(value) for key, value in self._hyperparameters.items()})
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters.items())
        return f"{type(self).__name__}({args})"


_LARGEST_FINITE = {
    "float16": 65504.0,
    "bfloat16": 3.3895313892515355e38,
    "float32": 3.4028234663852886e38,
    "float64": 1.7976931348623157e308,
}
# Divisors: the loss divides by them, so a tiny one overflows as surely as a huge multiplier.
_DIVISORS = ("temperature", "delta")


def _check_dtype(dtype):
    """A loss computes in floating point: `dtype="int32"` is refused here, not when the loss is called."""
    if dtype is None:
        return
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", str(dtype))
    try:
        compute = keras.dtype_policies.get(name).compute_dtype
    except (ValueError, TypeError):
        compute = None
    if compute not in ("float16", "bfloat16", "float32", "float64"):
        raise invalid_argument(
            "dtype", "a floating dtype or policy (float32, float16, bfloat16, mixed_float16, ...)", dtype
        )


def _check_range(hyperparameters, compute_dtype):
    """Each number must keep the loss's arithmetic inside the compute dtype: |value| at most the square
    root of the dtype's largest finite number (a value times itself, as in T^2 or delta^2, still fits),
    and a divisor at least the reciprocal of that number (an O(1) value divided by it still fits).
    float32: 1.8e19 and 2.9e-39; float16: 255.9 and 1.5e-5."""
    largest = _LARGEST_FINITE[compute_dtype]
    limit = largest**0.5
    for argument, value in hyperparameters.items():
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, float):
                continue
            if abs(v) > limit:
                raise invalid_argument(
                    argument, f"a value of magnitude at most {limit:.3g} ({compute_dtype} arithmetic)", value
                )
            if argument in _DIVISORS and 0 < v < 1 / largest:
                raise invalid_argument(
                    argument, f"a value of at least {1 / largest:.3g} ({compute_dtype} arithmetic)", value
                )


def _to_json(value):
    return list(value) if isinstance(value, tuple) else value


# Hyperparameter checks: each returns the normalized value or raises one message shape, Keras' own:
# "Invalid value for argument `alpha`. Expected ... Received: alpha=2".


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


def check_non_negative(argument, value):
    """gamma, margin: a finite float >= 0."""
    value_ = _real(argument, value, "a finite float >= 0")
    if value_ < 0:
        raise invalid_argument(argument, "a finite float >= 0", value)
    return value_


def check_positive(argument, value):
    """temperature, delta, weights: a finite float > 0."""
    value_ = _real(argument, value, "a finite float > 0")
    if value_ <= 0:
        raise invalid_argument(argument, "a finite float > 0", value)
    return value_


def check_unit_interval(argument, value, *, closed_right=True):
    """A finite float in [0, 1] ([0, 1) where `closed_right` is False)."""
    expected = "a float in [0, 1]" if closed_right else "a float in [0, 1)"
    value_ = _real(argument, value, expected)
    if value_ < 0 or value_ > 1 or (value_ == 1 and not closed_right):
        raise invalid_argument(argument, expected, value)
    return value_


def check_open_unit_interval(argument, value):
    """A threshold: a float in (0, 1)."""
    value_ = _real(argument, value, "a float in (0, 1)")
    if not 0 < value_ < 1:
        raise invalid_argument(argument, "a float in (0, 1)", value)
    return value_


def check_label_smoothing(value):
    return check_unit_interval("label_smoothing", value, closed_right=False)


def check_bool(argument, value):
    value = _plain(value)
    if not isinstance(value, bool):
        raise invalid_argument(argument, "True or False", value)
    return value


def check_unit_values(argument, value, *, optional=False):
    """A float in [0, 1] or a non-empty sequence of them (a tuple back); None too where `optional`.
    alpha (per class/label weights), quantiles (one per output)."""
    expected = ("None, " if optional else "") + "a float in [0, 1], or a non-empty list of floats in [0, 1]"
    value = _plain(value)
    if value is None and optional:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            raise invalid_argument(argument, expected, value)
        try:
            return tuple(check_unit_interval(argument, v) for v in value)
        except ValueError:
            raise invalid_argument(argument, expected, value) from None
    try:
        return check_unit_interval(argument, value)
    except ValueError:
        raise invalid_argument(argument, expected, value) from None


def check_alpha(value):
    """alpha: None (no weighting), a float in [0, 1], or a non-empty sequence of them (per class/label)."""
    return check_unit_values("alpha", value, optional=True)


def check_integer(argument, value, *, optional=False):
    """axis, ignore_class: an integer (None allowed where `optional`)."""
    value = _plain(value)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_argument(argument, "an integer" + (" or None" if optional else ""), value)
    return value


def check_axis(value):
    return check_integer("axis", value)


def check_ignore_class(value):
    return check_integer("ignore_class", value, optional=True)


def check_choice(argument, value, choices):
    value = _plain(value)
    if not isinstance(value, str) or value not in choices:
        raise invalid_argument(argument, f"one of {list(choices)}", value)
    return value


# The checks `@hyperparameters` takes: each (argument name, value) -> normalized value.
non_negative = check_non_negative
positive = check_positive
boolean = check_bool
open_unit_interval = check_open_unit_interval


def alpha_weights(argument, value):
    return check_alpha(value)


def smoothing(argument, value):
    return check_label_smoothing(value)


def integer(argument, value):
    return check_integer(argument, value)


def optional_integer(argument, value):
    return check_integer(argument, value, optional=True)


def one_of(*choices):
    def check(argument, value):
        return check_choice(argument, value, choices)

    return check
