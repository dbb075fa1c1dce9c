"""Experiment 10: the asymmetric loss (ASL, Ridnik et al. 2021) against binary cross-entropy on imbalanced
multi-label data, judged by mAP as the ASL paper judges MS-COCO; with them the per-label weighted BCE that
`kerasloss.tools.selector.recommend("multilabel", imbalance=r)` gives today, and the sigmoid focal loss.

Data (generated, nothing downloaded): 20 labels over 24 standard-normal features. One problem for every seed
(`PROBLEM_SEED`): a teacher, a tanh layer of 32 units (weights N(0, 1.5^2 / 24), biases N(0, 0.5^2)) with one
linear read-out per label, each label's score scaled to zero mean and unit variance; label j is positive when
its score plus fresh N(0, 0.5^2) noise exceeds a threshold set (on 200,000 draws) so that its frequency is
0.30 * (1/30) ** (j / 19): 30% for label 0 down to 1% for label 19, 1.78 positive labels per example (8.9% of
the entries; 14% of the examples have none). The labels are correlated through the shared layer (|r| up to
0.24) and the noise caps what any model can reach: ranking by the teacher's own scores (the Bayes rule's
ranking) gives a test mAP of 0.675, 0.519 on the 7 rarest labels (13 to 19, 2.9% down to 1% positives: some
90 down to 30 positives in a training set). Each seed draws 3,000 training, 2,000 validation and 10,000 test
examples; validation gives the per-epoch curves in TensorBoard and the F1 thresholds, and chose nothing else
in the reported runs.

Model and budget, the same for every method: a 24-128-128-20 ReLU MLP with logits out, Adam at 3e-4, batch
64, 40 epochs, not XLA-compiled (measured here: compiling costs 2.3 s a model and gains nothing at this
size). A model trains in about 4 s; the whole run (35 models) takes under 3 minutes on two CPU cores. The
learning rate and the epochs were chosen in a pilot on the validation sets of two seeds that are not reported
(777, 778), by the mean validation mAP, epoch by epoch over 80 epochs, of BCE, weighted BCE, focal and ASL:
0.499 at 3e-4 (its peak, epoch 43), 0.498 at 1e-3 (epoch 12), 0.493 at 3e-3 (epoch 5). 3e-4 for its broad
plateau (0.495 to 0.499 from epoch 30 to 60), where at 1e-3 the methods' own peaks spread from epoch 9 (ASL)
to 19 (BCE); 40 epochs, the peak rounded down. If anything the budget favours ASL: in the pilot at 3e-4 ASL's
validation mAP peaked at epoch 38 and BCE's at 57, and in the reported runs BCE's is still rising at 40 (the
figure's last panel). ASL returns the sum over the labels (as the official class does) and the cross-entropy
and focal losses the mean: Adam's steps do not change when a loss is multiplied by a constant (up to its
epsilon), so the losses are used as they are.

Methods: BCE (`BinaryCrossentropy(from_logits=True)`); the weighted BCE of recommend(): `FocalLoss(gamma=0,
alpha=[...])`, alpha_j = `minority_alpha(r_j)` = sqrt(r_j) / (1 + sqrt(r_j)) from label j's own
negatives:positives ratio r_j in the training set (about 0.6 for the 30% label, 0.9 for the 1% ones); the sigmoid
focal loss, gamma 2, no alpha; ASL with the official training's settings (gamma- 4, gamma+ 0, clip 0.05),
with the library's default exact gradient (`focusing_gradient=True`) and with the weights detached as the
official train.py trains it (`focusing_gradient=False`); and, to see which part matters, ASL's two parts
alone: the focusing without the clip (gamma- 4, clip 0) and the clip without the focusing (gamma- 0, clip
0.05).

Reported, on the test set: mAP (scikit-learn's `average_precision_score` per label, averaged over the labels,
the ASL paper's metric), the mAP of the 7 rarest labels, and macro F1 with each label's threshold the one of
best F1 on validation; as a check that the verdict does not hinge on the fixed budget, the test mAP of each
run's epoch of best validation mAP (within the 40); and the validation mAP at a tenth of the epochs. Each as
mean ± sd over seeds and a 95% t-interval for the mean; each method against BCE seed by seed with
`clearly_greater` both ways (ahead / behind beyond seed noise, or within it).

Full run (5 seeds, 0 ... 4000), test mAP: weighted BCE 0.511 [0.504, 0.517], BCE 0.501 [0.495, 0.508], ASL with
detached weights 0.501, clip alone 0.498, ASL 0.497 [0.492, 0.502], focal 0.496, ASL without clip 0.495. Paired
against BCE: the weighted BCE +0.009 ± 0.001 ahead; ASL -0.005 ± 0.001 behind, and so are focal, the focusing
alone and the clip alone; ASL with detached weights -0.0005 ± 0.0008, within noise. On the 7 rarest labels (BCE
0.276): the weighted BCE +0.023 ± 0.002, ASL with detached weights +0.016 ± 0.004, ASL +0.008 ± 0.004 (ahead, by
2.05 standard errors: at the edge of seed noise), focal +0.006 ± 0.003; the clip alone -0.008 ± 0.001. Per
label, ASL gains 0.006 to 0.031 AP on the four rarest labels (1.7% down to 1%) and loses 0.003 to 0.027 on each
of the other 16; the weighted BCE gains up to 0.053 on the rare labels and loses at most 0.005 on the others.
Stopping each run at its best validation epoch gives the same verdicts, and so does F1 but for ASL without clip
(within noise there). ASL does learn sooner: at epoch 4 its validation mAP is 0.337 against BCE's 0.230 (the
weighted BCE 0.324), but BCE overtakes it between epochs 30 and 35.

The verdict: the claim does not hold here. ASL does not raise mAP over BCE (it is behind by 0.005, beyond
seed noise); it only lifts the rarest labels a little, less than the per-label weighted BCE, which is the best
of the seven on every test measure. The scope: a small MLP trained from scratch on 3,000 examples, limited by
overfitting (0.50 against the Bayes 0.675), not an ImageNet-pretrained network on MS-COCO; it shows that
ASL's gain is not general, not that the published one is wrong.

The paper's figures: ASL reaches 86.6% mAP on MS-COCO (the paper's abstract; the official repository,
github.com/Alibaba-MIIL/ASL, lists that model in MODEL_ZOO.md as TResNet-L at 448 px), and the paper compares
ASL with cross-entropy and focal loss across backbones in its Fig. 8, whose values are not quoted here
because they could not be checked. The official train.py trains with `AsymmetricLoss(gamma_neg=4,
gamma_pos=0, clip=0.05, disable_torch_grad_focal_loss=True)` and Adam at 1e-4 with a one-cycle schedule. In
that repository's issue #30 a user reported ResNet-101 on MS-COCO at about 82.5 mAP with cross-entropy and
82.1 with ASL (gamma- 4, gamma+ 1, clip 0.05) under one training setup; the authors answered that they had
not met a case where ASL failed to beat cross-entropy, and listed the training tricks of their runs (the
thread names EMA and AutoAugment)."""

import copy
import functools

import keras
import matplotlib.pyplot as plt  # the Agg backend: sweeps.experiments (common) selects it first
import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve

import kerasloss
from kerasloss.tools.selector import minority_alpha
from sweeps.experiments.common import EpochLog, Outcome, clearly_greater, fit, interval, paired, summary

NAME = "multi_label"
CLAIM = (
    "On imbalanced multi-label data the asymmetric loss (gamma- = 4, gamma+ = 0, clip 0.05) raises mAP over "
    "binary cross-entropy, as it does on MS-COCO"
)

LABELS, DIM, TEACHER_HIDDEN, NOISE, PROBLEM_SEED = 20, 24, 32, 0.5, 2021
FREQUENCY_HIGH, FREQUENCY_LOW = 0.30, 0.01
N_TRAIN, N_VAL, N_TEST = 3000, 2000, 10000
RARE = 7  # the rarest third of the labels (2.9% ... 1% positives), whose mAP is reported apart
EPOCHS, BATCH, LEARNING_RATE, HIDDEN = 40, 64, 3e-4, 128


def _asl(gamma_negative, clip, focusing_gradient=True):
    return lambda alpha: kerasloss.AsymmetricLoss(
        gamma_positive=0.0, gamma_negative=gamma_negative, clip=clip, focusing_gradient=focusing_gradient
    )


# key: (label, loss(per-label alpha)). The weighted BCE is what recommend("multilabel", imbalance=r) gives, with
# alpha per label from that label's own training ratio, as its reason advises.
METHODS = {
    "bce": ("BCE", lambda alpha: kerasloss.BinaryCrossentropy(from_logits=True)),
    "bce_weighted": ("weighted BCE", lambda alpha: kerasloss.FocalLoss(gamma=0.0, alpha=alpha, from_logits=True)),
    "focal": ("focal (gamma 2)", lambda alpha: kerasloss.FocalLoss(gamma=2.0, alpha=None, from_logits=True)),
    "asl": ("ASL", _asl(4.0, 0.05)),
    "asl_detached": ("ASL, weights detached", _asl(4.0, 0.05, focusing_gradient=False)),
    "asl_focusing": ("ASL without clip", _asl(4.0, 0.0)),
    "asl_clip": ("clip alone", _asl(0.0, 0.05)),
}
ORDER = tuple(METHODS)
NAMES = {key: label for key, (label, _) in METHODS.items()}
COLORS = {key: f"C{i}" for i, key in enumerate(ORDER)}


def label_frequencies():
    """The designed positive rate of each label: geometric from FREQUENCY_HIGH (label 0) to FREQUENCY_LOW."""
    return FREQUENCY_HIGH * (FREQUENCY_LOW / FREQUENCY_HIGH) ** (np.arange(LABELS) / (LABELS - 1))


@functools.cache
def _problem():
    """The teacher (a tanh layer of TEACHER_HIDDEN units, one linear read-out per label, each score scaled to
    zero mean and unit variance) and the thresholds that give each label its designed frequency, from 200,000
    draws of PROBLEM_SEED."""
    rng = np.random.default_rng(PROBLEM_SEED)
    weights = rng.normal(size=(DIM, TEACHER_HIDDEN)) * 1.5 / np.sqrt(DIM)
    bias = rng.normal(size=TEACHER_HIDDEN) * 0.5
    readout = rng.normal(size=(TEACHER_HIDDEN, LABELS)) / np.sqrt(TEACHER_HIDDEN)
    scores = np.tanh(rng.normal(size=(200_000, DIM)) @ weights + bias) @ readout
    mean, sd = scores.mean(0), scores.std(0)
    noisy = (scores - mean) / sd + NOISE * rng.normal(size=scores.shape)
    thresholds = np.array([np.quantile(noisy[:, j], 1.0 - f) for j, f in enumerate(label_frequencies())])
    return weights, bias, readout, mean, sd, thresholds


def teacher_scores(x):
    """Each label's noise-free score: P(y_j = 1 | x) rises with it, so it ranks as the Bayes rule does."""
    weights, bias, readout, mean, sd, _ = _problem()
    return (np.tanh(x @ weights + bias) @ readout - mean) / sd


def _draw(n, rng):
    x = rng.normal(size=(n, DIM))
    scores = teacher_scores(x)
    y = scores + NOISE * rng.normal(size=scores.shape) > _problem()[-1]
    return x.astype("float32"), y.astype("float32")


def multi_label_data(seed):
    """One seed's (train, validation, test), each (x, multi-hot y)."""
    rng = np.random.default_rng(seed)
    return _draw(N_TRAIN, rng), _draw(N_VAL, rng), _draw(N_TEST, rng)


def label_alpha(y):
    """alpha per label as recommend() rules it for one label, sqrt(r) / (1 + sqrt(r)) (rounded to 0.01), with r
    = negatives / positives of that label in the training set."""
    positives = np.maximum(y.sum(0), 1.0)
    return [minority_alpha(float(max(len(y) - p, 1.0) / p)) for p in positives]


def per_label_ap(y, scores):
    """scikit-learn's average precision of each label (the ASL paper's metric; mAP is their mean)."""
    return np.array([average_precision_score(y[:, j], scores[:, j]) for j in range(y.shape[1])])


def _fast_ap(y, scores):
    """The same average precision for all labels at once (equal to scikit-learn's where no scores tie): for the
    per-epoch validation curves, where scikit-learn's loop would cost more than the epoch."""
    ranked = np.take_along_axis(y, np.argsort(-scores, axis=0, kind="stable"), axis=0)
    precision = np.cumsum(ranked, axis=0) / np.arange(1, len(y) + 1)[:, None]
    return (precision * ranked).sum(0) / np.maximum(ranked.sum(0), 1.0)


def validated_f1(y_val, val_scores, y_test, test_scores):
    """Macro F1 on test, each label's threshold the one that maximises its F1 on validation."""
    f1 = []
    for j in range(y_val.shape[1]):
        precision, recall, thresholds = precision_recall_curve(y_val[:, j], val_scores[:, j])
        values = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        predicted = test_scores[:, j] >= thresholds[int(np.argmax(values))]
        hits = float((predicted * y_test[:, j]).sum())
        f1.append(2 * hits / max(float(predicted.sum() + y_test[:, j].sum()), 1.0))
    return float(np.mean(f1))


def _model(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((DIM,))
    hidden = keras.layers.Dense(HIDDEN, activation="relu")(inputs)
    hidden = keras.layers.Dense(HIDDEN, activation="relu")(hidden)
    return keras.Model(inputs, keras.layers.Dense(LABELS)(hidden))


def _scores(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def train(context, key, seed, data, validation, epochs, learning_rate=LEARNING_RATE, run=None):
    """One method at one seed: the trained model, its per-epoch validation history, and the weights of its epoch
    of best validation mAP."""
    x, y = data
    model = _model(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=METHODS[key][1](label_alpha(y)))
    best = {"map": -1.0, "weights": None}

    def measure(model=model):
        ap = _fast_ap(validation[1], _scores(model, validation[0]))
        if ap.mean() > best["map"]:
            best.update(map=float(ap.mean()), weights=copy.deepcopy(model.get_weights()))
        return {"map": ap.mean(), "rare_map": ap[-RARE:].mean()}

    log = EpochLog(context, run or f"{key}/seed_{seed}", measure)
    fit(model, x, y, epochs, batch_size=BATCH, callbacks=[log], shuffle_seed=seed)
    return model, log.history, best["weights"]


def _figure(path, results, seeds, frequencies):
    figure, axes = plt.subplots(1, 4, figsize=(20, 4.4))
    positions = np.arange(len(ORDER))
    for axis, metric, title in (
        (axes[0], "map", "mAP (test)"),
        (axes[1], "rare_map", f"mAP of the {RARE} rarest labels (test)"),
    ):
        spans = [interval(results[metric][key]) for key in ORDER]
        means = np.array([s[0] for s in spans])
        errors = np.array([[s[0] - s[2] for s in spans], [s[3] - s[0] for s in spans]])
        axis.errorbar(positions, means, yerr=errors, fmt="o", capsize=4, color="C0", label="mean, 95% t-interval")
        for i, key in enumerate(ORDER):
            axis.scatter(np.full(len(seeds), i + 0.18), results[metric][key], s=10, color="C1", alpha=0.7)
        axis.scatter([], [], s=10, color="C1", label="seeds")
        axis.axhline(np.mean(results[metric]["bce"]), color="C0", lw=0.8, ls=":")
        axis.set_xticks(positions, [NAMES[key] for key in ORDER], rotation=35, ha="right", fontsize=8)
        axis.set_title(f"{title}, {len(seeds)} seeds", fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    reference = results["per_label"]["bce"].mean(axis=0)
    for key in ORDER[1:]:
        axes[2].plot(
            frequencies,
            results["per_label"][key].mean(axis=0) - reference,
            marker="o",
            ms=3,
            label=NAMES[key],
            color=COLORS[key],
        )
    axes[2].axhline(0.0, color="k", lw=0.8)
    axes[2].set_xscale("log")
    axes[2].set_title("per-label AP minus BCE's (test, mean over seeds)", fontsize=10)
    axes[2].set_xlabel("the label's frequency of positives")
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=7)
    for key in ORDER:
        curve = results["curves"][key].mean(axis=0)
        axes[3].plot(
            np.arange(1, len(curve) + 1),
            curve,
            label=NAMES[key],
            color=COLORS[key],
            lw=2.0 if key in ("bce", "asl") else 1.0,
        )
    axes[3].set_title("validation mAP by epoch (mean over seeds)", fontsize=10)
    axes[3].set_xlabel("epoch")
    axes[3].set_ylim(max(0.0, min(c.mean(axis=0)[-1] for c in results["curves"].values()) - 0.15), None)
    axes[3].grid(alpha=0.3)
    axes[3].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _describe(results, metric):
    parts = []
    for key in sorted(ORDER, key=lambda key: -np.mean(results[metric][key])):
        mean, sd, low, high = interval(results[metric][key])
        mark = ""
        if key != "bce":
            mark = "*" if clearly_greater(results[metric][key], results[metric]["bce"]) else ""
            mark = "†" if clearly_greater(results[metric]["bce"], results[metric][key]) else mark
        parts.append(f"{NAMES[key]} {mean:.3f} ± {sd:.3f} [{low:.3f}, {high:.3f}]{mark}")
    return "; ".join(parts)


def run(context):
    epochs = context.epochs(EPOCHS)
    seeds = context.seeds()
    results = {metric: {} for metric in ("map", "rare_map", "f1", "best_epoch_map")}
    results["per_label"] = {key: [] for key in ORDER}
    results["curves"] = {key: [] for key in ORDER}
    bayes, baseline, train_frequencies = [], [], []
    for seed in seeds:
        train_data, validation, (x_test, y_test) = multi_label_data(seed)
        train_frequencies.append(train_data[1].mean(0))
        ap = per_label_ap(y_test, teacher_scores(x_test))
        bayes.append((ap.mean(), ap[-RARE:].mean()))
        baseline.append(y_test.mean())  # a random ranking's expected AP is the label's frequency
        for key in ORDER:
            model, history, best_weights = train(context, key, seed, train_data, validation, epochs)
            results["curves"][key].append(history["map"])
            test_scores = _scores(model, x_test)
            ap = per_label_ap(y_test, test_scores)
            results["per_label"][key].append(ap)
            results["map"].setdefault(key, []).append(float(ap.mean()))
            results["rare_map"].setdefault(key, []).append(float(ap[-RARE:].mean()))
            results["f1"].setdefault(key, []).append(
                validated_f1(validation[1], _scores(model, validation[0]), y_test, test_scores)
            )
            model.set_weights(best_weights)  # the epoch of best validation mAP
            stopped = per_label_ap(y_test, _scores(model, x_test))
            results["best_epoch_map"].setdefault(key, []).append(float(stopped.mean()))
    for name in ("per_label", "curves"):
        results[name] = {key: np.array(v) for key, v in results[name].items()}
    frequencies = label_frequencies()
    _figure(context.figure_path(), results, seeds, frequencies)

    metrics = ("map", "rare_map", "f1", "best_epoch_map")
    versus = {
        metric: {key: paired(results[metric][key], results[metric]["bce"]) for key in ORDER[1:]} for metric in metrics
    }
    agrees = versus["map"]["asl"][2] == "ahead"
    bayes_map, bayes_rare = (float(v) for v in np.mean(bayes, axis=0))

    tenth = max(1, epochs // 10)  # ASL and the weighted BCE learn the rare labels sooner; BCE catches up
    soon = {key: float(results["curves"][key][:, tenth - 1].mean()) for key in ORDER}
    best_epochs = {key: float((results["curves"][key].argmax(axis=1) + 1).mean()) for key in ORDER}

    def differences(metric):
        return "; ".join(f"{NAMES[k]} {d:+.4f} ± {e:.4f} ({verdict})" for k, (d, e, verdict) in versus[metric].items())

    measured = (
        f"test mAP after {epochs} epochs, mean ± sd over {len(seeds)} seeds [95% t-interval], best first (* above "
        f"BCE, † below it, beyond seed noise, paired): {_describe(results, 'map')}. The {RARE} rarest labels' mAP: "
        f"{_describe(results, 'rare_map')}. Bayes mAP {bayes_map:.3f} (rarest {bayes_rare:.3f}); a random ranking "
        f"{np.mean(baseline):.3f}. Paired against BCE (difference ± se): mAP {differences('map')}. Rarest labels: "
        f"{differences('rare_map')}. Macro F1 at thresholds chosen on validation: {differences('f1')}. Each run "
        f"stopped at its best validation epoch instead, mAP: {differences('best_epoch_map')}. Validation mAP at epoch "
        f"{tenth}: " + ", ".join(f"{NAMES[key]} {soon[key]:.3f}" for key in ORDER)
    )
    values = {
        "epochs": epochs,
        "seeds": seeds,
        "label_frequencies": [round(float(f), 4) for f in frequencies],
        "train_frequencies": [round(float(f), 4) for f in np.mean(train_frequencies, axis=0)],
        "bayes_map": bayes_map,
        "bayes_rare_map": bayes_rare,
        "baseline_map": float(np.mean(baseline)),
        "versus_bce": versus,
        "validation_map_soon": (tenth, soon),
        "best_epochs": best_epochs,
        "per_label_ap": {key: v.mean(axis=0).round(4).tolist() for key, v in results["per_label"].items()},
        "validation_curves": {key: v.mean(axis=0).round(4).tolist() for key, v in results["curves"].items()},
        "ranking": sorted(ORDER, key=lambda key: -np.mean(results["map"][key])),
        "summary": {key: summary(v) for key, v in results["map"].items()},
        "per_seed": {key: list(v) for key, v in results["map"].items()},
    }
    for metric in metrics:
        values[metric] = {key: interval(v) for key, v in results[metric].items()}
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
