"""Experiment 5: per-layer gradient norms per epoch, MSE against cross-entropy, on experiment 1's
network and data (2-8-1, sigmoid output, per-example SGD at 0.1, same seeds). Logged with
`kerasloss.GradientNormLogger` (TensorBoard scalars gradient_norm/<layer>) and plotted per layer. The
claim is judged on the mean norm over the first epochs, when the model is most uncertain."""

import keras
import numpy as np

import kerasloss
from sweeps import datasets
from sweeps.experiments.common import Outcome, fit, plot_curves
from sweeps.experiments.mse_vs_bce import LOSSES, network

NAME = "gradient_norms"
CLAIM = "Cross-entropy produces larger gradients than MSE in the early epochs, when the model is most uncertain"
EARLY = 10
LAYERS = ("hidden", "output")


def run(context):
    data = datasets.load("circle")
    x, y = data.x_train[:200], data.y_train[:200].astype("float32")[:, None]
    epochs = context.epochs(60)
    norms = {name: {layer: [] for layer in LAYERS} for name in LOSSES}
    for seed in context.seeds():
        for name, loss in LOSSES.items():
            model = network(seed)
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss(), jit_compile=True)
            logger = kerasloss.GradientNormLogger(data=(x, y), log_dir=f"{context.folder}/{name}/seed_{seed}")
            fit(model, x, y, epochs, batch_size=1, callbacks=[logger])
            for layer in LAYERS:
                norms[name][layer].append(logger.history[layer])  # epoch 0 (before training) first

    plot_curves(
        context.figure_path(),
        [
            (f"gradient norm, layer '{layer}'", "L2 norm (log10)", {n: np.log10(norms[n][layer]) for n in LOSSES})
            for layer in LAYERS
        ],
        xlabel="epoch + 1 (1 = before training)",
    )
    early = min(EARLY, epochs) + 1
    ratios = {
        layer: np.array(
            [
                np.mean(b[:early]) / np.mean(m[:early])
                for b, m in zip(norms["BCE"][layer], norms["MSE"][layer], strict=True)
            ]
        )
        for layer in LAYERS
    }
    late = {
        layer: float(
            np.mean(
                [
                    np.mean(b[-5:]) / np.mean(m[-5:])
                    for b, m in zip(norms["BCE"][layer], norms["MSE"][layer], strict=True)
                ]
            )
        )
        for layer in LAYERS
    }
    measured = (
        f"cross-entropy / MSE gradient norm over the first {early - 1} epochs (and before training): "
        + ", ".join(
            f"{layer} {ratios[layer].mean():.2f}x (min over seeds {ratios[layer].min():.2f}x)" for layer in LAYERS
        )
        + f"; over the last 5 of {epochs}: "
        + ", ".join(f"{layer} {late[layer]:.2f}x" for layer in LAYERS)
    )
    agrees = all(ratios[layer].min() > 1 for layer in LAYERS)
    values = {"early_ratio": {k: float(v.min()) for k, v in ratios.items()}, "late_ratio": late}
    return Outcome(NAME, CLAIM, measured, agrees, f"experiments/{NAME}.png", values)
