"""What a sweep's state belongs to. A sweep's state (`STATE/NAME/`, keras-tuner's trials) records, in
`sweep.json`, the spec file it was made from, the spec itself (paths resolved, so workers on other
processes run exactly it) and a fingerprint of everything that decides a trial's result: the data (a
digest of the arrays), the model (with the source of a model function, that function's own lines only),
the loss, the space, the objective, the tuner and the training budget. The metrics logged beside the
objective are not in it: logging one more does not change a trial.
Resuming with a changed spec, or with another spec of the same name, is refused before any training,
naming what changed; only a raised `trials` extends the search. `--overwrite` starts over.
"""

import contextlib
import fcntl
import glob
import hashlib
import inspect
import json
import os
import re
import shutil
import socket
import sys
import time

RECORD = "sweep.json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # one plain path component, never . or ..


class StateError(RuntimeError):
    """A sweep state that does not belong to the spec being run; the message says how to start over."""


def _digest(value):
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


def _function_source(function):
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return None


def fingerprint(spec, data_digest, model_function=None):
    """The parts of a spec that decide its trials' results, each a short comparable value."""
    model = dict(spec.model)
    if model_function is not None:
        model["source"] = _digest(_function_source(model_function))
    space = [[p.name, list(p.choice), p.low, p.high, p.log, [[k, list(v)] for k, v in p.when]] for p in spec.space]
    parts = {
        "data": data_digest,
        "task": spec.task,
        "model": _digest(model),
        "loss": _digest([spec.loss, spec.loss_args]),
        "space": _digest(space),
        "objective": f"{spec.tuner_objective} ({spec.direction}), min_precision {spec.min_precision:g}",
        "tuner": spec.tuner,
        "epochs": spec.epochs,
        "patience": spec.patience,
        "executions": spec.executions,
        "seed": spec.seed,
        "batch_size": spec.batch_size,
        "learning_rate": spec.learning_rate,
    }
    if spec.class_balanced:  # only then: a shuffled sweep's state from before `batches` existed still resumes
        p, k = (spec.classes_per_batch or "searched"), (spec.examples_per_class or "searched")
        parts["batches"] = f"class-balanced {p} x {k}"
    return parts


@contextlib.contextmanager
def exclusive(folder, name=".lock"):
    """Hold an OS file lock on `folder/name` (waiting for it): one writer at a time across processes."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked(state_dir, name):
    """Hold the sweep's lock (`STATE/.NAME.lock`, an OS file lock: a killed holder releases it) for a run;
    a second run of the same sweep on the same state stops at once with a message naming the holder."""
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, f".{name}.lock")
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StateError(
                f"sweep '{name}' is already running on the state {state_dir} ({holder}); wait for it to end, "
                "stop it, or use another --state"
            ) from None
        handle.seek(0)
        handle.truncate()
        command = " ".join(sys.argv)[:200]
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {started}: {command}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _describe(source):
    return source or "a spec given as a dict"


def read(state_dir, name):
    """The record of the sweep `name` in `state_dir`, or None when it has none."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or set(name) <= {"."}:
        raise StateError(f"invalid sweep name {str(name)[:60]!r}: no state can be named so")
    path = os.path.join(state_dir, name, RECORD)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        raise StateError(
            f"sweep '{name}': its state record {path} is unreadable ({error}); start over with --overwrite, "
            f"or delete {os.path.join(state_dir, name)}"
        ) from None


def recorded(record):
    """The `Spec` a record holds (data given to `sweeps.run` as arrays, unless saved for workers, and a
    model given as a Python object are marked so, not looked for)."""
    from sweeps import spec as specs

    table = record["table"]
    return specs.parse(
        table, record["name"], base=record["base"], source=record["source"], data_given=table.get("dataset") is None
    )


def check_files(state_dir, name):
    """Every JSON file keras-tuner will read back (oracle.json, the tuners' files, each trial.json) parses;
    a damaged one is named, with how to recover, instead of a JSON traceback from inside keras-tuner."""
    folder = os.path.join(state_dir, name)
    paths = sorted(glob.glob(os.path.join(folder, "*.json")) + glob.glob(os.path.join(folder, "trial_*", "trial.json")))
    for path in paths:
        try:
            with open(path, encoding="utf-8") as file:
                json.load(file)
        except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if os.path.basename(path) == "trial.json":
                fix = f"delete {os.path.dirname(path)} to run that trial again"
            else:
                fix = f"start over with --overwrite, or delete {folder}"
            raise StateError(f"sweep '{name}': {path} is damaged ({type(error).__name__}: {error}); {fix}") from None


def check(spec, parts, state_dir):
    """Refuse to continue a state made by another spec, or by this spec before a change; returns the
    record (None for a new sweep)."""
    folder = os.path.join(state_dir, spec.name)
    record = read(state_dir, spec.name)
    how = f"start over with --overwrite (deletes {folder} and the sweep's TensorBoard runs), or use another --state"
    if record is None:
        if os.path.exists(os.path.join(folder, "oracle.json")):
            raise StateError(f"sweep '{spec.name}': {folder} holds trials with no record of their spec; {how}")
        return None
    before = record.get("fingerprint", {})
    changed = [key for key in parts if before.get(key) != parts[key]]
    if changed and record.get("source") != spec.source:  # the same spec moved (a new checkout) may resume
        raise StateError(
            f"sweep '{spec.name}': the state in {folder} belongs to {_describe(record.get('source'))}, not to "
            f"{_describe(spec.source)}; two different specs share the name '{spec.name}'. Rename one, or {how}"
        )
    if changed:
        shown = []
        for key in changed:
            old, new = before.get(key), parts[key]
            digest = key in ("data", "model", "loss", "space")
            shown.append(key if digest else f"{key} ({old} -> {new})")
        raise StateError(
            f"sweep '{spec.name}': the spec changed since the trials in {folder} were run: {'; '.join(shown)}. "
            f"Resuming would mix two searches; {how}. (Raising `trials` alone extends a search.)"
        )
    return record


def write(spec, parts, state_dir, trials, extra=None):
    """Record (or update) the spec a state belongs to; workers read the spec from here."""
    folder = os.path.join(state_dir, spec.name)
    os.makedirs(folder, exist_ok=True)
    record = {
        "name": spec.name,
        "source": spec.source,
        "base": spec.base,
        "table": spec.table,
        "trials": trials,
        "objective": spec.tuner_objective,
        "direction": spec.direction,
        "fingerprint": parts,
        **(extra or {}),
    }
    temporary = os.path.join(folder, RECORD + ".partial")
    with open(temporary, "w") as file:
        json.dump(record, file, indent=1, default=str)  # key order kept: a condition follows its parent
    os.replace(temporary, os.path.join(folder, RECORD))


def remove(spec_name, state_dir, logdir):
    """Forget a sweep: its state and its TensorBoard runs (nothing else under either folder)."""
    for folder in (os.path.join(state_dir, spec_name), os.path.join(logdir, spec_name)):
        if os.path.isdir(folder) and not os.path.islink(folder):
            shutil.rmtree(folder)
