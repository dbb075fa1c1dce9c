"""The sweep harness at scale: a 20-trial sweep over a 1,000,000-row x 30-column CSV on this machine.

Measures the time to load and check the CSV (pandas' C parser), each trial's fixed overhead (model build +
first-epoch compile) against its training time, and the process's resident memory after every trial. The
same memory is measured, in a separate process, for a bare Keras loop (build, compile, fit on the same
tensors, no kerasloss, no harness) so that what the harness keeps per trial is told apart from what
TensorFlow keeps per trained model.

Then the harness's per-trial cost against a bare keras-tuner search on a small 2-D dataset (where each
trial's picture is drawn): the same MLP, loss, search space, epochs, batch size and optimizer, the bare
search a `keras_tuner.RandomSearch` on the same training and validation arrays, each in a fresh process;
the harness's per-trial picture time is reported from its own measurements.

Writes bench/sweep-scale.md. Run: `python -m bench.sweep_scale` (about 8 minutes here).
"""

import io
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

HERE = pathlib.Path(__file__).parent
ROWS, COLUMNS, TRIALS, EPOCHS, BATCH = 1_000_000, 30, 20, 2, 4096


def make_arrays():
    rng = np.random.default_rng(0)
    y = (rng.random(ROWS) < 0.1).astype(np.int8)
    x = rng.normal(size=(ROWS, COLUMNS)).astype(np.float32)
    x[:, :5] += 0.8 * y[:, None]
    return x, y


def bare_keras_loop():
    """RSS (MiB) after each of TRIALS build + compile + fit cycles of the same MLP on the same rows, with
    plain Keras and its BinaryCrossentropy: what TensorFlow itself keeps per trained model."""
    import keras
    import tensorflow as tf

    x, y = make_arrays()
    x, y = tf.constant(x[:800_000]), tf.constant(y[:800_000, None].astype(np.float32))
    rss = []
    for _ in range(TRIALS):
        keras.backend.clear_session()
        inputs = keras.Input((COLUMNS,))
        hidden = keras.layers.Dense(32, activation="relu")(keras.layers.Dense(32, activation="relu")(inputs))
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
        del model
        rss.append(_rss_mib())
    print(json.dumps(rss))


def _rss_mib():
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


SMALL = {"dataset": "imbalanced_90_10", "trials": 12, "epochs": 15, "batch_size": 64, "hidden": [16, 16], "lr": 0.01}


def _small_spec():
    """SMALL as a harness spec: FocalLoss gamma x alpha, random tuner, one execution a trial."""
    from sweeps import spec as specs

    return specs.from_dict(
        {
            "name": "per_trial",
            "dataset": SMALL["dataset"],
            "model": {"hidden": SMALL["hidden"]},
            "epochs": SMALL["epochs"],
            "batch_size": SMALL["batch_size"],
            "learning_rate": SMALL["lr"],
            "tuner": "random",
            "trials": SMALL["trials"],
            "executions": 1,
            "objective": {"name": "pr_auc"},
            "loss": "FocalLoss",
            "space": {"gamma": {"min": 0.0, "max": 5.0}, "alpha": {"min": 0.1, "max": 0.9}},
        }
    )


def harness_small_sweep():
    """The harness on SMALL. Prints JSON: seconds per trial (the sweep's wall time / trials), each trial's
    picture and overhead seconds."""
    import sweeps

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = sweeps.run(_small_spec(), logdir=f"{folder}/logs", state=f"{folder}/state", stream=io.StringIO())
        seconds = time.perf_counter() - started
    measured = [t.measured for t in result.trials]
    print(
        json.dumps(
            {
                "per_trial": seconds / len(measured),
                "picture": [m["executions"][0]["picture_seconds"] for m in measured],
                "overhead": [m["overhead_seconds"] for m in measured],
            }
        )
    )


def bare_tuner_small_search():
    """A bare keras-tuner RandomSearch over the same space on the harness's own training and validation
    split of SMALL's dataset: what a user writes by hand (no metrics beyond the validation loss, no
    TensorBoard, no picture, no best model kept). Prints JSON: seconds per trial."""
    import keras
    import keras_tuner

    import kerasloss
    from sweeps import sources

    data = sources.load(_small_spec().data_source)
    x_train, y_train = data.x_train, data.y_train.astype("float32")[:, None]
    x_val, y_val = data.x_val, data.y_val.astype("float32")[:, None]

    def build(hp):
        inputs = keras.Input(x_train.shape[1:])
        x = inputs
        for width in SMALL["hidden"]:
            x = keras.layers.Dense(width, activation="relu")(x)
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
        loss = kerasloss.FocalLoss(gamma=hp.Float("gamma", 0.0, 5.0), alpha=hp.Float("alpha", 0.1, 0.9))
        model.compile(keras.optimizers.Adam(SMALL["lr"]), loss)
        return model

    with tempfile.TemporaryDirectory() as folder:
        tuner = keras_tuner.RandomSearch(
            build, objective="val_loss", max_trials=SMALL["trials"], directory=folder, seed=0
        )
        started = time.perf_counter()
        tuner.search(
            x_train, y_train, validation_data=(x_val, y_val), epochs=SMALL["epochs"],
            batch_size=SMALL["batch_size"], verbose=0,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    print(json.dumps({"per_trial": seconds / SMALL["trials"]}))


def _in_fresh_process(function):
    """JSON printed last by `function` (a name in this module), run in a new Python process."""
    done = subprocess.run(
        [sys.executable, "-c", f"from bench.sweep_scale import {function}; {function}()"],
        capture_output=True, text=True, check=True, cwd=HERE.parent,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _listed(seconds):
    return ", ".join(f"{s:.2f}" for s in seconds)


def write_csv(path):
    x, y = make_arrays()
    import pandas as pd

    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(COLUMNS)])
    frame["label"] = y
    frame.to_csv(path, index=False, float_format="%.6g")


def main():
    import sweeps
    from sweeps import sources
    from sweeps import spec as specs

    with tempfile.TemporaryDirectory() as folder:
        folder = pathlib.Path(folder)
        csv = folder / "big.csv"
        write_csv(csv)
        size_mib = csv.stat().st_size / 2**20
        table = {
            "name": "scale",
            "dataset": str(csv),
            "task": "binary",
            "target": "label",
            "model": {"hidden": [32, 32]},
            "epochs": EPOCHS,
            "batch_size": BATCH,
            "tuner": "random",
            "trials": TRIALS,
            "objective": {"name": "pr_auc"},
            "loss": "FocalLoss",
            "space": {"gamma": {"min": 0.0, "max": 5.0}, "alpha": {"min": 0.1, "max": 0.9}},
        }
        spec = specs.from_dict(table)
        started = time.perf_counter()
        sources.load(spec.data_source)
        load_seconds = time.perf_counter() - started
        out = io.StringIO()
        started = time.perf_counter()
        result = sweeps.run(spec, logdir=str(folder / "logs"), state=str(folder / "state"), stream=out)
        sweep_seconds = time.perf_counter() - started

    measured = [t.measured for t in result.trials]
    rss = [m["rss_mib"] for m in measured]
    overhead = [m["overhead_seconds"] for m in measured]
    training = [m["seconds"] - m["overhead_seconds"] for m in measured]
    bare_rss = _in_fresh_process("bare_keras_loop")
    harness, bare_tuner = [], []
    for _ in range(2):  # alternated, each in a fresh process
        harness.append(_in_fresh_process("harness_small_sweep"))
        bare_tuner.append(_in_fresh_process("bare_tuner_small_search"))
    harness_per_trial = np.median([h["per_trial"] for h in harness])
    bare_per_trial = np.median([b["per_trial"] for b in bare_tuner])
    pictures = [p for h in harness for p in h["picture"]]
    small_overhead = [o for h in harness for o in h["overhead"]]

    def per_trial(series):
        return (series[-1] - series[1]) / (len(series) - 2)

    lines = [
        "# Sweep harness at scale",
        "",
        f"`python -m bench.sweep_scale` on {platform.machine()}, {os.cpu_count()} cores:",
        f"a {ROWS:,}-row x {COLUMNS}-column",
        f"CSV ({size_mib:.0f} MiB, 10% positives), FocalLoss gamma x alpha, random tuner, {TRIALS} trials of",
        f"{EPOCHS} epochs",
        f"at batch {BATCH} (800,000 training rows after the test and validation splits), the built-in 30-32-32-1 MLP.",
        "",
        "| what | measured |",
        "|---|---|",
        f"| load + check + split the CSV (once per process) | {load_seconds:.1f} s |",
        f"| whole sweep ({TRIALS} trials, data cached) | {sweep_seconds:.0f} s |",
        f"| per trial: build + first-epoch compile (median) | {np.median(overhead):.2f} s |",
        f"| per trial: training, {EPOCHS} epochs, test metrics after each (median) | {np.median(training):.2f} s |",
        f"| peak resident memory of the sweep process | {max(m['peak_rss_mib'] for m in measured):.0f} MiB |",
        f"| resident memory after trial 1 / 10 / 20 | {rss[0]:.0f} / {rss[9]:.0f} / {rss[-1]:.0f} MiB |",
        f"| growth per trial, trial 2 to 20: the sweep | {per_trial(rss):+.1f} MiB |",
        f"| growth per trial, trial 2 to 20: a bare Keras build/compile/fit loop | {per_trial(bare_rss):+.1f} MiB |",
        "",
        "Resident memory after each trial (MiB), the sweep: " + ", ".join(f"{r:.0f}" for r in rss),
        "",
        "The bare Keras loop: " + ", ".join(f"{r:.0f}" for r in bare_rss),
        "",
        "## Per trial, against a bare keras-tuner search",
        "",
        f"Dataset `{SMALL['dataset']}` (2-D, binary: the harness draws each trial's decision boundary), the "
        f"{'-'.join(['2', *map(str, SMALL['hidden']), '1'])} MLP, FocalLoss gamma in [0, 5] x alpha in [0.1, 0.9], "
        f"random search, {SMALL['trials']} trials of {SMALL['epochs']} epochs at batch {SMALL['batch_size']}, Adam "
        f"{SMALL['lr']}, one execution a trial; the harness (`sweeps.run`) and a bare "
        "`keras_tuner.RandomSearch(objective='val_loss')` on the harness's own training and validation split, "
        "alternated, each run in a fresh process, 2 runs each. The harness also computes the test and validation "
        "metrics every epoch, writes TensorBoard and keeps the best model; the bare search does none of that.",
        "",
        "| what | measured |",
        "|---|---|",
        f"| seconds per trial: the harness (median of 2 runs: "
        f"{_listed(h['per_trial'] for h in harness)}) | {harness_per_trial:.2f} s |",
        f"| seconds per trial: bare keras-tuner (median of 2 runs: "
        f"{_listed(b['per_trial'] for b in bare_tuner)}) | {bare_per_trial:.2f} s |",
        f"| ratio, harness / bare | {harness_per_trial / bare_per_trial:.2f} |",
        f"| per trial: build + first-epoch compile (median of {len(small_overhead)}) | "
        f"{np.median(small_overhead):.2f} s |",
        f"| per trial: the picture, drawn and written to TensorBoard (median of {len(pictures)}; range "
        f"{min(pictures) * 1e3:.0f}-{max(pictures) * 1e3:.0f} ms) | {np.median(pictures) * 1e3:.0f} ms |",
        "",
    ]
    (HERE / "sweep-scale.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
