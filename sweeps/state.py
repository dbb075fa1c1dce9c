"""What a sweep's state belongs to. A sweep's state (`STATE/NAME/`, keras-tuner's trials) records, in
`sweep.json`, the spec file it was made from, the spec itself (paths resolved, so workers on other
processes run exactly it) and a fingerprint of everything that decides a trial's result: the data (a
digest of the arrays), the model (with the source of a model function, that function's own lines only),
the loss, the space, the objective, the tuner and the training budget. The metrics logged beside the
objective are not in it: logging one more does not change a trial.
Resuming with a changed spec, or with another spec of the same name, is refused before any training,
naming what changed; only a raised `trials` extends the search. `--overwrite` starts over.
"""

import hashlib
import inspect
import json
import os
import shutil

RECORD = "sweep.json"


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
    return {
        "data": data_digest,
        "task": spec.task,
        "model": _digest(model),
        "loss": _digest([spec.loss, spec.loss_args]),
        "space": _digest(space),
        "objective": f"{spec.objective} ({spec.direction}), min_precision {spec.min_precision:g}",
        "tuner": spec.tuner,
        "epochs": spec.epochs,
        "executions": spec.executions,
        "seed": spec.seed,
        "batch_size": spec.batch_size,
        "learning_rate": spec.learning_rate,
    }


def _describe(source):
    return source or "a spec given as a dict"


def read(state_dir, name):
    """The record of the sweep `name` in `state_dir`, or None when it has none."""
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
