"""The registry behind `kerasloss.get`: every loss class registered once, for `.keras` serialization
(package "kerasloss", so a saved file names `kerasloss>FocalLoss`, wherever the module lives) and by name."""

import inspect
import re
import warnings
from collections.abc import Callable

import keras

__all__ = ["FromLogitsWarning", "available", "get", "loss_class"]

PACKAGE = "kerasloss"

_REGISTRY = {}


def _normalize_name(name):
    """'FocalLoss', 'focal_loss' and 'focal-loss' all become 'focalloss': case, `_` and `-` are ignored,
    nothing else ('../focal' and 'focal!!' are no names)."""
    return re.sub(r"[_-]", "", name.lower())


def register(*aliases: str) -> "Callable[[type], type]":
    """Register a class for `.keras` serialization (package "kerasloss") and for `kerasloss.get`.

    The class is found by its own name, in any case or underscore style, and by each alias.
    """

    def decorate(cls):
        keys = {_normalize_name(alias): alias for alias in (cls.__name__, *aliases)}
        for key, alias in keys.items():  # all checked first: a refused class registers nothing
            if _REGISTRY.get(key, cls) is not cls:
                raise RuntimeError(f"kerasloss name {alias!r} is taken by {_REGISTRY[key].__name__}")
        cls = keras.saving.register_keras_serializable(package=PACKAGE)(cls)
        _REGISTRY.update(dict.fromkeys(keys, cls))
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


def loss_class(name: str) -> type:
    """The registered class a name resolves to (`loss_class("focal")` is `FocalLoss`), without building one:
    for asking what a loss's constructor takes. Names ignore case, `_` and `-`; an unknown name raises a
    `ValueError` listing the valid ones.

    >>> kerasloss.loss_class("logit-adjusted").__name__
    'LogitAdjusted'
    """
    if not isinstance(name, str):
        raise ValueError(f"kerasloss.loss_class expects a loss name (a string); received {repr(name)[:80]}")
    cls = _REGISTRY.get(_normalize_name(name)) if len(name) <= 100 else None
    if cls is None:
        valid = ", ".join(sorted(k for k in _REGISTRY))
        shown = repr(name[:60]) + ("..." if len(name) > 60 else "")
        raise ValueError(f"Unknown kerasloss loss {shown}. Valid names (case, '_' and '-' ignored): {valid}")
    return cls


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
    cls = loss_class(identifier)
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
