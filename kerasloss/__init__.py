"""kerasloss: loss functions for Keras 3, exact, fast and serializable.

Every loss is a pure function (one loss per sample, `keras.ops` only) and a registered
`keras.losses.Loss` class; `kerasloss.get(name, **hyperparameters)` builds one by name.

The packages are the architecture (docs/architecture.md):

    core/             the Loss base class, registry, hyperparameter checks, input checks, numerics
    per_example/      one loss per example from its own target: regression, classification, focal,
                      distillation, quantile, ordinal, multi-task
    metric_learning/  losses over the batch's pairs or class proxies, self-supervised views, and what they
                      need: distances, cross-batch memory, replicas, class-balanced batches, retrieval
    tools/            callbacks, keras-tuner search spaces, the loss selector

Each module lists its public names in `__all__`; `import kerasloss` imports every module and binds those
names here (`kerasloss.FocalLoss`), which also registers every loss, layer and model with Keras, so a
`.keras` file reloads without `custom_objects`. One import is lighter: `python -m kerasloss recommend`
needs no loss and no backend (0.1 s instead of TensorFlow's 5-10 s import), so there the modules are
imported on the first public name asked for (PEP 562), and Keras not at all.
"""

import importlib
import pkgutil
import sys

__version__ = "0.1.0"


def _public_names():
    """{name: object} from every module's `__all__`; a name two modules export is a bug, refused here."""
    names, origin = {}, {}
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if info.name == f"{__name__}.__main__":  # `python -m kerasloss`, run, not imported
            continue
        module = importlib.import_module(info.name)
        if info.ispkg:  # a package's __init__ gathers its modules' helpers, not the public API
            continue
        for name in getattr(module, "__all__", ()):
            if name in origin:
                raise ImportError(f"kerasloss.{name} is exported by both {origin[name]} and {info.name}")
            names[name], origin[name] = getattr(module, name), info.name
    return names


def _bind_public_names():
    public = _public_names()
    globals().update(public, __all__=sorted(public))


def __getattr__(name):
    """Under `python -m kerasloss` only: the first public name asked for imports every module."""
    if name.startswith("__") and name != "__all__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _bind_public_names()
    if name not in globals():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return globals()[name]


def _finding_main():
    """True while `python -m kerasloss` looks for kerasloss/__main__.py.

    Python imports a package before it runs the package's __main__, and while it looks for the module
    sys.argv[0] is "-m" (the documentation of `-m`); sys.orig_argv names the module. Any other import,
    `python -m sweeps` included, is not this one.
    """
    if sys.argv[:1] != ["-m"]:
        return False
    arguments = iter(sys.orig_argv[1:])
    for argument in arguments:
        if argument.startswith("-m"):
            return (argument[2:] or next(arguments, "")) == __name__
    return False


# Keras finds a class in a `.keras` file only if it was registered before the load (safe mode imports no
# module of ours), so importing kerasloss registers every loss, layer and model by importing its module.
if not _finding_main():
    _bind_public_names()
