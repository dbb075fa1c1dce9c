"""TensorBoard output of sweeps: one HParams config for the whole log folder, and one session per trial
execution (its hyperparameters, per-epoch scalars, a PR curve, a picture).

TensorBoard's HParams dashboard reads one experiment config per log folder (with several, it picks one
arbitrarily). So `LOGDIR/_config` holds a single config: the union of every sweep's hyperparameters with
their declared domains, a `sweep` hyperparameter naming the sweeps, and every metric. Each sweep adds
itself to it (under a file lock; the sweeps it lists are kept in `LOGDIR/_config/sweeps.json`). Each
session names its sweep and carries only its own sweep's values; runs are `LOGDIR/SWEEP/trial_N,values,
execution_E` and session groups `SWEEP/trial_N`, so nothing of two sweeps merges. Serving one sweep's
folder alone (`make tensorboard SWEEP=NAME`) shows its sessions with domains inferred from their values.

A session is written in a staging folder outside the log directory and moved into place in one rename
when it is complete, so TensorBoard never shows a half-written session, and a re-run of an interrupted
trial replaces its sessions rather than adding duplicates.
"""

import contextlib
import fcntl
import json
import os
import re
import shutil

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api
from tensorboard.plugins.pr_curve import summary as pr_summary

CONFIG_RUN = "_config"


def domain(param):
    """The HParams domain of a `sweeps.spec.Param`: discrete choices keep their values (a Choice of
    8 and 16 stays {8, 16}, not a float range), ranges keep their bounds."""
    if param.choice:
        return hparams_api.Discrete(list(param.choice))
    if param.kind == "int":
        return hparams_api.IntInterval(int(param.low), int(param.high))
    return hparams_api.RealInterval(float(param.low), float(param.high))


def _move_into_place(staging, final):
    """Replace `final` by the finished `staging` folder: the old one is renamed aside first and deleted
    only once the new one is in place (a copy when staging is on another file system)."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if os.path.dirname(os.path.abspath(staging)) != os.path.dirname(os.path.abspath(final)):
        try:
            os.rename(staging, final + ".partial")
        except OSError:
            shutil.rmtree(final + ".partial", ignore_errors=True)
            shutil.copytree(staging, final + ".partial")
            shutil.rmtree(staging)
        staging = final + ".partial"
    old = final + ".old"
    if os.path.exists(final):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
    os.rename(staging, final)
    shutil.rmtree(old, ignore_errors=True)


def _declared(param):
    """A JSON-able description of a `sweeps.spec.Param`'s domain, for the union."""
    if param.choice:
        return {"choice": list(param.choice)}
    return {"low": param.low, "high": param.high, "int": param.kind == "int"}


def _union_domain(declared):
    """One HParams domain covering every sweep's declaration of a hyperparameter; None where they mix
    strings with numbers."""
    choices = [d["choice"] for d in declared if "choice" in d]
    values = [v for c in choices for v in c]
    kinds = {"str" if isinstance(v, str) else "bool" if isinstance(v, bool) else "number" for v in values}
    if len(declared) == len(choices):
        if len(kinds) != 1:
            return None
        if kinds == {"number"} and not all(isinstance(v, int) for v in values):
            values = [float(v) for v in values]  # one HParams domain holds one type: 1 and 2.5 as floats
        return hparams_api.Discrete(sorted(set(values)))
    if kinds - {"number"}:
        return None
    bounds = [b for d in declared if "low" in d for b in (d["low"], d["high"])] + values
    if all(isinstance(b, int) for b in bounds) and all(d.get("int", True) for d in declared):
        return hparams_api.IntInterval(min(bounds), max(bounds))
    return hparams_api.RealInterval(float(min(bounds)), float(max(bounds)))


@contextlib.contextmanager
def _locked(logdir):
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(logdir, ".sweeps.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_config(spec, logdir, staging_root):
    """Add the sweep to the log folder's one HParams config (the union of every sweep in it)."""
    final = os.path.join(logdir, CONFIG_RUN)
    with _locked(logdir):
        registry = {}
        with contextlib.suppress(OSError, ValueError), open(os.path.join(final, "sweeps.json")) as file:
            registry = json.load(file)
        registry[spec.name] = {
            "hparams": {p.name: _declared(p) for p in spec.space},
            "metrics": list(spec.metrics),
        }
        names = sorted(registry)
        hparams = [hparams_api.HParam("sweep", hparams_api.Discrete(names))]
        declared = {}
        for name in names:
            for hparam, domain_of in registry[name]["hparams"].items():
                declared.setdefault(hparam, []).append(domain_of)
        hparams += [hparams_api.HParam(h, _union_domain(d)) for h, d in declared.items()]
        metrics = list(dict.fromkeys(m for name in names for m in registry[name]["metrics"]))
        metrics = [hparams_api.Metric(m, display_name=m) for m in metrics]
        metrics.append(hparams_api.Metric("epoch_loss", display_name="training loss"))
        staging = os.path.join(staging_root, f"{CONFIG_RUN}.{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        writer = tf.summary.create_file_writer(staging)
        with writer.as_default():
            hparams_api.hparams_config(hparams=hparams, metrics=metrics)
        writer.close()
        with open(os.path.join(staging, "sweeps.json"), "w") as file:
            json.dump(registry, file, indent=1, default=str)
        _move_into_place(staging, final)


def run_name(trial_id, values, execution):
    """`trial_N,name=value,...,execution_E`: the trial's searched values where they are short, in
    characters safe in any file system."""
    shown = []
    for key, value in values.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        if len(text) <= 20 and len(key) <= 20:
            shown.append(re.sub(r"[^A-Za-z0-9._+=-]", "_", f"{key}={text}"))
    parts = [f"trial_{trial_id}"]
    for item in shown:
        if sum(map(len, parts)) + len(item) > 120:
            break
        parts.append(item)
    return ",".join([*parts, f"execution_{execution}"])


class Session:
    """One trial execution's TensorBoard run, staged until `commit`."""

    def __init__(self, sweep_dir, staging_root, run, values, sweep, trial_id):
        self.final = os.path.join(sweep_dir, run)
        self.staging = os.path.join(staging_root, run)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.writer = tf.summary.create_file_writer(self.staging)
        with self.writer.as_default():
            hparams_api.hparams({"sweep": sweep, **values}, trial_id=f"{sweep}/trial_{trial_id}")

    def scalars(self, step, values):
        with self.writer.as_default():
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value), step=step)

    def image(self, tag, png_bytes, step):
        with self.writer.as_default():
            tf.summary.image(tag, tf.expand_dims(tf.io.decode_png(png_bytes, channels=4), 0), step=step)

    def pr_curve(self, tag, labels, probabilities, step):
        """A precision-recall curve for class 1 (TensorBoard's PR Curves dashboard)."""
        summary = pr_summary.pb(
            tag,
            labels=np.asarray(labels).reshape(-1).astype(bool),
            predictions=np.asarray(probabilities, np.float32).reshape(-1),
            num_thresholds=101,
        )
        with self.writer.as_default():
            tf.summary.experimental.write_raw_pb(summary.SerializeToString(), step=step)

    def commit(self):
        self.writer.close()
        _move_into_place(self.staging, self.final)

    def abandon(self):
        self.writer.close()
        shutil.rmtree(self.staging, ignore_errors=True)
