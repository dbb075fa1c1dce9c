"""kerasloss: loss functions for Keras 3, exact, fast and serializable.

Every loss is a pure function (one loss per sample, `keras.ops` only) and a registered
`keras.losses.Loss` class; `kerasloss.get(name, **hyperparameters)` builds one by name.

`import kerasloss` imports every module below, which registers each loss with Keras, so a `.keras`
file reloads without `custom_objects`. One import is lighter: `python -m kerasloss` needs no loss and
no backend, so there the names below are imported on first use (PEP 562) and keras not at all.
"""

import importlib
import sys

__version__ = "0.1.0"

# Public names by the module that defines them.
_EXPORTS = {
    "base": ("FromLogitsWarning", "Loss", "available", "get"),
    "callbacks": ("GradientNormLogger", "LossMonitor", "constant_predictor_loss"),
    "classification": (
        "BinaryCrossentropy",
        "CategoricalCrossentropy",
        "CostSensitiveBinaryCrossentropy",
        "Hinge",
        "SparseCategoricalCrossentropy",
        "binary_crossentropy",
        "categorical_crossentropy",
        "cost_sensitive_binary_crossentropy",
        "hinge",
        "sparse_categorical_crossentropy",
    ),
    "data": ("ClassBalancedBatches",),
    "contrastive": (
        "ContrastiveLoss",
        "InfoNCE",
        "NTXent",
        "SupervisedContrastive",
        "contrastive_loss",
        "info_nce",
        "nt_xent",
        "supervised_contrastive",
    ),
    "distillation": ("DistillationLoss", "KLDivergence", "distillation_loss", "kl_divergence"),
    "focal": (
        "CategoricalFocalLoss",
        "FocalLoss",
        "SparseCategoricalFocalLoss",
        "binary_focal_loss",
        "categorical_focal_loss",
        "sparse_categorical_focal_loss",
    ),
    "layers": ("LearnableTemperature", "UncertaintyWeighting"),
    "lifted_structure": ("LiftedStructure", "lifted_structure"),
    "margins": ("ArcFace", "CosFace", "arcface", "cosface"),
    "memory": ("CrossBatchMemory",),
    "multi_similarity": ("MultiSimilarity", "multi_similarity"),
    "ordinal": ("WeightedKappa", "weighted_kappa"),
    "quantile": ("Pinball", "pinball"),
    "multitask": ("MultiTaskLoss", "UncertaintyWeightedModel", "multitask_loss", "multitask_terms"),
    "proxies": ("CosineProxies", "ProxyAnchor", "ProxyNCA", "proxy_anchor", "proxy_nca"),
    "recommend": ("Recommendation", "recommend"),
    "regression": (
        "Huber",
        "MeanAbsoluteError",
        "MeanSquaredError",
        "huber",
        "mean_absolute_error",
        "mean_squared_error",
    ),
    "retrieval": ("RetrievalEvaluation",),
    "search": ("search_space",),
    "self_supervised": ("BarlowTwins", "SimSiam", "VICReg", "barlow_twins", "simsiam", "vicreg"),
    "soft_nearest_neighbor": ("SoftNearestNeighbor", "soft_nearest_neighbor"),
    "triplet": ("TripletLoss", "triplet_loss"),
}
_MODULE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE)


def _bind(module):
    """Import kerasloss.<module> and bind its public names here; `recommend` the function then replaces
    `recommend` the submodule, which importing it bound."""
    imported = importlib.import_module(f"{__name__}.{module}")
    globals().update({name: getattr(imported, name) for name in _EXPORTS[module]})


def __getattr__(name):
    """`kerasloss.FocalLoss` and `from kerasloss import FocalLoss` where the name is not bound yet."""
    if name not in _MODULE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _bind(_MODULE[name])
    return globals()[name]


def __dir__():
    return sorted({*globals(), *__all__})


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
    for _module in _EXPORTS:
        _bind(_module)
    del _module
