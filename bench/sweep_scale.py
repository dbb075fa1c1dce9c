"""The sweep harness at scale: a 20-trial sweep over a 1,000,000-row x 30-column CSV on this machine.

Measures the time to load and check the CSV (pandas' C parser), each trial's fixed overhead (model build +
first-epoch compile) against its training time, and the process's resident memory after every trial. The
same memory is measured, in a separate process, for a bare Keras loop (build, compile, fit on the same
tensors, no kerasloss, no harness) so that what the harness keeps per trial is told apart from what
TensorFlow keeps per trained model. Writes bench/sweep-scale.md. Run: `python -m bench.sweep_scale`
(about 6 minutes here).
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
    bare = subprocess.run(
        [sys.executable, "-c", "from bench.sweep_scale import bare_keras_loop; bare_keras_loop()"],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    bare_rss = json.loads(bare.stdout.strip().splitlines()[-1])

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
    ]
    (HERE / "sweep-scale.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
