"""Loss arguments a sweep takes from its data rather than from the spec: the training part's class counts.

- `class_counts`: a loss whose constructor takes it (`LogitAdjusted`, `BalancedSoftmax`, `LDAM`) is given the
  number of training examples of each class id 0 ... classes - 1, unless the spec's `loss_args` give it.
- `beta`: a searched (or `loss_args`) value for `SparseCategoricalFocalLoss`, whose `alpha` may hold a weight per
  class: the loss is given `alpha = kerasloss.class_balanced_weights(class_counts, beta)`, the class-balanced weights by
  effective number (Cui et al. 2019), so gamma = 0 is class-balanced cross-entropy and gamma > 0 class-balanced
  focal loss.

Only the training part is counted: the validation and test parts never shape the loss. Before the data is
loaded (when a spec is checked) the loss is built with `PLACEHOLDER_COUNTS`, which checks every other argument.
"""

import inspect

import numpy as np

import kerasloss
from kerasloss.core.registry import loss_class

COUNTS = "class_counts"
BETA = "beta"
# Whose alpha may be one weight a class, and which takes the class ids the harness feeds (CategoricalFocalLoss
# takes one-hot rows: a sweep cannot train it).
PER_CLASS_ALPHA = ("SparseCategoricalFocalLoss",)
PLACEHOLDER_COUNTS = (500, 5)  # what a spec check builds a loss with before its data is loaded


def _arguments(name):
    """The constructor arguments of the loss named `name`."""
    return inspect.signature(loss_class(name).__init__).parameters


def takes_counts(name):
    """Whether the loss named `name` takes the training part's class counts (`class_counts`)."""
    return COUNTS in _arguments(name)


def takes_beta(name):
    """Whether `beta` applies to the loss named `name`: its `alpha` holds one weight per class."""
    return loss_class(name).__name__ in PER_CLASS_ALPHA


def uses_counts(name, arguments):
    """Whether building `name` with these arguments needs the training part's class counts."""
    return (takes_counts(name) and COUNTS not in arguments) or (BETA in arguments and takes_beta(name))


def training_counts(data, where):
    """The number of training examples of each class id 0 ... classes - 1. A class with none is refused: a
    prior of 0 has no logarithm and an effective number of 0 no weight."""
    counts = np.bincount(np.asarray(data.y_train).reshape(-1), minlength=data.classes)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        shown = ", ".join(str(c) for c in empty[:10]) + (", ..." if empty.size > 10 else "")
        raise ValueError(
            f"{where}: class id(s) {shown} have no training examples, and a loss built from the class counts needs "
            "every class in the training part: number the classes 0..n-1 over the training labels, and move "
            "examples of a class that only the validation or test part holds into training (or drop them)"
        )
    return counts


def resolve(name, arguments, counts=None):
    """The constructor arguments of the loss `name`: `arguments` with `class_counts` added where the loss takes
    it and `beta` turned into per-class `alpha`; `counts` None builds with `PLACEHOLDER_COUNTS` (a check)."""
    arguments = dict(arguments)
    counts = PLACEHOLDER_COUNTS if counts is None else tuple(int(n) for n in counts)
    if takes_counts(name) and COUNTS not in arguments:
        arguments[COUNTS] = counts
    if BETA in arguments and not takes_beta(name) and BETA not in _arguments(name):
        raise TypeError(
            f"{loss_class(name).__name__} takes no argument 'beta' (the class-balanced weights are the per-class "
            f"alpha of {', '.join(PER_CLASS_ALPHA)})"
        )
    if BETA in arguments and takes_beta(name):  # MultiSimilarityLoss has a beta of its own: left to it
        if "alpha" in arguments:
            raise ValueError("give `beta` (the class-balanced weights, as alpha) or `alpha`, not both")
        beta = arguments.pop(BETA)
        arguments["alpha"] = [float(w) for w in kerasloss.class_balanced_weights(counts, beta)]
    return arguments
