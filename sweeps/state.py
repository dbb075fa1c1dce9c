"""What a sweep's state belongs to. A sweep's state (`STATE/NAME/`, keras-tuner's trials) records, in
`sweep.json`, the spec file it was made from, the spec itself (paths resolved, so workers on other
processes run exactly it) and a fingerprint of everything that decides a trial's result: the data (a
digest of the arrays), the model (for a model function, what it computes: see `_code`), the loss, the
space, the objective, the tuner and the training budget. The metrics logged beside the objective are not
in it: logging one more does not change a trial.
Resuming with a changed spec, or with another spec of the same name, is refused before any training,
naming what changed; only a raised `trials` extends the search. `--overwrite` starts over.
"""

import contextlib
import fcntl
import fnmatch
import functools
import glob
import hashlib
import importlib.metadata
import inspect
import json
import math
import os
import re
import shutil
import socket
import sys
import time

import numpy as np

RECORD = "sweep.json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # one plain path component, never . or ..


# What the harness writes at the log folder's root besides the sweeps' folders: the config (and what a
# replace of it leaves for a moment), the experiments (`python -m sweeps experiment`) and the report
# (`report.md`, `NAME-objective.png`); no sweep is named so. Names starting with "." (the locks) are no
# sweep names anyway. Compared without case: some file systems ignore it.
RESERVED_NAMES = ("_config", "_config.old", "_config.partial", "experiments", "experiments.md", "report.md")
RESERVED_PATTERNS = ("*-objective.png",)


def is_reserved(name):
    lowered = name.lower()
    return lowered in RESERVED_NAMES or any(fnmatch.fnmatchcase(lowered, p) for p in RESERVED_PATTERNS)


class StateError(RuntimeError):
    """A sweep state that does not belong to the spec being run; the message says how to start over."""


def _digest(value):
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


class _NoFingerprintError(ValueError):
    """A value bound to the model function (an argument, a default, a closure's variable, an object's
    attribute) whose content cannot be read."""


_NAMED_ONLY = ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__")


@functools.cache
def _distributions():
    return importlib.metadata.packages_distributions()


def _installed(module_name):
    """Whether a module is Python's own or an installed distribution's: its code is named, not hashed."""
    top = (module_name or "").partition(".")[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names or top in _distributions()


def _kind(value):
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _file_digest(path):
    try:
        with open(path, "rb") as file:
            return hashlib.blake2b(file.read(), digest_size=8).hexdigest()
    except OSError:
        return None


def _module_files(namespace):
    """Digests of the user's module files behind a module's namespace (not their paths: a moved checkout
    resumes): for a module loaded from a spec's folder, it and the helper modules it imported from there;
    for another module of the user's own, its file. None for `__main__` or a notebook, where a function's
    source and what it refers to stand for the file (the rest of a script, such as the call that starts
    the sweep, decides no trial)."""
    from sweeps import sources

    name, file = namespace.get("__name__"), namespace.get("__file__")
    files = sources.module_files(name) or ((file,) if file and name != "__main__" and not _installed(name) else ())
    return sorted(_file_digest(f) for f in files) or None


def _code_names(code):
    """The global names a code object and the code nested in it (lambdas, inner functions) refer to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if inspect.iscode(constant):
            names |= _code_names(constant)
    return names


def _bytecode(code):
    """A function's compiled code, for one whose source cannot be read (`python -c`, `exec`)."""
    constants = [_bytecode(c) if inspect.iscode(c) else repr(c) for c in code.co_consts]
    return [code.co_code.hex(), constants, list(code.co_names)]


class _Walk:
    """One fingerprint's traversal: each callable or object described once (met again, by its digest), and
    a cycle cut where it closes. The order is fixed (names sorted), so equal code gives equal digests."""

    def __init__(self):
        self.done = {}  # id -> (the object, kept alive so that its id is not reused; its digest)
        self.open = set()  # ids being described

    def once(self, target, describe):
        key = id(target)
        if key in self.done:
            return self.done[key][1]
        if key in self.open:
            return "<recursive>"
        self.open.add(key)
        try:
            digest = _digest(describe())
        finally:
            self.open.discard(key)
        self.done[key] = (target, digest)
        return digest


def _closure(function, seen):
    values = {}
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or (), strict=True):
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell: a variable not assigned yet
            continue
        values[name] = _bound(contents, seen, f"the variable {name!r} of its closure")
    return values


def _python_function(function, seen):
    """A function's source (its bytecode where there is none), the values bound to it (defaults, closure),
    the globals it refers to, and its module's files."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = _bytecode(function.__code__)
    namespace = function.__globals__
    return {
        "function": function.__qualname__,
        "source": source,
        "defaults": _bound([function.__defaults__, function.__kwdefaults__], seen, "its default arguments"),
        "closure": _closure(function, seen),
        "globals": {n: _referred(namespace[n], seen) for n in sorted(_code_names(function.__code__)) if n in namespace},
        "files": _module_files(namespace),
    }


def _class(cls, seen):
    """A class of the user's own: its bases, and its methods and attributes as functions and values."""
    members = {}
    for name, value in vars(cls).items():
        if name not in _NAMED_ONLY:
            if isinstance(value, property):
                value = [value.fget, value.fset, value.fdel]
            members[name] = _referred(getattr(value, "__func__", value), seen)  # a static or class method's
    bases = [_code(base, seen) for base in cls.__bases__ if base is not object]
    return {"class": cls.__qualname__, "bases": bases, "members": members}


def _code(target, seen, where="the model function"):
    """What a callable (or any object) computes, as the digest of a JSON value: a partial's function and
    arguments, a method's function and object, a function's source and what it refers to, a class's
    members, an object's class and content. A function or class of Python itself or of an installed
    distribution is named."""
    return seen.once(target, lambda: _describe_callable(target, seen, where))


def _describe_callable(target, seen, where):
    if isinstance(target, functools.partial):
        arguments = _bound([target.args, target.keywords], seen, "an argument of its functools.partial")
        return {"partial": _code(target.func, seen), "arguments": arguments}
    if inspect.ismethod(target):
        return {"method": _code(target.__func__, seen), "object": _bound(target.__self__, seen, "its object")}
    if inspect.isbuiltin(target) and not inspect.ismodule(getattr(target, "__self__", None) or sys):
        return {"method": target.__qualname__, "object": _bound(target.__self__, seen, "its object")}  # a C method
    if not (inspect.isfunction(target) or inspect.isclass(target) or inspect.isbuiltin(target)):
        return _object(target, seen, where)
    if _installed(target.__module__) or inspect.isbuiltin(target):
        return f"{target.__module__}.{target.__qualname__}"
    return _python_function(target, seen) if inspect.isfunction(target) else _class(target, seen)


def _array(value):
    value = np.ascontiguousarray(value)
    return {"array": str(value.dtype), "shape": list(value.shape), "digest": hashlib.blake2b(value.data).hexdigest()}


def _bound(value, seen, where):
    """A value bound to the model function, as a JSON value that changes with its content; one whose
    content cannot be read (such as a random generator) raises `_NoFingerprintError`."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return hashlib.blake2b(value).hexdigest()
    if isinstance(value, np.ndarray | np.generic):
        return _array(value)
    if isinstance(value, list | tuple | set | frozenset | dict):
        if id(value) in seen.open:
            return "<recursive>"
        seen.open.add(id(value))
        try:
            return _container(value, seen, where)
        finally:
            seen.open.discard(id(value))
    if inspect.ismodule(value):
        return _referred(value, seen)
    return _code(value, seen, where)


def _container(value, seen, where):
    if isinstance(value, dict):
        return {repr(key): _bound(item, seen, where) for key, item in value.items()}
    items = [_bound(item, seen, where) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(json.dumps(item, sort_keys=True, default=str) for item in items)
    return items


def _object(value, seen, where):
    """An object by its class and content: a Keras object's `get_config()`; the attributes of an object of
    the user's own class; else, for a class of Python or an installed distribution, its `repr` when that
    shows its value (no memory address)."""
    yours = not _installed(type(value).__module__)
    kind = _code(type(value), seen) if yours else _kind(value)
    try:
        return {"object": kind, "config": _bound(value.get_config(), seen, f"{where}'s configuration")}
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        pass
    if callable(getattr(value, "__wrapped__", None)):  # a decorated function, such as a tf.function
        return {"object": kind, "wraps": _code(value.__wrapped__, seen)}
    if yours and hasattr(value, "__dict__"):
        return {"object": kind, "attributes": _bound(vars(value), seen, f"an attribute of {where}")}
    shown = repr(value)
    if type(value).__repr__ is not object.__repr__ and " at 0x" not in shown:
        return {"object": _kind(value), "repr": shown}
    raise _NoFingerprintError(f"{where} is a {_kind(value)} object, whose content cannot be read")


def _referred(value, seen):
    """A global a function refers to: a module by its file (the user's own) or name, a function or class
    by its code, data by its value; an object whose content cannot be read by its class alone (a global is
    defined in a module file, which is hashed)."""
    if inspect.ismodule(value):
        return value.__name__ if _installed(value.__name__) else _module_files(vars(value)) or value.__name__
    if inspect.isfunction(value) or inspect.isclass(value) or inspect.ismethod(value):
        return _code(value, seen)
    try:
        return _bound(value, seen, "a global")
    except _NoFingerprintError:
        return _kind(value)


def _function_source(function):
    """What a model function computes, as a JSON value: its source and everything bound to it or called by
    it (`_code`). Raises `_NoFingerprintError` for a bound value whose content cannot be read."""
    return _code(function, _Walk())


def fingerprint(spec, data_digest, model_function=None):
    """The parts of a spec that decide its trials' results, each a short comparable value."""
    model = dict(spec.model)
    if model_function is not None:
        try:
            model["source"] = _digest(_function_source(model_function))
        except _NoFingerprintError as error:
            from sweeps import spec as specs

            raise specs.SpecError(
                f"sweep spec {spec.name!r}: `model`: the model function cannot be fingerprinted: {error}. A sweep "
                "resumes only with the model its trials were run with, so what decides the model must be readable: "
                "pass numbers, strings, lists, dicts, arrays or functions, or build the object inside the function"
            ) from None
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
def locked(state_dir, name, lock_file=None, busy=None):
    """Hold the sweep's lock (`STATE/.NAME.lock`, an OS file lock: a killed holder releases it) for a run;
    a second run of the same sweep on the same state stops at once with a message naming the holder.
    `lock_file` and `busy` (a message with `{holder}`) lock something else the same way (a sweep's
    TensorBoard runs); the message says what holds the lock."""
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, lock_file or f".{name}.lock")
    busy = busy or (
        f"sweep '{name}' is already running on the state {state_dir} ({{holder}}); wait for it to end, stop it, "
        "or use another --state"
    )
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise StateError(busy.format(holder=handle.read().strip() or "another process")) from None
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
