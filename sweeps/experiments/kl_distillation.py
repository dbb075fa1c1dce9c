"""Experiment 6: KL divergence against cross-entropy, then distillation.

First, with one-hot targets KL(y || q) = -log q_y (the y log y terms vanish), so its gradient must be
cross-entropy's: checked on random logits, and by training the same network with each loss from the
same weights on the same batches. Then soft targets: a student (10-16-8) trained on a teacher's logits
with `DistillationLoss` (T = 4) against the same student on hard labels, with 300 training examples of
the 8-class data; the teacher is the data's exact Bayes posterior."""

import keras
import numpy as np
import tensorflow as tf

import kerasloss
from sweeps import datasets, metrics
from sweeps.experiments.common import EpochLog, Outcome, clearly_greater, fit, plot_curves, summary

NAME = "kl_distillation"
CLAIM = (
    "KL divergence with one-hot targets has the same gradients as cross-entropy; a teacher's soft targets "
    "(distillation) train a student better than hard labels"
)
TRAIN_EXAMPLES = 300


def gradient_gap(seed):
    """Largest |d KL / d logits - d CE / d logits| on random logits with one-hot targets, and its scale."""
    rng = np.random.default_rng(seed)
    logits = tf.constant(3.0 * rng.normal(size=(64, 8)), tf.float32)
    one_hot = tf.one_hot(rng.integers(0, 8, 64), 8)
    gradients = []
    for loss in (kerasloss.KLDivergence(from_logits=True), kerasloss.CategoricalCrossentropy(from_logits=True)):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            value = loss(one_hot, logits)
        gradients.append(tape.gradient(value, logits).numpy())
    return float(np.max(np.abs(gradients[0] - gradients[1]))), float(np.max(np.abs(gradients[1])))


def student(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(8)])


def trained_weights_gap(data, seed, epochs):
    """Train one network with KL and one with cross-entropy from the same weights on the same batches."""
    x, y = data.x_train[:TRAIN_EXAMPLES], np.eye(8, dtype="float32")[data.y_train[:TRAIN_EXAMPLES]]
    weights = []
    for loss in (kerasloss.KLDivergence(from_logits=True), kerasloss.CategoricalCrossentropy(from_logits=True)):
        model = student(seed)
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss)
        fit(model, x, y, epochs, batch_size=32)
        weights.append(np.concatenate([w.ravel() for w in model.get_weights()]))
    return float(np.max(np.abs(weights[0] - weights[1])))


def run(context):
    data = datasets.load("multiclass")
    epochs = context.epochs(150)
    gaps = [gradient_gap(seed) for seed in context.seeds()]
    weight_gap = trained_weights_gap(data, context.seed, context.epochs(20))

    x, labels, teacher = data.x_train[:TRAIN_EXAMPLES], data.y_train[:TRAIN_EXAMPLES], data.teacher[:TRAIN_EXAMPLES]
    variants = {
        "hard labels": (kerasloss.SparseCategoricalCrossentropy(from_logits=True), labels),
        "distilled (T=4)": (kerasloss.DistillationLoss(temperature=4.0), teacher),
    }
    curves = {name: {"accuracy": [], "nll": []} for name in variants}
    for seed in context.seeds():
        for name, (loss, targets) in variants.items():
            model = student(seed)
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, jit_compile=True)

            def measure(model=model):
                logits = keras.ops.convert_to_numpy(model(data.x_test, training=False))
                measured = metrics.multiclass(data.y_test, logits)
                return {"accuracy": measured["accuracy"], "nll": measured["nll"]}

            log = EpochLog(context, f"{name.split(' ')[0]}/seed_{seed}", measure)
            fit(model, x, targets, epochs, batch_size=32, callbacks=[log], shuffle_seed=seed)
            for key in curves[name]:
                curves[name][key].append(log.history[key])

    plot_curves(
        context.figure_path(),
        [
            ("student test accuracy", "accuracy", {n: c["accuracy"] for n, c in curves.items()}),
            ("student test NLL", "NLL", {n: c["nll"] for n, c in curves.items()}),
        ],
    )
    final = {n: {k: np.array([run[-1] for run in v]) for k, v in c.items()} for n, c in curves.items()}
    hard, soft = final["hard labels"], final["distilled (T=4)"]
    largest_gap, scale = max(g[0] for g in gaps), max(g[1] for g in gaps)
    measured = (
        f"one-hot targets: largest gradient difference KL vs cross-entropy {largest_gap:.1e} (gradients up to "
        f"{scale:.2f}); networks trained with each from the same start differ by at most {weight_gap:.1e} in any "
        f"weight. Student on {TRAIN_EXAMPLES} examples after {epochs} epochs: hard labels accuracy "
        f"{summary(hard['accuracy'])}, NLL {summary(hard['nll'])}; distilled accuracy {summary(soft['accuracy'])}, "
        f"NLL {summary(soft['nll'])}"
    )
    agrees = largest_gap < 1e-5 and weight_gap < 1e-4 and clearly_greater(soft["accuracy"], hard["accuracy"])
    values = {
        "gradient_gap": largest_gap,
        "weight_gap": weight_gap,
        "accuracy": {"hard": float(hard["accuracy"].mean()), "distilled": float(soft["accuracy"].mean())},
    }
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
