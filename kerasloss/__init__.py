"""kerasloss: loss functions for Keras 3, exact, fast and serializable.

Every loss is a pure function (one loss per sample, `keras.ops` only) and a registered
`keras.losses.Loss` class; `kerasloss.get(name, **hyperparameters)` builds one by name.
"""

from kerasloss.base import Loss, available, get
from kerasloss.callbacks import GradientNormLogger, LossMonitor
from kerasloss.classification import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CostSensitiveBinaryCrossentropy,
    Hinge,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    cost_sensitive_binary_crossentropy,
    hinge,
    sparse_categorical_crossentropy,
)
from kerasloss.contrastive import (
    ContrastiveLoss,
    InfoNCE,
    NTXent,
    SupervisedContrastive,
    contrastive_loss,
    info_nce,
    nt_xent,
    supervised_contrastive,
)
from kerasloss.distillation import DistillationLoss, KLDivergence, distillation_loss, kl_divergence
from kerasloss.focal import (
    CategoricalFocalLoss,
    FocalLoss,
    SparseCategoricalFocalLoss,
    binary_focal_loss,
    categorical_focal_loss,
    sparse_categorical_focal_loss,
)
from kerasloss.layers import LearnableTemperature, UncertaintyWeighting
from kerasloss.multitask import MultiTaskLoss, UncertaintyWeightedModel, multitask_loss, multitask_terms
from kerasloss.recommend import Recommendation, recommend
from kerasloss.regression import (
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    huber,
    mean_absolute_error,
    mean_squared_error,
)
from kerasloss.search import search_space
from kerasloss.triplet import TripletLoss, triplet_loss

__version__ = "0.1.0"

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalLoss",
    "ContrastiveLoss",
    "CostSensitiveBinaryCrossentropy",
    "DistillationLoss",
    "FocalLoss",
    "GradientNormLogger",
    "Hinge",
    "Huber",
    "InfoNCE",
    "KLDivergence",
    "LearnableTemperature",
    "Loss",
    "LossMonitor",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "MultiTaskLoss",
    "NTXent",
    "Recommendation",
    "SparseCategoricalCrossentropy",
    "SparseCategoricalFocalLoss",
    "SupervisedContrastive",
    "TripletLoss",
    "UncertaintyWeightedModel",
    "UncertaintyWeighting",
    "available",
    "binary_crossentropy",
    "binary_focal_loss",
    "categorical_crossentropy",
    "categorical_focal_loss",
    "contrastive_loss",
    "cost_sensitive_binary_crossentropy",
    "distillation_loss",
    "get",
    "hinge",
    "huber",
    "info_nce",
    "kl_divergence",
    "mean_absolute_error",
    "mean_squared_error",
    "multitask_loss",
    "multitask_terms",
    "nt_xent",
    "recommend",
    "search_space",
    "sparse_categorical_crossentropy",
    "sparse_categorical_focal_loss",
    "supervised_contrastive",
    "triplet_loss",
]
