"""TensorBoard output of sweeps: one HParams config for the whole log folder, and one session per trial
execution (its hyperparameters, per-epoch scalars, a PR curve, a picture).

TensorBoard's HParams dashboard reads one experiment config per log folder (with several, it picks one
arbitrarily). So `LOGDIR/_config` holds a single config: the union of every sweep's hyperparameters with
their declared domains, a `sweep` hyperparameter naming the sweeps, and every metric. Each sweep adds
itself to it (under a file lock; the sweeps it lists are kept in `LOGDIR/_config/sweeps.json`). Each
session names its sweep and carries only its own sweep's values; runs are `LOGDIR/SWEEP/trial_N,values,
execution_E` and session groups `SWEEP/trial_N`, so nothing of two sweeps merges.

The winner at a glance. The dashboard ticks the first five hyperparameters and metrics of the config and
hides the rest until clicked, and TensorBoard orders hyperparameters by whether they are marked as
differing, then by name. So every session carries `sweep`, `loss` and `setting` (the searched values as
one line, `gamma=2 alpha=0.25`), the config marks those three (and, in a sweep's own view, its searched
hyperparameters) as differing, and the metrics start with `objective` (the validation objective the trial
was chosen by) and `test_objective` (the same metric on the test part), then `val_`/`test_` pairs. The
training loss (`training_loss`) is logged per epoch but is not an HParams metric: losses of different
losses are not comparable. `make tensorboard SWEEP=NAME` serves one sweep with a config of its own
(`python -m sweeps board`).

A session is written in a staging folder outside the log directory and moved into place in one rename
when it is complete, so TensorBoard never shows a half-written session, and a re-run of an interrupted
trial replaces its sessions rather than adding duplicates. A trial that diverged is committed with the
failure status and its reason as text. A replace killed half-way is undone at the next one (the last
complete folder goes back), and one that fails (a full disk) leaves the folder as it was.

The log folder is shared: a sweep's runs (`LOGDIR/NAME`) are written by one run at a time (`locked`), the
names the harness writes at the folder's root are not sweep names (`check_name`), and a list of sweeps that
cannot be read is an error, never an empty list that would drop every other sweep from the table.
"""

import contextlib
import json
import math
import os
import re
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import summary as hparams_summary
from tensorboard.plugins.pr_curve import summary as pr_summary

from sweeps import results, state
from sweeps import spec as specs

CONFIG_RUN = "_config"
LEADING = ("sweep", "loss", "setting")  # the hyperparameters every session carries, shown first
RESERVED, RESERVED_PATTERNS = state.RESERVED_NAMES, state.RESERVED_PATTERNS  # see there


class LogFolderError(state.StateError):
    """The log folder cannot be written, or what it holds cannot be read back; the message names the path
    and the fix."""


def check_name(name):
    """Refuse a sweep name the harness already writes at the log folder's root (`spec.check_name`)."""
    return specs.check_name(name)


def _reason(error):
    """An OSError in a few words (shutil.copytree's `shutil.Error` carries a list of them: the first)."""
    if isinstance(error, shutil.Error) and error.args and isinstance(error.args[0], list) and error.args[0]:
        return str(error.args[0][0][-1])
    if getattr(error, "strerror", None):
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error)


def check_writable(logdir, name):
    """Refuse, before anything is recorded, a log folder (or a sweep's folder in it) this process cannot
    write: the sweep would fail after its state was written, or at its first session."""
    runs = os.path.join(logdir, name)
    for folder in (logdir, runs) if os.path.isdir(runs) else (logdir,):
        try:
            os.makedirs(folder, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            reason = "a file, not a folder" if os.path.isfile(folder) else _reason(error)
            raise LogFolderError(
                f"the log folder {folder} cannot be written ({reason}); make it writable, or use another --logdir"
            ) from None


@contextlib.contextmanager
def locked(logdir, name):
    """Hold the lock on a sweep's runs, `LOGDIR/.NAME.runs.lock` (`state.locked`'s OS file lock), for a run:
    a second run of the sweep into the same log folder, even from another --state, stops at once naming
    the holder, before it deletes (`--overwrite`) or writes any run. (Its own name: a log folder may be
    the state folder too.)"""
    busy = (
        f"sweep '{name}' is already writing its TensorBoard runs in {os.path.join(logdir, name)} ({{holder}}); "
        "wait for it to end, stop it, or use another --logdir"
    )
    try:
        with state.locked(logdir, name, lock_file=f".{name}.runs.lock", busy=busy):
            yield
    except state.StateError as error:
        if str(error).startswith(f"sweep '{name}' is already writing"):
            raise LogFolderError(str(error)) from None
        raise


def setting(values):
    """The searched values as one line (`gamma=2 alpha=0.25`): the whole configuration in one column."""
    return results.shown_values({k: v for k, v in values.items() if k != "loss"}, " ") or "-"


def session_values(spec, values):
    """The hyperparameters a session records: the loss (searched or fixed), the searched values, and the
    `setting` line."""
    return {"loss": values.get("loss", spec.loss), **values, "setting": setting(values)}


def metric_names(spec):
    """The HParams metrics of a sweep, in the order the dashboard shows them."""
    names = ["objective", "test_objective"]
    for metric in spec.metrics:
        names += [f"val_{metric}", f"test_{metric}"]
    return names


def _config_pb(hparams, metrics, leading):
    """An HParams experiment config whose `leading` hyperparameters are marked as differing, so that
    TensorBoard lists them first (it sorts by that mark, then by name)."""
    summary = hparams_api.hparams_config_pb(hparams=hparams, metrics=metrics)
    value = summary.value[0]
    data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
    for info in data.experiment.hparam_infos:
        info.differs = info.name in leading
    value.metadata.plugin_data.content = data.SerializeToString()
    return summary


def _write_config(folder, hparams, metrics, leading):
    writer = tf.summary.create_file_writer(folder)
    with writer.as_default():
        tf.summary.experimental.write_raw_pb(_config_pb(hparams, metrics, leading).SerializeToString(), step=0)
    writer.close()


def domain(param):
    """The HParams domain of a `sweeps.spec.Param`: discrete choices keep their values (a Choice of
    8 and 16 stays {8, 16}, not a float range), ranges keep their bounds."""
    if param.choice:
        return hparams_api.Discrete(list(param.choice))
    if param.kind == "int":
        return hparams_api.IntInterval(int(param.low), int(param.high))
    return hparams_api.RealInterval(float(param.low), float(param.high))


def _recover(final):
    """Undo what a replace of `final` killed half-way left: killed after `final` was renamed aside and
    before the new one took its place, the last complete one (`final.old`) goes back; a `final.partial`
    (perhaps half-copied) and a stale `final.old` are deleted."""
    old = final + ".old"
    if os.path.isdir(old) and not os.path.lexists(final):
        os.rename(old, final)
    for leftover in (old, final + ".partial"):
        shutil.rmtree(leftover, ignore_errors=True)


def _move_into_place(staging, final):
    """Replace `final` by the finished `staging` folder: the old one is renamed aside first and deleted
    only once the new one is in place (a copy when staging is on another file system). At every moment
    `final` or `final.old` is complete, and what a killed replace left is undone first (`_recover`). A
    failure (a full disk) deletes what it wrote, leaves `final` as it was and raises."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    _recover(final)
    partial, old = final + ".partial", final + ".old"
    if os.path.dirname(os.path.abspath(staging)) != os.path.dirname(os.path.abspath(final)):
        try:
            os.rename(staging, partial)
        except OSError:  # another file system
            try:
                shutil.copytree(staging, partial)
            except OSError:  # shutil.Error too
                shutil.rmtree(partial, ignore_errors=True)
                raise
            shutil.rmtree(staging)
        staging = partial
    if os.path.exists(final):
        os.rename(final, old)
    try:
        os.rename(staging, final)
    except OSError:
        _recover(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _metrics(names):
    shown = {"objective": "objective (validation)", "test_objective": "objective on test"}
    return [hparams_api.Metric(m, display_name=shown.get(m, m)) for m in names]


def _registry(final):
    """The sweeps a log folder's config lists (`_config/sweeps.json`); none in a folder without a config.
    One that cannot be read is an error: rewriting it would drop every other sweep from the table."""
    path = os.path.join(final, "sweeps.json")
    if not os.path.lexists(final):
        return {}
    try:
        with open(path, encoding="utf-8") as file:
            registry = json.load(file)
        if not isinstance(registry, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("metrics"), list) for entry in registry.values()
        ):
            raise ValueError("not a table of sweeps with their metrics")
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = _reason(error) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        raise LogFolderError(
            f"the log folder's list of sweeps {path} cannot be read ({reason}); it is left as it is, since "
            f"rewriting it would drop every other sweep from the HParams table. Delete {final} and run each "
            "sweep of that folder again (a finished sweep trains nothing and adds itself back)"
        ) from None
    return registry


def write_config(spec, logdir, staging_root):
    """Add the sweep to the log folder's one HParams config (the union of every sweep in it)."""
    final = os.path.join(logdir, CONFIG_RUN)
    with state.exclusive(logdir, ".sweeps.lock"):
        _recover(final)  # a replace killed half-way: the last complete config back, not an empty list
        registry = _registry(final)
        registry[spec.name] = {
            "losses": list(spec.losses()),
            "metrics": metric_names(spec),
        }
        names = sorted(registry)
        losses = sorted({loss for name in names for loss in registry[name].get("losses", [])})
        hparams = [
            hparams_api.HParam("sweep", hparams_api.Discrete(names)),
            hparams_api.HParam("loss", hparams_api.Discrete(losses) if losses else None),
            hparams_api.HParam("setting"),
        ]
        metrics = list(dict.fromkeys(m for name in names for m in registry[name]["metrics"]))
        staging = os.path.join(staging_root, f"{CONFIG_RUN}.{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            _write_config(staging, hparams, _metrics(metrics), LEADING)
            with open(os.path.join(staging, "sweeps.json"), "w", encoding="utf-8") as file:
                json.dump(registry, file, indent=1, default=str)
            _move_into_place(staging, final)
        except (OSError, tf.errors.OpError) as error:
            shutil.rmtree(staging, ignore_errors=True)
            reason = _reason(error) if isinstance(error, OSError) else error.message
            raise LogFolderError(
                f"cannot update the log folder's HParams config {final} ({reason}); it is left as it was. "
                f"Free space or make {logdir} and {staging_root} writable, then run again"
            ) from None


def write_sweep_config(spec, folder):
    """A config of one sweep alone into `folder` (its own view: `python -m sweeps board NAME`): each searched
    hyperparameter a column with its declared domain. Up to three are marked as differing, so that they
    come first beside sweep and loss, then the metrics; with more, not all would be shown, so `setting`
    (all of them in one line) leads beside sweep and loss instead."""
    searched = [p for p in spec.space if p.name != "loss"]
    hparams = [
        hparams_api.HParam("sweep", hparams_api.Discrete([spec.name])),
        hparams_api.HParam("loss", hparams_api.Discrete(list(spec.losses()))),
    ]
    if len(searched) > 3:  # not all would fit in the five shown: sweep, loss and setting lead, then 2 of them
        hparams.append(hparams_api.HParam("setting"))
        leading = set(LEADING)
    else:
        leading = {"sweep", "loss", *(p.name for p in searched)}
    hparams += [hparams_api.HParam(p.name, domain(p)) for p in searched]
    shutil.rmtree(folder, ignore_errors=True)
    _write_config(folder, hparams, _metrics(metric_names(spec)), leading)


def sweep_view(spec, logdir, state_folder):
    """A folder TensorBoard can serve to show one sweep with its own config: `STATE/NAME/board/` holding
    that config and a link to the sweep's runs in the log folder (nothing is copied)."""
    view = os.path.join(state_folder, "board")
    write_sweep_config(spec, os.path.join(view, CONFIG_RUN))
    link = os.path.join(view, spec.name)
    if os.path.islink(link) or os.path.exists(link):
        os.remove(link)
    os.symlink(os.path.abspath(os.path.join(logdir, spec.name)), link)
    return view


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
        self.step = 0  # the last step logged
        with self.writer.as_default():
            hparams_api.hparams({"sweep": sweep, **values}, trial_id=f"{sweep}/trial_{trial_id}")

    def scalars(self, step, values):
        self.step = max(self.step, step)
        with self.writer.as_default():
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value), step=step)

    def image(self, tag, rgba, step):
        """An RGBA uint8 image (height, width, 4): TensorBoard's image summary encodes it as PNG."""
        with self.writer.as_default():
            tf.summary.image(tag, rgba[None], step=step)

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

    def fail(self, reason):
        """Commit the session as failed: TensorBoard's failure status, the reason as text, and a NaN objective
        after the last epoch logged, so that no finite score of an earlier epoch stands for the trial."""
        self.scalars(self.step + 1, {"objective": math.nan, "test_objective": math.nan})
        with self.writer.as_default():
            tf.summary.text("failure", reason, step=0)
            end = hparams_summary.session_end_pb(api_pb2.STATUS_FAILURE)
            tf.summary.experimental.write_raw_pb(end.SerializeToString(), step=0)
        self.commit()

    def commit(self):
        self.writer.close()
        _move_into_place(self.staging, self.final)

    def abandon(self):
        self.writer.close()
        shutil.rmtree(self.staging, ignore_errors=True)
