"""Experiment 8: what a metric-learning batch holds. With many classes, a random batch has few positive
pairs (200 training classes of 30, a batch of 64: an anchor has a positive in it with probability about
1 - (1 - 29/5999)^63 = 26%), so pair losses see little to learn from. Two remedies of kerasloss, each
against random batches of the same size: class-balanced P x K batches (`ClassBalancedBatches`, 16
classes x 4) against random batches of 64, and a cross-batch memory of 1,024 past embeddings
(`CrossBatchMemory`) against random batches of 16.

Data: 300 Gaussian classes in an 8-D latent space, mixed into 48 noisy dimensions, 30 examples each. The
encoder (48-64-32) trains on classes 0-199 with MultiSimilarity (alpha 2, beta 50, base 0.5), Adam at
1e-3; it is judged on the 100 classes it never saw, by recall@1 and MAP@R among their 3,000 test
embeddings (kerasloss.metric_learning.retrieval.evaluate), as metric learning is (Musgrave et al. 2020)."""

import keras
import numpy as np

import kerasloss
from sweeps.experiments.common import EpochLog, Outcome, clearly_greater, fit, plot_curves, summary

NAME = "metric_batches"
CLAIM = (
    "With many classes, class-balanced P x K batches and a cross-batch memory each raise recall@1 on unseen "
    "classes over random batches of the same size"
)
ARMS = {  # name: (batches, memory)
    "random 64": ("random", 64, None),
    "P x K 16 x 4": ("class-balanced", 64, None),
    "random 16": ("random", 16, None),
    "random 16 + memory 1024": ("random", 16, 1024),
}
COMPARISONS = (("P x K 16 x 4", "random 64"), ("random 16 + memory 1024", "random 16"))


def many_classes(classes=300, per_class=30, latent=8, dim=48, seed=0):
    """Gaussian classes in a latent space, linearly mixed into noisy observed dimensions."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(classes, latent))
    mixing = rng.normal(size=(latent, dim)) / np.sqrt(latent)
    labels = np.repeat(np.arange(classes), per_class)
    latent_points = centers[labels] + 0.6 * rng.normal(size=(len(labels), latent))
    x = latent_points @ mixing + 0.9 * rng.normal(size=(len(labels), dim))
    return x.astype("float32"), labels.astype("int32")


def run(context):
    x, y = many_classes()
    seen = y < 200
    x_train, y_train, x_test, y_test = x[seen], y[seen], x[~seen], y[~seen]
    epochs = context.epochs(10)
    curves = {arm: [] for arm in ARMS}
    for seed in context.seeds():
        for arm, (batches, size, memory) in ARMS.items():
            keras.utils.set_random_seed(seed)
            encoder = keras.Sequential(
                [keras.Input((x.shape[1],)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(32)]
            )
            model = encoder if memory is None else kerasloss.CrossBatchMemory(encoder, memory_size=memory)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=kerasloss.MultiSimilarity(), jit_compile=True)

            def measure(encoder=encoder):
                embeddings = keras.ops.convert_to_numpy(encoder(x_test))
                metrics = kerasloss.metric_learning.retrieval.evaluate(embeddings, y_test, k=1)
                return {"recall_at_1": metrics["recall@1"], "map_at_r": metrics["map@r"]}

            log = EpochLog(context, f"{arm.replace(' ', '_')}/seed_{seed}", measure)
            if batches == "class-balanced":
                sampler = kerasloss.ClassBalancedBatches(
                    x_train, y_train, classes_per_batch=16, examples_per_class=4, seed=seed
                )
                model.fit(sampler.as_tf_dataset(), epochs=epochs, verbose=0, shuffle=False, callbacks=[log])
            else:
                fit(model, x_train, y_train, epochs, batch_size=size, callbacks=[log], shuffle_seed=seed)
            curves[arm].append((log.history["recall_at_1"], log.history["map_at_r"]))

    recall = {arm: np.array([r for r, _ in runs]) for arm, runs in curves.items()}
    precision = {arm: np.array([m for _, m in runs]) for arm, runs in curves.items()}
    plot_curves(
        context.figure_path(),
        [("recall@1, unseen classes", "recall@1", recall), ("MAP@R, unseen classes", "MAP@R", precision)],
    )
    final = {arm: recall[arm][:, -1] for arm in ARMS}
    final_map = {arm: precision[arm][:, -1] for arm in ARMS}
    measured = "; ".join(
        f"{better} {summary(final[better])} vs {baseline} {summary(final[baseline])} (MAP@R "
        f"{summary(final_map[better])} vs {summary(final_map[baseline])})"
        for better, baseline in COMPARISONS
    )
    measured = f"recall@1 after {epochs} epochs: {measured}"
    agrees = all(clearly_greater(final[better], final[baseline]) for better, baseline in COMPARISONS)
    values = {
        "final_recall_at_1": {arm: float(v.mean()) for arm, v in final.items()},
        "final_map_at_r": {arm: float(v.mean()) for arm, v in final_map.items()},
    }
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
