"""Experiment 1: MSE against binary cross-entropy on the circle data, with the lesson's network (2-8-1,
ReLU, sigmoid output, weights from N(0, 0.5)) and its training (per-example SGD, learning rate 0.1).

Measured per epoch, for both: the training loss, test accuracy, and both losses of the same predictions
(so the curves share a scale). The convergence claim is judged on the epochs each needs to bring the
predictions' MSE below 0.02 and test accuracy to 90%. The constant-predictor failure is then reproduced
by training, not set by hand: on a balanced subset, a network whose hidden ReLUs never fire (bias -10)
can only learn a constant, settles at 0.5 for every input with MSE 0.25 and cross-entropy 0.693, and
`kerasloss.LossMonitor` says so.
"""

import keras
import numpy as np

import kerasloss
from sweeps import datasets
from sweeps.experiments.common import EpochLog, Outcome, fit, plot_curves, summary

NAME = "mse_vs_bce"
CLAIM = (
    "Cross-entropy converges faster than MSE on a classification task; a constant 0.5 predictor scores "
    "MSE 0.25 and cross-entropy 0.693"
)
TARGET_ACCURACY = 0.9
TARGET_MSE = 0.02
LOSSES = {"MSE": kerasloss.MeanSquaredError, "BCE": kerasloss.BinaryCrossentropy}


def network(seed, hidden_bias=0.0):
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    bias = keras.initializers.Constant(hidden_bias)
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(8, activation="relu", kernel_initializer=init, bias_initializer=bias, name="hidden"),
            keras.layers.Dense(1, activation="sigmoid", kernel_initializer=init, name="output"),
        ]
    )


def constant_predictor_losses():
    """MSE and BCE of predicting 0.5 for every example of a balanced label set."""
    y = np.tile(np.array([[0.0], [1.0]], "float32"), (50, 1))
    p = np.full_like(y, 0.5)
    return {
        "MSE": float(kerasloss.MeanSquaredError()(y, p)),
        "BCE": float(kerasloss.BinaryCrossentropy()(y, p)),
    }


def _first_epoch(values, reached):
    hits = [i + 1 for i, v in enumerate(values) if reached(v)]
    return hits[0] if hits else None


def constant_failure(context, data, epochs):
    """Train dead-ReLU networks with MSE and BCE on a balanced subset by full-batch gradient descent (the
    settled value is then exact, not blurred by per-example steps); what they settle at."""
    positives, negatives = np.flatnonzero(data.y_train == 1)[:100], np.flatnonzero(data.y_train == 0)[:100]
    chosen = np.sort(np.concatenate([positives, negatives]))
    x, y = data.x_train[chosen], data.y_train[chosen].astype("float32")[:, None]
    settled = {}
    for name, loss in LOSSES.items():
        model = network(context.seed, hidden_bias=-10.0)
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss=loss(), jit_compile=True)
        monitor = kerasloss.LossMonitor(data=(x, y), verbose=False)
        history = fit(model, x, y, epochs, batch_size=len(x), callbacks=[monitor])
        p = keras.ops.convert_to_numpy(model(x, training=False))[:, 0]
        flagged = [d.epoch for d in monitor.diagnoses if d.kind == "constant"]
        settled[name] = {
            "loss": history.history["loss"][-1],
            "prediction_range": (float(p.min()), float(p.max())),
            "accuracy": float(np.mean((p > 0.5) == (y[:, 0] > 0.5))),
            "flagged": flagged[0] if flagged else None,
        }
    return settled


def run(context):
    data = datasets.load("circle")
    x, y = data.x_train[:200], data.y_train[:200].astype("float32")[:, None]  # the lesson's 200 points
    epochs = context.epochs(200)
    curves = {name: {"test_accuracy": [], "train_mse": [], "train_bce": []} for name in LOSSES}
    reached = {name: {"accuracy": [], "mse": []} for name in LOSSES}
    for seed in context.seeds():
        for name, loss in LOSSES.items():
            model = network(seed)
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss(), jit_compile=True)

            def measure(model=model):
                p_test = keras.ops.convert_to_numpy(model(data.x_test, training=False))[:, 0]
                p = np.clip(keras.ops.convert_to_numpy(model(x, training=False)), 1e-7, 1 - 1e-7)
                return {
                    "test_accuracy": float(np.mean((p_test > 0.5) == (data.y_test > 0.5))),
                    "train_mse": float(np.mean((p - y) ** 2)),
                    "train_bce": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
                }

            log = EpochLog(context, f"{name}/seed_{seed}", measure)
            fit(model, x, y, epochs, batch_size=1, callbacks=[log])
            for key in curves[name]:
                curves[name][key].append(log.history[key])
            reached[name]["accuracy"].append(_first_epoch(log.history["test_accuracy"], lambda a: a >= TARGET_ACCURACY))
            reached[name]["mse"].append(_first_epoch(log.history["train_mse"], lambda m: m < TARGET_MSE))

    constant = constant_predictor_losses()
    stuck = constant_failure(context, data, context.epochs(100))
    plot_curves(
        context.figure_path(),
        [
            ("test accuracy", "accuracy", {n: c["test_accuracy"] for n, c in curves.items()}),
            ("MSE of the predictions (train)", "MSE", {n: c["train_mse"] for n, c in curves.items()}),
            ("cross-entropy of the predictions (train)", "BCE", {n: c["train_bce"] for n, c in curves.items()}),
        ],
    )

    def mean_epochs(name, target):
        values = reached[name][target]
        return float(np.mean([r if r is not None else epochs + 1 for r in values])), sum(r is None for r in values)

    speed = {n: {t: mean_epochs(n, t) for t in ("mse", "accuracy")} for n in LOSSES}
    final = {n: [run[-1] for run in c["test_accuracy"]] for n, c in curves.items()}
    missed = sum(speed[n][t][1] for n in LOSSES for t in ("mse", "accuracy"))
    measured = (
        f"epochs until the predictions' MSE < {TARGET_MSE}: BCE {speed['BCE']['mse'][0]:.1f}, MSE "
        f"{speed['MSE']['mse'][0]:.1f}; until {TARGET_ACCURACY:.0%} test accuracy: BCE "
        f"{speed['BCE']['accuracy'][0]:.1f}, MSE {speed['MSE']['accuracy'][0]:.1f} (means of {context.repeats} "
        f"seeds, {missed} runs missing a target within {epochs} epochs). Final accuracy BCE {summary(final['BCE'])}, "
        f"MSE {summary(final['MSE'])}. Constant 0.5 predictor: MSE {constant['MSE']:.4f}, BCE {constant['BCE']:.4f}; "
        f"a dead-ReLU network trained on 50/50 labels settled at MSE {stuck['MSE']['loss']:.4f} and BCE "
        f"{stuck['BCE']['loss']:.4f}, predicting {stuck['MSE']['prediction_range'][0]:.3f} to "
        f"{stuck['MSE']['prediction_range'][1]:.3f} (accuracy {stuck['MSE']['accuracy']:.2f}); LossMonitor "
        f"flagged it at epoch {stuck['MSE']['flagged']} (MSE) and {stuck['BCE']['flagged']} (BCE)"
    )
    agrees = (
        speed["BCE"]["mse"][0] < speed["MSE"]["mse"][0]
        and speed["BCE"]["accuracy"][0] <= speed["MSE"]["accuracy"][0]
        and abs(constant["MSE"] - 0.25) < 1e-6
        and abs(constant["BCE"] - float(np.log(2.0))) < 1e-6
    )
    values = {
        "epochs_to_mse_target": {n: speed[n]["mse"][0] for n in LOSSES},
        "epochs_to_accuracy_target": {n: speed[n]["accuracy"][0] for n in LOSSES},
        "constant_predictor": constant,
        "dead_relu": stuck,
    }
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
