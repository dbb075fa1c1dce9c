"""What every experiment shares: its context (where to log, how many repeats, what budget), training
with per-epoch logging to TensorBoard, curves across repeats, the figure, and the results table."""

import math
import os
import re
from dataclasses import dataclass, field

import keras
import matplotlib
import numpy as np
import tensorflow as tf
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TABLE = "experiments.md"


@dataclass(frozen=True)
class Outcome:
    """One experiment's result: the lesson's claim, what we measured, and whether they agree."""

    name: str
    claim: str
    measured: str
    agrees: bool
    figure: str  # path of the PNG, relative to the log directory
    values: dict = field(default_factory=dict)  # the key numbers behind `measured`


@dataclass
class Context:
    """Where an experiment writes (`logdir/experiments/NAME/...`), how many seeded repeats it runs, and
    which share of the lesson's budget (epochs) it gets: 1.0 for the real run, less in tests."""

    logdir: str
    name: str
    repeats: int = 5
    budget: float = 1.0
    seed: int = 0
    _writers: dict = field(default_factory=dict, repr=False)

    @property
    def folder(self):
        return os.path.join(self.logdir, "experiments", self.name)

    def epochs(self, full):
        return max(2, math.ceil(full * self.budget))

    def seeds(self):
        return [self.seed + 1000 * r for r in range(self.repeats)]

    def log(self, run, step, values):
        """Scalars for one TensorBoard run of this experiment (`NAME/run`)."""
        if run not in self._writers:
            self._writers[run] = tf.summary.create_file_writer(os.path.join(self.folder, run))
        with self._writers[run].as_default():
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value), step=step)

    def close(self):
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def figure_path(self):
        return os.path.join(self.logdir, "experiments", f"{self.name}.png")


class EpochLog(keras.callbacks.Callback):
    """After each epoch: `measure()` -> {metric: value}, kept in `history` and logged to `run`."""

    def __init__(self, context, run, measure):
        super().__init__()
        self.context, self.run, self.measure = context, run, measure
        self.history = {}

    def _record(self, epoch, logs):
        values = {"loss": logs["loss"]} if logs and "loss" in logs else {}
        values.update(self.measure())
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))
        self.context.log(self.run, epoch, values)

    def on_epoch_end(self, epoch, logs=None):
        self._record(epoch + 1, logs)


def fit(model, x, y, epochs, batch_size, callbacks=(), shuffle_seed=None):
    """Train from a cached `tf.data` pipeline with one compiled call per epoch (`steps_per_execution` =
    batches per epoch), so that even per-example SGD (batch_size = 1, as in the lesson) runs at graph
    speed. Examples are visited in order (the lesson's loop) unless `shuffle_seed` is given."""
    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle_seed is not None:
        data = data.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    model.steps_per_execution = math.ceil(len(x) / batch_size)
    return model.fit(data.batch(batch_size), epochs=epochs, verbose=0, shuffle=False, callbacks=list(callbacks))


def clearly_greater(a, b):
    """Whether paired repeats a (seed by seed) beat b beyond seed noise: the mean paired difference
    exceeds twice its standard error (with one repeat: is positive). A verdict on a difference smaller
    than that would be luck."""
    differences = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if len(differences) < 2:
        return bool(differences.sum() > 0)
    standard_error = differences.std(ddof=1) / np.sqrt(len(differences))
    return bool(differences.mean() > 2 * standard_error)


def interval(values):
    """(mean, sd, low, high): a 95% t-interval for the mean of the seeds (no width with one seed)."""
    values = np.asarray(values, np.float64)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, 0.0, mean, mean
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(values) - 1)) * sd / math.sqrt(len(values))
    return mean, sd, mean - half, mean + half


def paired(a, b):
    """(mean of a - b, its standard error, verdict): "ahead", "behind" (beyond seed noise) or "within noise"."""
    differences = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    error = float(differences.std(ddof=1) / math.sqrt(len(differences))) if len(differences) > 1 else 0.0
    verdict = "ahead" if clearly_greater(a, b) else "behind" if clearly_greater(b, a) else "within noise"
    return float(differences.mean()), error, verdict


def summary(values, digits=3):
    """'mean ± sd' of repeats."""
    values = np.asarray(values, np.float64)
    sd = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {sd:.{digits}f}"


def plot_curves(path, panels, xlabel="epoch"):
    """panels: [(title, ylabel, {label: array (repeats, epochs)})] -> one PNG, mean with a ±1 sd band."""
    figure, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    for axis, (title, ylabel, curves) in zip(axes[0], panels, strict=True):
        for label, runs in curves.items():
            runs = np.asarray(runs, np.float64)
            steps = np.arange(1, runs.shape[1] + 1)
            mean, sd = runs.mean(axis=0), runs.std(axis=0)
            axis.plot(steps, mean, label=label)
            axis.fill_between(steps, mean - sd, mean + sd, alpha=0.2)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


HEADER = "| experiment | the lesson's claim | measured | agrees |\n|---|---|---|---|\n"


def write_table(logdir, outcomes, order):
    """Update `logdir/experiments.md`: one row per experiment, in `order`; rows of experiments not re-run
    are kept."""
    path = os.path.join(logdir, TABLE)
    rows = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as table:
            lines = table.read().splitlines()
        for line in lines:
            match = re.match(r"\| `([a-z0-9_]+)` \|", line)
            if match:
                rows[match.group(1)] = line
    for outcome in outcomes:
        verdict = "yes" if outcome.agrees else "**no**"
        rows[outcome.name] = (
            f"| `{outcome.name}` | {outcome.claim} | {outcome.measured} ([figure]({outcome.figure})) | {verdict} |"
        )
    os.makedirs(logdir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as table:
        table.write("# The lesson's experiments, reproduced\n\n")
        table.write("`python -m sweeps experiment NAME` (or `make experiments`) rewrites a row; figures beside it.\n\n")
        table.write(HEADER)
        for name in order:
            if name in rows:
                table.write(rows[name] + "\n")
    return path
