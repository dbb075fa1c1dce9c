"""A decision guide for choosing a loss: describe the problem, get the loss, its arguments and the reason.

    >>> choice = kerasloss.recommend("binary", imbalance=20)
    >>> choice.code
    'kerasloss.FocalLoss(gamma=0.0, alpha=0.82, from_logits=True)'
    >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss=choice.loss)

The guide. Regression: MSE; Huber with outlier targets (MAE when the outliers are pure noise). Binary and
multi-label: cross-entropy on logits; with imbalance, cross-entropy weighted towards the minority class
(`FocalLoss` with gamma = 0), the weight rising smoothly as the square root of the majority:minority ratio r:

    alpha = sqrt(r) / (1 + sqrt(r))      (0.5 at 1:1, 0.75 at 9:1, 0.76 at 10:1, 0.91 at 100:1; at most 0.99)

so a minority example weighs sqrt(r) times a majority one. The weight lifts minority recall at a cost in precision;
the alternatives are `class_weight` in `fit` and a decision threshold chosen on validation data. The focusing term
(1 - p_t)^gamma is never recommended: this project measured it within seed noise of cross-entropy on imbalanced data
(README, "The lesson's experiments", `focal_recall`), on multi-label data it and the asymmetric loss fell behind
cross-entropy while the per-label weight led it (experiment 10, `multi_label`), and under label noise it up-weights
the hard examples, which are often the mislabelled ones. Multi-class: cross-entropy; given the training examples per
class (`class_counts`), the logit-adjusted loss, which beat cross-entropy, class-balanced weights and LDAM-DRW on
long-tailed classes in this project's experiment 9 (post-hoc logit adjustment where the loss must stay a
cross-entropy); given only a ratio (`imbalance`), `class_weight` advice. Label smoothing 0.1 against label noise or
overconfidence; a teacher: distillation; embeddings: triplet with semi-hard mining when labels exist, NT-Xent on
augmented views when they do not.

Every classifier recommendation expects logits (`from_logits=True`): a final layer without sigmoid or softmax.
This module imports no backend: under `python -m kerasloss recommend` (which imports no loss module) the
advice, `.code` and `.reason` come without Keras; `.loss` builds the loss, importing kerasloss's losses.
"""

import importlib
import math
from dataclasses import dataclass, field
from functools import cached_property

from kerasloss.core import hyperparameters
from kerasloss.core.errors import invalid_argument

__all__ = ["Recommendation", "recommend"]

TASKS = ("regression", "binary", "multiclass", "multilabel", "embedding")
SMOOTHING = 0.1
MAX_ALPHA = 0.99  # alpha = 1 would give the majority class no weight at all


@dataclass(frozen=True)
class Recommendation:
    """A recommended loss: its kerasloss class name, the constructor arguments chosen, and why."""

    class_name: str
    arguments: dict = field(default_factory=dict)
    reason: str = ""

    @cached_property
    def loss(self):
        """The loss object, ready for `model.compile` (built, and Keras imported, on first access)."""
        cls = getattr(importlib.import_module("kerasloss"), self.class_name)
        return cls(**self.arguments)

    @property
    def code(self):
        """The Python expression that builds the same loss."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        return f"kerasloss.{self.class_name}({args})"

    def __str__(self):
        return f"{self.code}\n  {self.reason}"


def _check(task, imbalance, outliers, label_noise, overconfident, teacher, labels, views, minority_class, counts):
    if task not in TASKS:
        raise invalid_argument("task", f"one of {', '.join(TASKS)}", task)
    if not 1 <= imbalance < math.inf:  # also refuses NaN
        raise invalid_argument(
            "imbalance", "the majority:minority class ratio, a finite number >= 1 (9 for 90/10)", imbalance
        )
    if labels not in ("sparse", "one_hot"):
        raise invalid_argument("labels", "'sparse' (class ids) or 'one_hot'", labels)
    if minority_class not in (0, 1):
        raise invalid_argument("minority_class", "0 or 1 (the rare class of a binary task)", minority_class)
    applies = {
        "outliers": (outliers, ("regression",), "for wrong class labels use label_noise=True"),
        "imbalance": (imbalance != 1, ("binary", "multiclass", "multilabel"), "it is a class ratio"),
        "label_noise": (label_noise, ("binary", "multiclass", "multilabel"), "for noisy targets use outliers=True"),
        "overconfident": (overconfident, ("binary", "multiclass", "multilabel"), "it is about class probabilities"),
        "teacher": (teacher, ("binary", "multiclass"), "distillation matches a teacher's class probabilities"),
        "views": (views, ("embedding",), "it names self-supervised pairs of augmented views"),
        "labels": (labels != "sparse", ("multiclass",), "it picks sparse or categorical cross-entropy"),
        "class_counts": (counts is not None, ("multiclass",), "it counts the training examples of each class"),
    }
    for name, (given, tasks, hint) in applies.items():
        if given and task not in tasks:
            raise ValueError(f"`{name}` does not apply to task={task!r} ({hint}); it applies to {', '.join(tasks)}")
    if counts is not None and imbalance != 1:
        raise ValueError("give `class_counts` or `imbalance`, not both: the counts give the ratio")
    if counts is not None and teacher:
        raise ValueError("`class_counts` does not apply with teacher=True: distillation matches the teacher's classes")
    if counts is None:
        return None
    counts = hyperparameters.class_counts("class_counts", counts)
    if len(counts) < 2:
        raise invalid_argument("class_counts", "the training examples of each class, at least 2 classes", counts)
    return counts


def _regression(outliers):
    if outliers:
        return (
            "Huber",
            {"delta": 1.0},
            (
                "Huber: squared for errors below delta, linear beyond, so an outlier pulls with a bounded gradient "
                "while ordinary errors keep MSE's smooth one. Set delta near the size of an ordinary residual "
                "(targets scaled to unit variance: 1). In this project's experiment huber_outliers (sin(x), 5% "
                "outlier targets) Huber ended with a lower clean-target error than MSE in every seed, and MAE lower "
                "still: use MAE if the outliers are pure noise and smoothness near zero does not matter."
            ),
        )
    return (
        "MeanSquaredError",
        {},
        (
            "MSE: the default for regression with roughly Gaussian errors; its gradient is proportional to the "
            "error. With outliers in the targets, ask again with outliers=True."
        ),
    )


def _smoothing_note(label_noise, overconfident):
    notes = []
    if label_noise:
        notes.append(
            " Label smoothing 0.1 stops the model from fitting wrong labels with certainty. No focusing term "
            "(gamma = 0): focal loss's (1 - p_t)^gamma up-weights the hard examples, and with label noise the "
            "hardest are often the mislabelled ones, so it would pull the model towards the noise."
        )
    if overconfident:
        notes.append(
            " Label smoothing 0.1 caps the target below 1, so logits stop growing; whether calibration improves "
            "depends on the data (with clean labels it may not), so measure calibration error on validation data."
        )
    return "".join(notes)


def minority_alpha(imbalance: float, minority_class: int = 1) -> float:
    """alpha (class 1's weight; class 0 gets 1 - alpha) giving the minority class sqrt(r) times the majority's.

    alpha = sqrt(r) / (1 + sqrt(r)) for minority class 1 (1 minus that for class 0), rounded to 0.01 and at most
    0.99: 0.5 at 1:1, 0.75 at 9:1, rising smoothly. The square root is a middle course between no weighting and
    full inverse-frequency weighting (alpha = r / (1 + r)), which buys more recall at a larger cost in precision.
    """
    root = math.sqrt(imbalance)
    alpha = min(round(root / (1.0 + root), 2), MAX_ALPHA)
    return alpha if minority_class == 1 else round(1.0 - alpha, 2)


# Experiment 10 (sweeps/experiments/multi_label.py; docs/experiments/results.md): test mAP, 20 labels, 5 seeds.
MULTI_LABEL_MEASURED = (
    "In this project's experiment 10 (20 labels from 30% down to 1% positives, 5 seeds) this per-label weighted "
    "cross-entropy had the best test mAP, 0.511 [0.504, 0.517] against plain BCE's 0.501 [0.495, 0.508], and the "
    "best on the rarest labels; the asymmetric loss (AsymmetricLoss, gamma- 4, clip 0.05), built for many "
    "negatives per positive, was 0.497 [0.492, 0.502], behind BCE beyond seed noise (within noise of it with the "
    "official detached focusing weights), and sigmoid focal loss 0.496."
)


def _weighted_reason(imbalance, alpha, minority_class, multilabel):
    weight = max(alpha, 1 - alpha) / min(alpha, 1 - alpha)  # the ratio the rounded alpha gives, said once
    other = 1 - minority_class
    if multilabel:
        alternative = (
            "`class_weight` in `fit` does not apply to several labels; give alpha per label instead (a list, one "
            f"value per label from its own ratio), and one decision threshold per label. {MULTI_LABEL_MEASURED}"
        )
    else:
        alternative = (
            f"The same weighting with plain cross-entropy: BinaryCrossentropy and `class_weight={{{minority_class}: "
            f"{weight:.3g}, {other}: 1.0}}` in `model.fit`; or train unweighted and move the decision threshold on "
            f"sigmoid(logit) {'below' if minority_class == 1 else 'above'} 0.5."
        )
    return (
        f"Class-weighted binary cross-entropy{' per label' if multilabel else ''} on logits: FocalLoss with gamma = 0 "
        f"is cross-entropy times alpha_t, alpha = {alpha} for class 1 and 1 - alpha = {round(1 - alpha, 2)} for "
        f"class 0, so at {imbalance:g}:1 a minority (class {minority_class}) example weighs "
        f"{weight:.3g} times a majority one; alpha = sqrt(r) / (1 + sqrt(r)) "
        f"(at most {MAX_ALPHA}) rises smoothly with the ratio r. The "
        "weight is what lifts minority recall, and it costs precision: it raises every score of the minority class, "
        "so more majority examples cross the 0.5 threshold too (it moves where 0.5 falls more than it ranks the "
        "classes better). The focusing term (1 - p_t)^gamma stays off: in this project's experiment focal_recall "
        "(90/10 data) it was within seed noise of plain cross-entropy, and the focal paper's alpha = 0.25 weighted "
        f"the minority class down and lowered its recall. {alternative} Whichever you train with, choose the "
        "decision threshold on validation data for the precision you can afford; full inverse-frequency weighting "
        "(alpha = r / (1 + r)) buys more recall at a larger cost in precision."
    )


def _binary(imbalance, smooth, note, minority_class, multilabel):
    if imbalance == 1:
        name, arguments = "BinaryCrossentropy", {"from_logits": True}
        reason = (
            f"Binary cross-entropy{' per label' if multilabel else ''} on logits: punishes confident mistakes hard "
            "(-log p) and keeps a strong gradient where a sigmoid saturates. For imbalanced classes pass imbalance= "
            "(the majority:minority ratio) for a class weight that grows smoothly with it."
        )
    else:
        alpha = minority_alpha(imbalance, minority_class)
        name, arguments = "FocalLoss", {"gamma": 0.0, "alpha": alpha, "from_logits": True}
        reason = _weighted_reason(imbalance, alpha, minority_class, multilabel)
    if smooth:
        arguments["label_smoothing"] = SMOOTHING
    return name, arguments, reason + note


def _multiclass(imbalance, smooth, note, labels):
    one_hot = labels == "one_hot"
    arguments = {"from_logits": True}
    if smooth:
        arguments["label_smoothing"] = SMOOTHING
    reason = (
        f"{'Categorical' if one_hot else 'Sparse categorical'} cross-entropy on logits: only the true class's "
        "-log p counts, so a confident wrong answer costs far more than an unsure one."
    )
    if imbalance > 1:
        reason += (
            f" At {imbalance:g}:1 between the largest and smallest class, weight the rare classes in `model.fit`: "
            f"`class_weight={{c: sqrt(n_largest / n_c)}}` (1 for the largest class, {math.sqrt(imbalance):.2g} for "
            "the smallest), the square-root rule of the binary recommendation. The weights raise the rare classes' "
            "recall and cost their precision (more examples of other classes are assigned to them). Or train "
            "unweighted and move the decision threshold: add a per-class offset to the logits before the argmax, "
            "chosen on validation data. Focal loss's focusing term (1 - p_t)^gamma is not recommended: in this "
            "project's experiment focal_recall it was within seed noise of cross-entropy; the class weight did "
            "the work. With the training examples per class, pass class_counts= instead: the logit-adjusted loss "
            "beat class weights in this project's experiment 9 on long-tailed classes."
        )
    return "CategoricalCrossentropy" if one_hot else "SparseCategoricalCrossentropy", arguments, reason + note


# Experiment 9 (sweeps/experiments/long_tail.py; docs/losses/imbalance.md): balanced accuracy on a balanced test set,
# 10 overlapping classes, 5 seeds, mean [95% interval].
LONG_TAIL_MEASURED = (
    "In this project's experiment 9 (10 overlapping classes, 500 down to 5 training examples, a balanced test set, "
    "5 seeds) the logit-adjusted loss raised balanced accuracy from 0.498 [0.491, 0.505] with cross-entropy to "
    "0.613 [0.601, 0.624] at ratio 100, ahead of class-balanced weights (0.586), post-hoc adjustment (0.601) and "
    "LDAM-DRW (0.524), and from 0.663 to 0.690 at ratio 10, where class-balanced weights (0.689) and post-hoc "
    "adjustment (0.690) tie with it. "
)


def _long_tailed(counts, smooth, note, labels):
    """Multi-class with the training counts: the logit-adjusted loss (or post-hoc adjustment where the loss must
    be a cross-entropy: one-hot labels, label smoothing)."""
    ratio = max(counts) / min(counts)
    if ratio == 1:
        name, arguments, reason = _multiclass(1.0, smooth, note, labels)
        return name, arguments, reason + " The classes are balanced (equal counts): no prior to correct for."
    posthoc = (
        "`kerasloss.logit_adjustment(class_counts)` (log of the prior) subtracted from the trained model's logits "
        "before the argmax"
    )
    aim = (
        "It targets the balanced error (every class counted alike, as a balanced test set or macro recall counts "
        "them): if what matters is accuracy on data distributed as the training set, plain cross-entropy is right, "
        "since the adjustment trades the frequent classes' recall for the rare ones'."
    )
    if labels == "one_hot" or smooth:
        name, arguments, reason = _multiclass(1.0, smooth, "", labels)
        why = "one-hot labels" if labels == "one_hot" else "label smoothing"
        return (
            name,
            arguments,
            (
                f"{reason} At {ratio:.3g}:1 between the largest and smallest class: post-hoc logit adjustment, "
                f"{posthoc} (Menon et al. 2021), since {why} rules out LogitAdjusted (class ids, no smoothing). "
                f"{LONG_TAIL_MEASURED}Post-hoc adjustment of a cross-entropy model is the 0.601 and the 0.690 there. "
                f"{aim}{note}"
            ),
        )
    reason = (
        f"Logit-adjusted cross-entropy (Menon et al. 2021) at {ratio:.3g}:1 between the largest and smallest class: "
        "softmax cross-entropy of logits + tau * log(prior), tau = 1, the prior from class_counts; the model's plain "
        "logits then predict for the balanced error, and no adjustment is needed at prediction time. BalancedSoftmax "
        f"is the same loss. {LONG_TAIL_MEASURED}The default suite's `long_tail` sweep searches tau with the other "
        f"long-tail losses on balanced validation data; post-hoc, {posthoc}, is the alternative for a model already "
        f"trained with cross-entropy. {aim}"
    )
    given = [int(n) if float(n).is_integer() else float(n) for n in counts]  # as counted: 500, not 500.0
    return "LogitAdjusted", {"class_counts": given, "tau": 1.0}, reason + note


def _embedding(views):
    if views:
        return (
            "NTXent",
            {"temperature": 0.1},
            (
                "NT-Xent (SimCLR): without labels, two augmented views of an example are the positive pair and "
                "every other example in the batch a negative; y_pred is (batch, 2, dim). Temperature 0.1 as in "
                "SimCLR; lower sharpens the push on hard negatives. Larger batches give more negatives."
            ),
        )
    return (
        "TripletLoss",
        {"margin": 0.5, "mining": "semi-hard"},
        (
            "Triplet loss with online semi-hard mining (FaceNet): each anchor's positive against the closest "
            "negative still farther than it, which learns steadily where the hardest negatives stall training. "
            "Margin 0.5 on L2-normalized embeddings (keras.layers.UnitNormalization; distances in [0, 2]); in the "
            "sweeps triplet_blobs5 and triplet_digits margins 0.2 and 0.5 were within seed noise of each other "
            "(3 seeds), so sweep it on your data. Batches need several "
            "examples per class. SupervisedContrastive is the softmax alternative."
        ),
    )


def _distillation():
    return (
        "DistillationLoss",
        {"temperature": 4.0},
        (
            "Distillation (Hinton et al. 2015): the student matches the teacher's softened probabilities "
            "(y_true = the teacher's logits, one per class, 2 for binary), which carry how classes resemble "
            "each other; temperature 4 softens them, the loss is scaled by T^2. Blend with cross-entropy on "
            "the true labels when you have them."
        ),
    )


def recommend(
    task: str,
    *,
    imbalance: float = 1.0,
    outliers: bool = False,
    label_noise: bool = False,
    overconfident: bool = False,
    teacher: bool = False,
    labels: str = "sparse",
    views: bool = False,
    minority_class: int = 1,
    class_counts=None,
) -> Recommendation:
    """Recommend a loss for a problem, following the guide in this module's docstring.

    Args:
        task: "regression", "binary", "multiclass", "multilabel" or "embedding".
        imbalance: majority:minority class ratio r (9 for 90/10), finite and >= 1. Binary and multi-label: the
            minority class gets weight sqrt(r) (see `minority_alpha`); multi-class: the reason gives class weights.
        outliers: regression targets include gross errors.
        label_noise: some class labels are wrong (label smoothing; never a focusing term).
        overconfident: the model's probabilities are too confident (poor calibration).
        teacher: a trained teacher's logits are available (distillation; binary or multiclass).
        labels: multiclass labels as "sparse" class ids or "one_hot" rows.
        views: embedding learning from two augmented views per example, without labels.
        minority_class: for binary tasks, which class is rare (alpha favours it).
        class_counts: multi-class: the number of training examples of each class (instead of `imbalance`). Unequal
            counts get the logit-adjusted loss, measured in this project's experiment 9 (long-tailed classes).

    Returns:
        A `Recommendation`: `.loss` (ready for `model.compile`), `.class_name`, `.arguments`, `.reason`, `.code`.

    Raises:
        ValueError: an unknown task, an out-of-range value, or an option that does not apply to the task.
    """
    counts = _check(
        task, imbalance, outliers, label_noise, overconfident, teacher, labels, views, minority_class, class_counts
    )
    smooth = label_noise or overconfident
    note = _smoothing_note(label_noise, overconfident)
    if task == "regression":
        choice = _regression(outliers)
    elif task == "embedding":
        choice = _embedding(views)
    elif teacher:
        choice = _distillation()
    elif task == "multiclass" and counts is not None:
        choice = _long_tailed(counts, smooth, note, labels)
    elif task == "multiclass":
        choice = _multiclass(imbalance, smooth, note, labels)
    else:
        choice = _binary(imbalance, smooth, note, minority_class, task == "multilabel")
    return Recommendation(*choice)
