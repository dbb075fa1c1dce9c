"""One entry per loss configuration that the shared battery (test_battery.py) runs.

Each case says how to build the loss, how to draw data for it, its independent NumPy reference, the
Keras built-in it must equal (where one exists), and the output activation a model needs for it.
"""

from dataclasses import dataclass, field

import keras
import numpy as np

import kerasloss
from tests.reference import formulas as ref
from tests.reference import imbalance as ref_imbalance
from tests.reference import metric as ref_metric
from tests.reference import proxies as ref_proxies
from tests.reference import quantile_ordinal as ref_qo
from tests.reference import self_supervised as ref_ssl

BATCH, WIDTH, CLASSES = 16, 3, 5


@dataclass
class Case:
    id: str
    cls: type
    kwargs: dict
    data: callable  # (rng, batch=BATCH, width=<the generator's default>) -> (y_true, y_pred), NumPy
    reference: callable  # (y_true, y_pred) -> per-sample NumPy float64
    builtin: callable = None  # () -> callable(y_true, y_pred, sample_weight=None) that must agree
    activation: str = None  # output activation for a model trained with this loss
    tags: set = field(default_factory=set)
    half_rtol: float = None  # float16 tolerance where 1% is not attainable (see the case)

    def make(self, **extra):
        return self.cls(**self.kwargs, **extra)

    def __str__(self):
        return self.id


# Every generator takes the batch size and a width (outputs, classes or embedding size; ignored where
# the layout fixes it) so that the property test (test_properties.py) can draw other shapes.


def regression_data(rng, batch=BATCH, width=WIDTH):
    return rng.normal(size=(batch, width)).astype("float32"), rng.normal(size=(batch, width)).astype("float32")


def binary_logits(rng, batch=BATCH, width=WIDTH):
    return (rng.random((batch, width)) < 0.3).astype("float32"), (3 * rng.normal(size=(batch, width))).astype("float32")


def binary_probs(rng, batch=BATCH, width=WIDTH):
    y, x = binary_logits(rng, batch, width)
    return y, (1 / (1 + np.exp(-x))).astype("float32")


def class_logits(rng, batch=BATCH, width=CLASSES):
    return rng.integers(0, width, batch), (3 * rng.normal(size=(batch, width))).astype("float32")


def class_probs(rng, batch=BATCH, width=CLASSES):
    ids, x = class_logits(rng, batch, width)
    e = np.exp(x - x.max(-1, keepdims=True))
    return ids, (e / e.sum(-1, keepdims=True)).astype("float32")


def onehot(make):
    def data(rng, batch=BATCH, width=CLASSES):
        ids, pred = make(rng, batch, width)
        return np.eye(width, dtype="float32")[ids], pred

    return data


def two_distributions(rng, batch=BATCH, width=CLASSES):
    return class_probs(rng, batch, width)[1], class_probs(rng, batch, width)[1]


def soft_targets(rng, batch=BATCH, width=CLASSES):
    _, x = class_logits(rng, batch, width)
    _, p = class_probs(rng, batch, width)
    return p, x


def teacher_student(rng, batch=BATCH, width=CLASSES):
    return (3 * rng.normal(size=(batch, width))).astype("float32"), (3 * rng.normal(size=(batch, width))).astype(
        "float32"
    )


def signed_labels(rng, batch=BATCH, width=WIDTH):
    y, x = binary_logits(rng, batch, width)
    return 2 * y - 1, x


def multitask_data(rng, batch=BATCH, width=None):  # the layout fixes the width: [label, target]
    labels = (rng.random(batch) < 0.4).astype("float32")
    return np.stack([labels, rng.normal(size=batch)], -1).astype("float32"), rng.normal(size=(batch, 2)).astype(
        "float32"
    )


def multitask_reference(y, pred, cw=1.0, rw=0.5, fnw=3.0):
    labels = y[:, 0]
    ce = ref.cost_sensitive_bce(labels[:, None], pred[:, :1], True, 1.0, fnw, 0.5)
    positive = labels == 1
    reg = np.where(positive, (pred[:, 1] - y[:, 1]) ** 2, 0.0) * len(labels) / max(positive.sum(), 1)
    return cw * ce + rw * reg


def _keras_onehot(loss):
    """A Keras categorical loss fed one-hot targets built from integer ids."""

    def call(ids, pred, sample_weight=None):
        return loss(np.eye(CLASSES, dtype="float32")[ids], pred, sample_weight=sample_weight)

    return call


DIM = 6


def two_views(rng, batch=BATCH, width=DIM):
    base = rng.normal(size=(batch, 1, width))
    return np.zeros(batch, "float32"), (base + 0.3 * rng.normal(size=(batch, 2, width))).astype("float32")


def with_negatives(rng, batch=BATCH, width=DIM):
    return np.zeros(batch, "float32"), rng.normal(size=(batch, 5, width)).astype("float32")


def labelled_views(rng, batch=BATCH, width=DIM):
    labels = rng.integers(0, 4, batch)
    centres = rng.normal(size=(4, 1, width))
    return labels, (centres[labels] + 0.5 * rng.normal(size=(batch, 2, width))).astype("float32")


def labelled_embeddings(rng, batch=BATCH, width=DIM):
    labels, views = labelled_views(rng, batch, width)
    return labels, views[:, 0]


def pairs(rng, batch=BATCH, width=DIM):
    return (rng.random(batch) < 0.5).astype("float32"), rng.normal(size=(batch, 2, width)).astype("float32")


ALPHA_LABELS = [0.25, 0.5, 0.75]
ALPHA_CLASSES = [0.1, 0.2, 0.3, 0.2, 0.2]
K = keras.losses

CASES = [
    Case("mse", kerasloss.MeanSquaredError, {}, regression_data, ref.mse, lambda: K.MeanSquaredError()),
    Case("mae", kerasloss.MeanAbsoluteError, {}, regression_data, ref.mae, lambda: K.MeanAbsoluteError()),
    Case(
        "huber",
        kerasloss.Huber,
        {"delta": 0.5},
        regression_data,
        lambda y, p: ref.huber(y, p, 0.5),
        lambda: K.Huber(delta=0.5),
    ),
    Case(
        "bce-logits-smooth",
        kerasloss.BinaryCrossentropy,
        {"from_logits": True, "label_smoothing": 0.1},
        binary_logits,
        lambda y, p: ref.bce(y, p, True, 0.1),
        lambda: K.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    ),
    Case(
        "bce-probs",
        kerasloss.BinaryCrossentropy,
        {},
        binary_probs,
        lambda y, p: ref.bce(y, p, False),
        lambda: K.BinaryCrossentropy(),
        activation="sigmoid",
    ),
    Case(
        "cce-logits-smooth",
        kerasloss.CategoricalCrossentropy,
        {"from_logits": True, "label_smoothing": 0.1},
        onehot(class_logits),
        lambda y, p: ref.cce(y, p, True, 0.1),
        lambda: K.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
    ),
    Case(
        "cce-probs",
        kerasloss.CategoricalCrossentropy,
        {},
        onehot(class_probs),
        lambda y, p: ref.cce(y, p, False),
        lambda: K.CategoricalCrossentropy(),
        activation="softmax",
    ),
    Case(
        "scce-logits",
        kerasloss.SparseCategoricalCrossentropy,
        {"from_logits": True},
        class_logits,
        lambda y, p: ref.scce(y, p, True),
        lambda: K.SparseCategoricalCrossentropy(from_logits=True),
        tags={"sparse"},
    ),
    Case(
        "scce-logits-smooth",
        kerasloss.SparseCategoricalCrossentropy,
        {"from_logits": True, "label_smoothing": 0.2},
        class_logits,
        lambda y, p: ref.scce(y, p, True, 0.2),
        lambda: _keras_onehot(K.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)),
        tags={"sparse"},
    ),
    Case(
        "scce-probs-smooth",
        kerasloss.SparseCategoricalCrossentropy,
        {"label_smoothing": 0.1},
        class_probs,
        lambda y, p: ref.scce(y, p, False, 0.1),
        activation="softmax",
        tags={"sparse"},
    ),
    Case(
        "focal-logits",
        kerasloss.FocalLoss,
        {"from_logits": True},
        binary_logits,
        lambda y, p: ref.binary_focal(y, p, 2.0, 0.25, True),
        lambda: K.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True),
    ),
    Case(
        "focal-probs-vector-alpha-smooth",
        kerasloss.FocalLoss,
        {"gamma": 0.5, "alpha": ALPHA_LABELS, "label_smoothing": 0.1},
        binary_probs,
        lambda y, p: ref.binary_focal(y, p, 0.5, ALPHA_LABELS, False, 0.1),
        activation="sigmoid",
    ),
    Case(
        "focal-probs-no-alpha",
        kerasloss.FocalLoss,
        {"gamma": 3.0, "alpha": None},
        binary_probs,
        lambda y, p: ref.binary_focal(y, p, 3.0, None, False),
        lambda: K.BinaryFocalCrossentropy(gamma=3.0),
        activation="sigmoid",
    ),
    Case(
        "categorical-focal-logits-vector-alpha",
        kerasloss.CategoricalFocalLoss,
        {"from_logits": True, "alpha": ALPHA_CLASSES},
        onehot(class_logits),
        lambda y, p: ref.categorical_focal(y, p, 2.0, ALPHA_CLASSES, True),
    ),
    Case(
        "categorical-focal-probs-smooth",
        kerasloss.CategoricalFocalLoss,
        {"gamma": 1.5, "alpha": 0.25, "label_smoothing": 0.1},
        onehot(class_probs),
        lambda y, p: ref.categorical_focal(y, p, 1.5, 0.25, False, 0.1),
        lambda: K.CategoricalFocalCrossentropy(alpha=0.25, gamma=1.5, label_smoothing=0.1),
        activation="softmax",
    ),
    Case(
        "sparse-focal-logits-vector-alpha",
        kerasloss.SparseCategoricalFocalLoss,
        {"from_logits": True, "gamma": 2.5, "alpha": ALPHA_CLASSES},
        class_logits,
        lambda y, p: ref.sparse_focal(y, p, 2.5, ALPHA_CLASSES, True),
        tags={"sparse"},
    ),
    Case(
        "sparse-focal-probs",
        kerasloss.SparseCategoricalFocalLoss,
        {"gamma": 2.0, "alpha": 0.25},
        class_probs,
        lambda y, p: ref.sparse_focal(y, p, 2.0, 0.25, False),
        lambda: _keras_onehot(K.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0)),
        activation="softmax",
        tags={"sparse"},
    ),
    Case("hinge-01", kerasloss.Hinge, {}, binary_logits, ref.hinge, lambda: K.Hinge()),
    Case("hinge-signed", kerasloss.Hinge, {}, signed_labels, ref.hinge, lambda: K.Hinge()),
    Case(
        "kld-probs",
        kerasloss.KLDivergence,
        {},
        two_distributions,
        lambda y, p: ref.kl(y, p),
        lambda: K.KLDivergence(),
        activation="softmax",
    ),
    Case("kld-logits", kerasloss.KLDivergence, {"from_logits": True}, soft_targets, lambda y, p: ref.kl(y, p, True)),
    Case(
        "distillation",
        kerasloss.DistillationLoss,
        {"temperature": 3.0},
        teacher_student,
        lambda y, p: ref.distillation(y, p, 3.0),
    ),
    Case(
        "cost-sensitive-logits",
        kerasloss.CostSensitiveBinaryCrossentropy,
        {"positive_weight": 2.0, "false_negative_weight": 3.0, "from_logits": True},
        binary_logits,
        lambda y, p: ref.cost_sensitive_bce(y, p, True, 2.0, 3.0, 0.5),
    ),
    Case(
        "cost-sensitive-probs",
        kerasloss.CostSensitiveBinaryCrossentropy,
        {"false_negative_weight": 4.0, "threshold": 0.3},
        binary_probs,
        lambda y, p: ref.cost_sensitive_bce(y, p, False, 1.0, 4.0, 0.3),
        activation="sigmoid",
    ),
    Case(
        "multitask",
        kerasloss.MultiTaskLoss,
        {"regression_weight": 0.5, "false_negative_weight": 3.0},
        multitask_data,
        multitask_reference,
        tags={"batch-coupled"},
    ),
]

CASES += [
    Case(
        "ntxent",
        kerasloss.NTXent,
        {"temperature": 0.5},
        two_views,
        lambda y, p: ref.nt_xent(p, 0.5),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "infonce-explicit-negatives",
        kerasloss.InfoNCE,
        {"temperature": 0.2},
        with_negatives,
        lambda y, p: ref.info_nce(p, 0.2),
        tags={"embedding"},
    ),
    Case(
        "infonce-in-batch-symmetric",
        kerasloss.InfoNCE,
        {"temperature": 0.3, "symmetric": True},
        two_views,
        lambda y, p: ref.info_nce(p, 0.3, symmetric=True),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "supcon-views",
        kerasloss.SupervisedContrastive,
        {"temperature": 0.1},
        labelled_views,
        lambda y, p: ref.supervised_contrastive(y, p, 0.1),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "supcon-single-view",
        kerasloss.SupervisedContrastive,
        {"temperature": 0.5},
        labelled_embeddings,
        lambda y, p: ref.supervised_contrastive(y, p, 0.5),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "pair-contrastive",
        kerasloss.ContrastiveLoss,
        {"margin": 2.0},
        pairs,
        lambda y, p: ref.pair_contrastive(y, p, 2.0),
        tags={"embedding"},
    ),
]

CASES += [
    Case(
        f"triplet-{mining}",
        kerasloss.TripletLoss,
        {"mining": mining, **extra},
        labelled_embeddings,
        reference,
        tags={"embedding", "batch-coupled"},
        # "all" averages over the triplets active at a threshold: in float16 borderline ones flip.
        half_rtol=0.05 if mining == "all" else None,
    )
    for mining, extra, reference in [
        ("semi-hard", {}, lambda y, p: ref.triplet_semi_hard(y, p, 1.0)),
        ("hard", {"soft": True, "distance": "cosine"}, lambda y, p: ref.triplet_hard(y, p, 1.0, "cosine", soft=True)),
        (
            "all",
            {"margin": 2.0, "distance": "squared_euclidean"},
            lambda y, p: ref.triplet_all(y, p, 2.0, "squared_euclidean"),
        ),
    ]
]

CASES += [
    Case(
        "multi-similarity",
        kerasloss.MultiSimilarity,
        {},
        labelled_embeddings,
        lambda y, p: ref_metric.multi_similarity(y, p),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "multi-similarity-mined-dot",
        kerasloss.MultiSimilarity,
        {"alpha": 1.0, "beta": 10.0, "base": 0.3, "epsilon": 0.1, "distance": "dot"},
        labelled_embeddings,
        lambda y, p: ref_metric.multi_similarity(y, p, 1.0, 10.0, 0.3, epsilon=0.1, distance="dot"),
        tags={"embedding", "batch-coupled"},
        half_rtol=0.05,  # mining keeps pairs by a threshold: in float16 borderline ones flip
    ),
    Case(
        "lifted-structure",
        kerasloss.LiftedStructure,
        {"margin": 2.0},
        labelled_embeddings,
        lambda y, p: ref_metric.lifted_structure_per_anchor(y, p, 2.0),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "soft-nearest-neighbor",
        kerasloss.SoftNearestNeighbor,
        {"temperature": 2.0},
        labelled_embeddings,
        lambda y, p: ref_metric.soft_nearest_neighbor(y, p, 2.0),
        tags={"embedding", "batch-coupled"},
    ),
]


def cosine_scores(rng, batch=BATCH, width=CLASSES):
    """Class ids and their cosines with `width` class proxies (the output of CosineProxies)."""
    labels = rng.integers(0, width, batch)
    x = rng.normal(size=(batch, width))
    x[np.arange(batch), labels] += 1.0
    return labels, np.tanh(x / 2).astype("float32")


def predictions_and_projections(rng, batch=BATCH, width=DIM):
    """SimSiam's layout: (batch, 2 views, [prediction, projection], dim)."""
    return np.zeros(batch, "float32"), rng.normal(size=(batch, 2, 2, width)).astype("float32")


def quantile_targets(rng, batch=BATCH, width=3):
    """One target per example and `width` quantile estimates (the case's quantiles fix width)."""
    return rng.normal(size=(batch,)).astype("float32"), rng.normal(size=(batch, width)).astype("float32")


def ordinal_probs(rng, batch=BATCH, width=None):
    """Class ids of 5 ordered classes and softmax probabilities (the class count is the loss's)."""
    return class_probs(rng, batch, 5)


def _batch_value(value, batch):
    return np.full(batch, value)


def _vicreg_per_example(views, *weights):
    """The batch's VICReg with each example carrying its own invariance term (kerasloss' split)."""
    views = np.asarray(views, np.float64)
    own = weights[0] * np.mean((views[:, 0] - views[:, 1]) ** 2, axis=-1)
    return ref_ssl.vicreg(views, *weights) - own.mean() + own


CASES += [
    Case(
        "arcface",
        kerasloss.ArcFace,
        {"scale": 16.0, "margin": 0.3},
        cosine_scores,
        lambda y, p: ref_proxies.arcface(y, p, 16.0, 0.3),
        activation="tanh",
    ),
    Case(
        "cosface",
        kerasloss.CosFace,
        {"scale": 16.0, "margin": 0.2},
        cosine_scores,
        lambda y, p: ref_proxies.cosface(y, p, 16.0, 0.2),
        activation="tanh",
    ),
    Case(
        "proxy-anchor",
        kerasloss.ProxyAnchor,
        {"alpha": 8.0, "delta": 0.1},
        cosine_scores,
        lambda y, p: _batch_value(ref_proxies.proxy_anchor(y, p, 8.0, 0.1), len(y)),
        activation="tanh",
        tags={"batch-coupled"},
    ),
    Case(
        "proxy-nca",
        kerasloss.ProxyNCA,
        {"scale": 3.0},
        cosine_scores,
        lambda y, p: ref_proxies.proxy_nca(y, p, 3.0),
        activation="tanh",
    ),
    Case(
        "barlow-twins",
        kerasloss.BarlowTwins,
        {"redundancy_weight": 0.05},
        two_views,
        lambda y, p: _batch_value(ref_ssl.barlow_twins(p, 0.05, epsilon=1e-5), len(p)),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "vicreg",
        kerasloss.VICReg,
        {"invariance": 5.0, "variance": 5.0, "covariance": 1.0},
        two_views,
        lambda y, p: _vicreg_per_example(p, 5.0, 5.0, 1.0, 1e-4),
        tags={"embedding", "batch-coupled"},
    ),
    Case(
        "simsiam",
        kerasloss.SimSiam,
        {},
        predictions_and_projections,
        lambda y, p: np.array(
            [ref_ssl.simsiam(*(p[[i], v, k] for v, k in ((0, 0), (1, 0), (0, 1), (1, 1)))) for i in range(len(p))]
        ),
        tags={"embedding"},
    ),
    Case(
        "pinball",
        kerasloss.Pinball,
        {"quantiles": 0.8},
        regression_data,
        lambda y, p: ref_qo.pinball(y, p, 0.8),
    ),
    Case(
        "pinball-quantiles",
        kerasloss.Pinball,
        {"quantiles": [0.1, 0.5, 0.9]},
        quantile_targets,
        lambda y, p: ref_qo.pinball(y[:, None], p, [0.1, 0.5, 0.9]),
    ),
    Case(
        "weighted-kappa",
        kerasloss.WeightedKappa,
        {"num_classes": 5},
        ordinal_probs,
        lambda y, p: _batch_value(ref_qo.weighted_kappa(np.eye(5)[y], p, 5), len(y)),
        activation="softmax",
        tags={"batch-coupled"},
    ),
]

# The class-imbalance losses: class counts from 500 to 1 (a ratio of 500) over the CLASSES classes.
COUNTS = [500, 120, 30, 6, 1]
CB_WEIGHTS = kerasloss.class_balanced_weights(COUNTS, 0.999).tolist()


CASES += [
    Case(
        "logit-adjusted",
        kerasloss.LogitAdjusted,
        {"class_counts": COUNTS, "tau": 1.5},
        class_logits,
        lambda y, p: ref_imbalance.logit_adjusted_ce(y, p, COUNTS, 1.5),
        tags={"sparse", "counts"},
    ),
    Case(
        "balanced-softmax",
        kerasloss.BalancedSoftmax,
        {"class_counts": COUNTS},
        class_logits,
        lambda y, p: ref_imbalance.balanced_softmax_ce(y, p, COUNTS),
        tags={"sparse", "counts"},
    ),
    Case(
        "ldam-drw",
        kerasloss.LDAM,
        {"class_counts": COUNTS, "max_margin": 0.5, "scale": 10.0, "class_weights": CB_WEIGHTS},
        class_logits,
        lambda y, p: np.asarray(CB_WEIGHTS)[y] * ref_imbalance.ldam(y, p, COUNTS, 0.5, 10.0),
        tags={"sparse", "counts"},
    ),
    Case(
        "asymmetric",
        kerasloss.AsymmetricLoss,
        {"gamma_positive": 1.0, "gamma_negative": 4.0, "clip": 0.05},
        binary_logits,
        lambda y, p: ref_imbalance.asymmetric(y, p, 1.0, 4.0, 0.05),
    ),
    Case(
        "asymmetric-probs-detached",
        kerasloss.AsymmetricLoss,
        {"gamma_positive": 0.0, "gamma_negative": 2.5, "clip": 0.2, "from_logits": False, "focusing_gradient": False},
        binary_probs,
        lambda y, p: ref_imbalance.asymmetric(y, np.log(p) - np.log1p(-np.asarray(p, np.float64)), 0.0, 2.5, 0.2),
        activation="sigmoid",
    ),
    Case(
        "poly-logits-smooth",
        kerasloss.PolyLoss,
        {"epsilon": 2.0, "from_logits": True, "label_smoothing": 0.1},
        onehot(class_logits),
        lambda y, p: ref_imbalance.poly1(y, p, 2.0, 0.1),
    ),
    Case(
        "poly-probs",
        kerasloss.PolyLoss,
        {"epsilon": -0.5},
        onehot(class_probs),
        lambda y, p: ref_imbalance.poly1_from_probabilities(y, p, -0.5),
        activation="softmax",
    ),
    Case(
        "sparse-poly-logits",
        kerasloss.SparsePolyLoss,
        {"epsilon": 1.0, "from_logits": True},
        class_logits,
        lambda y, p: ref_imbalance.sparse_poly1(y, p, 1.0),
        tags={"sparse"},
    ),
]

BY_ID = {case.id: case for case in CASES}
