"""Experiment 2: MSE against Huber (and MAE) fitting y = sin(x) when 5% of the training targets are
outliers; judged on the error against the clean test targets. The lesson's exercise, with an MLP
(1-32-32-1, ReLU), Adam at 0.01 and minibatches of 32."""

import keras
import numpy as np

import kerasloss
from sweeps import datasets, models
from sweeps.experiments.common import EpochLog, Outcome, clearly_greater, fit, plot_curves, summary

NAME = "huber_outliers"
CLAIM = "Huber resists outliers: fitting sin(x) with 5% outlier targets, it ends with a lower clean-test error than MSE"
LOSSES = {
    "MSE": kerasloss.MeanSquaredError,
    "Huber": lambda: kerasloss.Huber(delta=1.0),
    "MAE": kerasloss.MeanAbsoluteError,
}


def run(context):
    data = datasets.load("sin_outliers")
    epochs = context.epochs(150)
    curves = {name: [] for name in LOSSES}
    for seed in context.seeds():
        for name, loss in LOSSES.items():
            keras.utils.set_random_seed(seed)
            model = models.head("regression", (1,), 1, {"hidden": [32, 32]})
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss(), jit_compile=True)

            def measure(model=model):
                estimate = keras.ops.convert_to_numpy(model(data.x_test, training=False))[:, 0]
                return {"clean_test_mse": float(np.mean((estimate - data.y_test) ** 2))}

            log = EpochLog(context, f"{name}/seed_{seed}", measure)
            fit(model, data.x_train, data.y_train, epochs, batch_size=32, callbacks=[log], shuffle_seed=seed)
            curves[name].append(log.history["clean_test_mse"])

    plot_curves(
        context.figure_path(),
        [("error on the clean test targets", "test MSE (log scale)", {n: np.log10(c) for n, c in curves.items()})],
    )
    final = {name: np.array([run[-1] for run in runs]) for name, runs in curves.items()}
    wins = int(np.sum(final["Huber"] < final["MSE"]))
    measured = (
        f"clean-test MSE after {epochs} epochs: MSE {summary(final['MSE'], 4)}, Huber (delta 1) "
        f"{summary(final['Huber'], 4)}, MAE {summary(final['MAE'], 4)}; Huber below MSE in {wins} of "
        f"{context.repeats} seeds"
    )
    agrees = clearly_greater(final["MSE"], final["Huber"])
    values = {"clean_test_mse": {n: float(v.mean()) for n, v in final.items()}, "huber_wins": wins}
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
