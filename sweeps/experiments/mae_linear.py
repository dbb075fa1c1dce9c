"""Experiment 7: MSE against MAE on a linear model with outlier targets, the second seed's comparison:
100 examples with 5 standard-normal features, targets x . w + noise with the last 5 shifted by +10, a
`Dense(1)` trained full-batch by Adam at 0.01. Judged on the error against clean targets of fresh
examples, after the article's 100 epochs and after 1000 (converged)."""

import keras
import numpy as np

import kerasloss
from sweeps.experiments.common import EpochLog, Outcome, clearly_greater, fit, plot_curves, summary

NAME = "mae_linear"
CLAIM = "On a linear model with outlier targets, MSE is pulled by the outliers while MAE stays robust"
LOSSES = {"MSE": kerasloss.MeanSquaredError, "MAE": kerasloss.MeanAbsoluteError}
WEIGHTS = np.array([1.5, -2.0, 0.5, 1.0, -1.0], "float32")


def make_data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 5)).astype("float32")
    y = (x @ WEIGHTS + 0.3 * rng.normal(size=100)).astype("float32")
    y[95:] += 10.0  # the article's outliers
    x_test = rng.normal(size=(1000, 5)).astype("float32")
    return x, y[:, None], x_test, (x_test @ WEIGHTS)[:, None]


def run(context):
    short, long = context.epochs(100), context.epochs(1000)
    curves = {name: [] for name in LOSSES}
    for seed in context.seeds():
        x, y, x_test, y_test = make_data(seed)
        for name, loss in LOSSES.items():
            keras.utils.set_random_seed(seed)
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss(), jit_compile=True)

            def measure(model=model, x_test=x_test, y_test=y_test):
                error = keras.ops.convert_to_numpy(model(x_test, training=False)) - y_test
                return {"clean_test_mse": float(np.mean(error**2)), "bias": float(model.layers[0].get_weights()[1][0])}

            log = EpochLog(context, f"{name}/seed_{seed}", measure)
            fit(model, x, y, long, batch_size=len(x), callbacks=[log])
            curves[name].append(log.history)

    plot_curves(
        context.figure_path(),
        [
            ("error on clean targets of fresh examples", "test MSE (log10)",
             {n: np.log10([h["clean_test_mse"] for h in c]) for n, c in curves.items()}),
            ("learned intercept (true: 0)", "bias", {n: [h["bias"] for h in c] for n, c in curves.items()}),
        ],
    )  # fmt: skip
    at = {n: {e: np.array([h["clean_test_mse"][e - 1] for h in c]) for e in (short, long)} for n, c in curves.items()}
    bias = {n: np.array([h["bias"][-1] for h in c]) for n, c in curves.items()}
    measured = (
        f"clean-test MSE after {short} epochs: MSE {summary(at['MSE'][short])}, MAE {summary(at['MAE'][short])}; "
        f"after {long}: MSE {summary(at['MSE'][long])}, MAE {summary(at['MAE'][long])}; learned intercept (true 0; "
        f"the outliers add 0.5 to the mean target): MSE {summary(bias['MSE'])}, MAE {summary(bias['MAE'])}"
    )
    agrees = clearly_greater(at["MSE"][long], at["MAE"][long])
    values = {
        "clean_test_mse": {n: float(at[n][long].mean()) for n in LOSSES},
        "bias": {n: float(b.mean()) for n, b in bias.items()},
    }
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
