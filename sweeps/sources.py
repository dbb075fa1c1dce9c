"""Where a sweep's data comes from: a built-in exercise dataset (`sweeps.datasets`), a file (`.npz` or
`.csv`), a function (`module:function`), or arrays handed to `sweeps.run`. Whatever the source, the data
is checked before any training (every error names the source and the problem), split into train and test
(a seeded, stratified `test_fraction` when the source has no test part), and kept for the process: every
trial of a sweep shares one copy.

Every sweep has three parts: train, validation and test. The validation part is the data's own (`x_val`
and `y_val` in a `.npz` or a returned dict, the middle pair of `((train), (validation), (test))`), else a
seeded split of the training part (`validation_fraction`, stratified for class labels), never of the test
part. Trials are scored, thresholds chosen and early stopping decided on validation; the test part is
measured and reported, and chooses nothing.
"""

import contextlib
import dataclasses
import dis
import functools
import hashlib
import importlib
import importlib.util
import inspect
import math
import os
import sys
import types

import numpy as np

from sweeps import datasets

TASKS = datasets.TASKS
FILE_SUFFIXES = (".npz", ".csv")
UNKNOWN_SIZE_LIMIT = 2**31  # bytes read from a tf.data.Dataset of unknown size before it is taken for endless


class DataError(ValueError):
    """Data that cannot be swept; the message names the source and what is wrong."""


def kind(source):
    """'file', 'function' or 'builtin' for a spec's `dataset` string."""
    if source.lower().endswith(FILE_SUFFIXES):
        return "file"
    if ":" in source:
        return "function"
    return "builtin"


@dataclasses.dataclass(frozen=True)
class Source:
    """What to load and how to split it; hashable, so that a process loads each source once."""

    dataset: str  # a built-in name, an absolute file path, or "module:function"
    task: str = None  # declared with your own data; a built-in dataset knows its own
    target: str = None  # the label column of a CSV
    test_fraction: float = 0.2
    validation_fraction: float = 0.2
    seed: int = 0
    base: str = None  # the spec's folder: where `module` is looked for
    drop: tuple = ()  # a table's columns left out (a CSV, or a DataFrame given to `sweeps.run`)
    categorical: tuple = ()  # a table's columns one-hot encoded in the model's input pipeline
    missing: str = "error"  # what a missing table value does: "error", "drop" or "mean"

    @property
    def table_options(self):
        from sweeps import tables  # pandas and keras: only for tables

        return tables.TableOptions(self.drop, self.categorical, self.missing)


_MODULES = {}  # a module file beside a spec -> (module, {file: modification time} of the folder's files it read)
_FOLDER_FILES = {}  # that module's name -> those files: what a fingerprint of its functions hashes
_NEVER_YOURS = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names) | {"__main__"}


def _module_file(module_name, base):
    """`base/module.py` or `base/module/__init__.py`, if the spec's folder holds the module."""
    relative = os.path.join(*module_name.split("."))
    for candidate in (relative + ".py", os.path.join(relative, "__init__.py")):
        path = os.path.join(base, candidate)
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


def _names_in(folder):
    """The top-level module names a folder holds: `name.py` files and packages (`name/__init__.py`)."""
    names = set()
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        if entry.endswith(".py") and os.path.isfile(path):
            names.add(entry[:-3])
        elif os.path.isfile(os.path.join(path, "__init__.py")):
            names.add(entry)
    return names


def _inside(module, folder):
    file = getattr(module, "__file__", None)
    return bool(file) and os.path.realpath(file).startswith(os.path.realpath(folder) + os.sep)


def _on_path(folder):
    """Whether `folder` is on the import path already (the working directory of `python -m sweeps`)."""
    return any(os.path.realpath(entry or os.getcwd()) == os.path.realpath(folder) for entry in sys.path)


@contextlib.contextmanager
def _folder_first(folder):
    """For the length of one import: `folder` first on `sys.path`, and any module loaded from elsewhere under
    a name that `folder` holds set aside, so that `import helpers` in a module beside a spec finds the
    `helpers.py` beside it (not the working directory's, nor another spec's). Afterwards `sys.path` and
    `sys.modules` are as they were: the modules imported from the folder are taken out and those set aside
    put back. Standard-library names are never set aside, and a folder already on the import path keeps its
    modules (every import finds them there anyway). Yields {name: module} of the modules it imported."""
    names = _names_in(folder)
    shared = _on_path(folder)
    aside = {
        name: module
        for name, module in sys.modules.items()
        if not shared and name.partition(".")[0] in names - _NEVER_YOURS and not _inside(module, folder)
    }
    for name in aside:
        del sys.modules[name]
    before, path = set(sys.modules), list(sys.path)
    sys.path.insert(0, folder)
    imported = {}
    try:
        yield imported
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - before:
            if name.partition(".")[0] in names and _inside(sys.modules[name], folder):
                imported[name] = sys.modules[name] if shared else sys.modules.pop(name)
        sys.modules.update(aside)


def _folder_modules(module, folder):
    """The modules of `folder` that `module` holds, or whose functions and classes it holds: helpers it
    found imported already (a folder on the import path keeps its modules in `sys.modules`)."""
    found = []
    for value in vars(module).values():
        name = getattr(value, "__module__", None)
        owner = value if isinstance(value, types.ModuleType) else sys.modules.get(name if isinstance(name, str) else "")
        if owner is not None and _inside(owner, folder):
            found.append(owner)
    return found


def _stamp(path):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _exec_beside(path, module_name, base):
    """The module file `path` in the spec's folder `base`, executed under a name of its own (kept in
    `sys.modules`, as classes and dataclasses need), its imports from the folder isolated; and the files
    of the folder that it read."""
    digest = hashlib.blake2b(path.encode(), digest_size=6).hexdigest()
    unique = f"_sweeps_user_{digest}_{module_name.replace('.', '_')}"
    found = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(found)
    with _folder_first(base) as imported:
        sys.modules[unique] = module
        try:
            found.loader.exec_module(module)
        except BaseException:
            del sys.modules[unique]
            raise
    files = {path, *(os.path.abspath(m.__file__) for m in (*imported.values(), *_folder_modules(module, base)))}
    _FOLDER_FILES[unique] = tuple(sorted(files))
    return module, files


def _load_module(module_name, base):
    """A module beside the spec is loaded from its file under a name of its own, so that two specs whose
    folders each hold a `net.py` get their own (a plain import would hand the second spec the first's
    module from `sys.modules`), and so do the helper modules it imports from its folder. It is loaded again
    once it or one of those helpers is edited. Other modules are imported by name."""
    path = _module_file(module_name, base) if base else None
    if path is None:
        return importlib.import_module(module_name)
    module, stamps = _MODULES.get(path, (None, {}))
    if module is None or any(_stamp(file) != stamp for file, stamp in stamps.items()):
        module, files = _exec_beside(path, module_name, base)
        _MODULES[path] = module, {file: _stamp(file) for file in files}
    return module


def module_files(module_name):
    """The files of a spec's folder that loading the module `module_name` read: its own and those of the
    helper modules it imported from the folder. Empty for a module not loaded from a spec's folder."""
    return _FOLDER_FILES.get(module_name, ())


def _defined_in(target):
    """The module a callable comes from (a partial's function's)."""
    while isinstance(target, functools.partial):
        target = target.func
    module = getattr(target, "__module__", None) if callable(target) else None
    if not isinstance(module, str):
        module = type(target).__module__
    return module


def _refuse_foreign(reference, module_name, target=None):
    """A dataset or model function is the user's own: one from Python itself (`os:system`, `sys:exit`,
    `builtins:eval`) is refused before it is imported or called."""
    module = module_name if target is None else _defined_in(target)
    if module.partition(".")[0] in _NEVER_YOURS:
        raise ValueError(
            f"{reference!r} names {module!r}, a module of Python itself; a dataset or model function must be "
            "your own: a module beside the spec, or one installed in the environment"
        )


def import_function(reference, base=None):
    """The callable named by "module:function" ("package.module:object.attribute"): a module file in
    `base` (the spec's folder) first, loaded as `_load_module` says, else an importable module; never one
    of Python's own (the standard library, builtins, `__main__`). `sys.path` is left as it was."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:function', got {reference!r}")
    beside = base is not None and _module_file(module_name, base) is not None
    if not beside:
        _refuse_foreign(reference, module_name)
    try:
        target = _load_module(module_name, base)
    except ImportError as error:
        raise ValueError(f"cannot import module {module_name!r} for {reference!r}: {error}") from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"module {module_name!r} has no {attribute!r} (for {reference!r})")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{reference!r} is not callable")
    _refuse_foreign(reference, module_name, target)
    if beside and not _on_path(base):
        _refuse_late_imports(reference, target, base)
    return target


def _imported_names(code):
    """The module names that `import` statements in a code object (and the code nested in it) import."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "IMPORT_NAME"}
    for constant in code.co_consts:
        if inspect.iscode(constant):
            names |= _imported_names(constant)
    return names


def _refuse_late_imports(reference, target, folder):
    """A function that imports a module of the spec's folder inside its body would run that import at call
    time, when the folder is no longer first on the import path (another `helpers` may answer, or none):
    refused, with the fix (import it at the top of the module, where the folder's own module is found)."""
    while isinstance(target, functools.partial):
        target = target.func
    module = sys.modules.get(getattr(target, "__module__", None) or "")
    functions = [target, *(vars(module).values() if module is not None else ())]  # and what it may call there
    names = set()
    for function in functions:
        if inspect.isfunction(function) and function.__module__ == getattr(target, "__module__", None):
            names |= _imported_names(function.__code__)
    late = sorted(n for n in names if n.partition(".")[0] in _names_in(folder))
    if late:
        raise ValueError(
            f"{reference!r}: its module imports {', '.join(late)} inside a function; modules beside the spec are "
            "found only while its module loads: import them at the top of the module"
        )


def reference_of(function):
    """ "module:qualname" of an importable, module-level function (what a worker process can import), or
    None for a lambda, a closure or a function defined in `__main__` or a notebook."""
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if not module or module == "__main__" or "<" in name:
        return None
    try:
        found = import_function(f"{module}:{name}")
    except ValueError:
        return None
    return f"{module}:{name}" if found is function else None


# ---- reading ------------------------------------------------------------------------------------------


def _read_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        if {"x_train", "y_train", "x_test", "y_test"} <= keys or {"x", "y"} <= keys:
            return parts({k: archive[k] for k in keys}, f"dataset {path!r}")
    raise DataError(
        f"dataset {path!r}: expected arrays `x` and `y`, or `x_train`, `y_train`, `x_test` and `y_test`; "
        f"it holds {', '.join(sorted(keys)) or 'none'}"
    )


def _check_elements(dataset, where):
    """A dataset of (x, y) pairs of single tensors, with an end: what `_dataset_to_arrays` can read."""
    import tensorflow as tf

    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise DataError(f"{where}: a tf.data.Dataset must yield (x, y) pairs; it yields {spec}")
    for name, part in zip(("features", "labels"), spec, strict=True):
        if isinstance(part, dict):
            raise DataError(
                f"{where}: the tf.data.Dataset yields its {name} as a dict ({', '.join(map(str, part))}); the harness "
                f"takes one tensor: map them to one, e.g. dataset.map(lambda x, y: (tf.stack([x[k] for k in KEYS], "
                "axis=-1), y)), or give the columns to sweeps.run as a pandas DataFrame"
            )
        if not isinstance(part, tf.TensorSpec):
            raise DataError(f"{where}: the tf.data.Dataset's {name} must be one dense tensor; they are {part}")
    if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise DataError(
            f"{where}: the tf.data.Dataset is infinite (a repeat() without a count?); the harness reads it once "
            "into memory: give a finite one (drop the repeat(), or take(n) of it)"
        )


def _dataset_to_arrays(dataset, where, task):
    """A tf.data.Dataset of (x, y) pairs, per example or batched, as arrays. It is read as batched when its
    batch axis has no fixed size (`batch()` without `drop_remainder`), or, for class labels, when the
    labels have an axis. A regression dataset batched with `drop_remainder=True` cannot be told from
    per-example vectors: `unbatch()` it first. An infinite dataset is refused, and one of unknown size (a
    `filter()`, a generator) is read up to `UNKNOWN_SIZE_LIMIT` bytes."""
    import tensorflow as tf

    _check_elements(dataset, where)
    spec = dataset.element_spec
    unknown_axis = bool(spec[0].shape.rank) and spec[0].shape[0] is None
    batched = unknown_axis or (task != "regression" and (spec[1].shape.rank or 0) >= 1)
    limit = UNKNOWN_SIZE_LIMIT if dataset.cardinality() == tf.data.UNKNOWN_CARDINALITY else math.inf
    xs, ys, size = [], [], 0
    for x, y in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
        size += x.nbytes + y.nbytes
        if size > limit:
            raise DataError(
                f"{where}: the tf.data.Dataset's size is unknown (a filter() or a generator) and it had not ended "
                f"after {limit / 2**20:.0f} MiB ({len(xs)} elements). If it is finite, declare its size: "
                "dataset.apply(tf.data.experimental.assert_cardinality(n)); if not, take(n) of it"
            )
    if not xs:
        raise DataError(f"{where}: the tf.data.Dataset is empty")
    join = np.concatenate if batched else np.stack
    return join(xs), join(ys)


def _is_pair(value):
    return isinstance(value, tuple | list) and len(value) == 2


def _is_tf_dataset(value):
    return hasattr(value, "element_spec") and type(value).__module__.startswith("tensorflow")


def parts(value, where, task=None):
    """(x_train, y_train, x_test, y_test, x_val, y_val) from what a function returned or `sweeps.run` was
    given: (x, y), ((x_train, y_train), (x_test, y_test)), ((x_train, y_train), (x_val, y_val), (x_test,
    y_test)), a tf.data.Dataset or a pair of them, or a dict with the `.npz` keys (`x_val` and `y_val` too:
    the validation split, kept as given). Parts not given are None."""
    if isinstance(value, dict):
        validation = (value.get("x_val"), value.get("y_val"))
        if {"x_train", "y_train", "x_test", "y_test"} <= value.keys():
            return (*(value[k] for k in ("x_train", "y_train", "x_test", "y_test")), *validation)
        if {"x", "y"} <= value.keys():
            return value["x"], value["y"], None, None, *validation
        raise DataError(f"{where}: a dict needs keys x, y or x_train, y_train, x_test, y_test")
    if _is_tf_dataset(value):
        return (*_dataset_to_arrays(value, where, task), None, None, None, None)
    if isinstance(value, tuple | list) and len(value) == 3 and all(_is_pair(v) for v in value):
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = value
        return x_train, y_train, x_test, y_test, x_val, y_val
    if isinstance(value, tuple | list) and len(value) == 2:
        first, second = value
        if _is_tf_dataset(first) and _is_tf_dataset(second):
            train, test = _dataset_to_arrays(first, where, task), _dataset_to_arrays(second, where, task)
            return (*train, *test, None, None)
        if isinstance(first, tuple | list) and isinstance(second, tuple | list):
            if len(first) == 2 and len(second) == 2:
                return first[0], first[1], second[0], second[1], None, None
        elif not isinstance(first, tuple | list):
            return first, second, None, None, None, None
    raise DataError(
        f"{where}: expected (x, y), ((x_train, y_train), (x_test, y_test)), ((x_train, y_train), (x_val, y_val), "
        f"(x_test, y_test)), a tf.data.Dataset of (x, y) or a pair of them, or a dict of arrays; got "
        f"{type(value).__name__}"
    )


# ---- checking and splitting ---------------------------------------------------------------------------


def _named(part, noun):
    """ "training labels", or "labels" when the data has one part."""
    return f"{part} {noun}" if part else noun


def _rows(mask):
    """ "data rows 3, 17, 40, counting from 0" (the first five, then "...") for the rows where `mask` holds."""
    rows = np.flatnonzero(mask)
    return f"data rows {', '.join(map(str, rows[:5].tolist()))}{', ...' if rows.size > 5 else ''}, counting from 0"


def _check_shape(array, where, part, noun):
    """One row per example: not a single value (a 0-d array), not zero rows, not complex numbers."""
    if array.ndim == 0:
        raise DataError(
            f"{where}: the {_named(part, noun)} are a single value (a 0-d array); give one row per example, "
            f"shape (n, ...)"
        )
    if len(array) == 0:
        raise DataError(f"{where}: the {_named(part, 'data')} has no rows")
    if np.iscomplexobj(array):
        raise DataError(
            f"{where}: the {_named(part, noun)} are complex numbers; give their real and imaginary parts as "
            "columns of their own (np.real, np.imag)"
        )


def _features(x, where, part):
    try:
        x = np.asarray(x)
        _check_shape(x, where, part, "features")
        x = x.astype(np.float32)
    except (TypeError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"{where}: {_named(part, 'features')} are not numbers") from None
    if x.ndim == 1:
        x = x[:, None]
    bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    if bad.any():
        raise DataError(f"{where}: {int(bad.sum())} {_named(part, 'row(s)')} have NaN or inf features ({_rows(bad)})")
    return x


def _class_ids(y, values, where, part):
    """Whole, non-negative class ids that fit the int32 the harness computes with."""
    if (values != np.round(values)).any():
        raise DataError(f"{where}: class ids must be whole numbers; found {_few(values[values != np.round(values)])}")
    if (values < 0).any():
        raise DataError(f"{where}: class ids must be >= 0; found {_few(y[values < 0])} in the {part or 'data'} labels")
    too_large = values > np.iinfo(np.int32).max
    if too_large.any():
        raise DataError(
            f"{where}: class ids must be at most {np.iinfo(np.int32).max} (the harness keeps them as int32); found "
            f"{_few(y[too_large])} in the {part or 'data'} labels. Number the classes 0..n-1, e.g. "
            "np.unique(y, return_inverse=True)[1]"
        )


def _labels(y, task, where, part):
    y = np.asarray(y)
    _check_shape(y, where, part, "labels")
    if task != "regression" and y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        raise DataError(f"{where}: {_named(part, 'labels')} are not numbers (dtype {y.dtype})")
    values = y.astype(np.float64)
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    if bad.any():
        raise DataError(f"{where}: {int(bad.sum())} {_named(part, 'label(s)')} are NaN or inf ({_rows(bad)})")
    if task == "regression":
        return values.astype(np.float32)
    if y.ndim != 1:
        raise DataError(f"{where}: {_named(part, 'labels')} must be one class id per row, shape (n,); got {y.shape}")
    if task == "binary":
        wrong = np.setdiff1d(np.unique(values), [0.0, 1.0])
        if wrong.size:
            raise DataError(
                f"{where}: binary labels must be 0 or 1; found {_few(wrong)} in the {part or 'data'} labels"
            )
    else:
        _class_ids(y, values, where, part)
    return values.astype(np.int32)


def _few(values):
    values = np.unique(values)
    shown = ", ".join(_number(v) for v in values[:5])
    return shown + (f" and {values.size - 5} more" if values.size > 5 else "")


def _number(value):
    """A label as written: whole numbers in full (3000000000, not 3e+09), others as %g."""
    if isinstance(value, np.integer | np.bool_):
        return str(int(value))
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**63 else f"{value:g}"


def _split(x, y, fraction, stratify, seed, where, what):
    """A seeded split: (x_kept, y_kept, x_held, y_held); stratified for class labels."""
    from sklearn.model_selection import train_test_split

    if stratify:
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            rare = classes[counts < 2]
            raise DataError(
                f"{where}: class {_few(rare)} has only {counts.min()} row(s); a stratified {what} split needs at "
                "least 2 rows of every class (one on each side)"
            )
        held = math.ceil(len(y) * fraction)  # as scikit-learn rounds the held-out part
        if held < len(classes) or len(y) - held < len(classes):
            raise DataError(
                f"{where}: {len(y)} rows cannot be split {1 - fraction:g} / {fraction:g} ({what}) with every one "
                f"of the {len(classes)} classes on both sides; give more rows or another fraction"
            )
    elif len(y) < 2:
        raise DataError(f"{where}: {len(y)} row(s) cannot be split into train and {what}")
    try:
        x_kept, x_held, y_kept, y_held = train_test_split(
            x, y, test_size=fraction, random_state=seed, stratify=y if stratify else None
        )
    except ValueError as error:
        raise DataError(
            f"{where}: cannot split {len(y)} rows {1 - fraction:g} / {fraction:g} ({what}): {error}"
        ) from None
    return x_kept, y_kept, x_held, y_held


def _given_part(x, y, task, where, part, x_train):
    """A test or validation part given with the data: checked like training, and shaped like it."""
    x, y = _features(x, where, part), _labels(y, task, where, part)
    if len(x) != len(y):
        raise DataError(f"{where}: {len(x)} {part} rows of features but {len(y)} {part} labels")
    if x.shape[1:] != x_train.shape[1:]:
        raise DataError(f"{where}: {part} features {x.shape[1:]} differ from training {x_train.shape[1:]}")
    return x, y


# A multiclass model gets one output per id up to the largest, a proxy loss one class proxy (see
# spec.check_data): ids spread far beyond the classes present would build a huge layer of unused ones.
# Beyond this many ids, at least a quarter must be in use.
SPARSE_IDS_ALLOWED = 1024


def check_dense_ids(classes, labels, where):
    """Refuse class ids spread far beyond the classes present, where a model gets one output (or proxy) per id."""
    present = np.unique(np.concatenate(labels)).size if classes else 0
    if classes > SPARSE_IDS_ALLOWED and classes > 4 * present:
        raise DataError(
            f"{where}: class ids run to {classes - 1} but only {present} distinct classes occur; the model would "
            f"get {classes} outputs (or class proxies), one per id. Number the classes 0..n-1, e.g. "
            "np.unique(y, return_inverse=True)[1]"
        )


def check_and_split(arrays, task, where, test_fraction=0.2, validation_fraction=0.2, seed=0, name=None):
    """A `datasets.Dataset` from raw (x_train, y_train, x_test, y_test, x_val, y_val), after every check."""
    x_train, y_train, x_test, y_test, x_val, y_val = arrays
    stratify = task != "regression"
    part = "training" if x_test is not None else ""
    x_train, y_train = _features(x_train, where, part), _labels(y_train, task, where, part)
    if len(x_train) != len(y_train):
        raise DataError(f"{where}: {len(x_train)} rows of features but {len(y_train)} labels")
    if task in ("multiclass", "embedding") and np.unique(y_train).size < 2:
        raise DataError(
            f"{where}: the {_named(part, 'labels')} hold one class only ({_few(y_train)}); {task} tasks need at "
            "least 2 classes"
        )
    if x_test is None:
        x_train, y_train, x_test, y_test = _split(x_train, y_train, test_fraction, stratify, seed, where, "test")
    else:
        x_test, y_test = _given_part(x_test, y_test, task, where, "test", x_train)

    if (x_val is None) != (y_val is None):
        raise DataError(f"{where}: give both x_val and y_val, or neither")
    if x_val is not None:
        x_val, y_val = _given_part(x_val, y_val, task, where, "validation", x_train)
    else:
        x_train, y_train, x_val, y_val = _split(
            x_train, y_train, validation_fraction, stratify, seed, where, "validation"
        )
    classes = int(max(y.max() for y in (y_train, y_val, y_test))) + 1 if task in ("multiclass", "embedding") else 0
    if task == "multiclass":  # an embedding model's outputs are its embedding, whatever the ids
        check_dense_ids(classes, (y_train, y_val, y_test), where)
    if task == "binary":  # both classes on every side: threshold-free metrics and thresholds need them
        for part, labels in (("training", y_train), ("test", y_test), ("validation", y_val)):
            if np.unique(labels).size < 2:
                raise DataError(
                    f"{where}: the {part} labels hold one class only; binary metrics need both (give more rows "
                    "of the rarer class, or a larger test_fraction / validation_fraction)"
                )
    sizes = f"{len(x_train)} train / {len(x_val)} validation / {len(x_test)} test"
    return datasets.Dataset(
        name or where, task, x_train, y_train, x_test, y_test, f"{where}: {sizes}", classes, x_val=x_val, y_val=y_val
    )


def _builtin(source):
    """A built-in dataset's train and test parts, with its own validation part or one split from its
    training part (the teacher's logits, where the data has them, split with their rows)."""
    data = datasets.load(source.dataset)
    if data.x_val is not None:
        return data
    rows = np.arange(len(data.y_train))
    kept, _, held, _ = _split(
        rows, data.y_train, source.validation_fraction, data.task != "regression", source.seed, source.dataset,
        "validation",
    )  # fmt: skip
    teacher = data.teacher[kept] if data.teacher is not None else None
    return dataclasses.replace(
        data,
        x_train=data.x_train[kept],
        y_train=data.y_train[kept],
        x_val=data.x_train[held],
        y_val=data.y_train[held],
        teacher=teacher,
    )


def load(source):
    """The checked, split data of a `Source`; loaded once per process (a file again once it changes)."""
    stamp = None
    if kind(source.dataset) == "file" and os.path.isfile(source.dataset):
        status = os.stat(source.dataset)
        stamp = (status.st_mtime_ns, status.st_size)
    return _load(source, stamp)


@functools.lru_cache(maxsize=4)
def _load(source, stamp):
    if kind(source.dataset) == "builtin":
        return _builtin(source)
    where = f"dataset {source.dataset!r}"
    if kind(source.dataset) == "file":
        if not os.path.isfile(source.dataset):
            raise DataError(f"{where}: no such file")
        try:
            if not source.dataset.lower().endswith(".npz"):
                from sweeps import tables

                table = tables.read_csv(source.dataset, source.target, source.table_options)
                return split_table(table, table.y, source, where, source.dataset)
            arrays = _read_npz(source.dataset)
        except (OSError, ValueError) as error:
            if isinstance(error, DataError):
                raise
            raise DataError(f"{where}: cannot be read: {error}") from None
    else:
        try:
            function = import_function(source.dataset, source.base)
        except ValueError as error:
            raise DataError(f"{where}: {error}") from None
        arrays = parts(function(), f"{where} (what it returned)", source.task)
    return check_and_split(
        arrays, source.task, where, source.test_fraction, source.validation_fraction, source.seed, source.dataset
    )


def _is_frame(value):
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def split_table(table, labels, source, where, name=None, given=None):
    """Train, validation and test parts of a checked `sweeps.tables.Table` (a CSV or a DataFrame): its rows
    split first (seeded, stratified), the encoding (`drop`, `categorical`, `missing = "mean"`'s means)
    learnt from the training rows alone, then every part encoded. `given`: {part: (Table, labels)} for a
    validation or test part handed over as DataFrames of its own. The dataset keeps the encoder, so the
    exported model takes the raw columns."""
    stratify = source.task != "regression"
    labels = _labels(np.asarray(labels), source.task, where, "")
    rows = np.arange(len(table))
    given = given or {}
    if "test" in given:
        train_rows, y_train, test = rows, labels, given["test"]
    else:
        train_rows, y_train, test_rows, y_test = _split(rows, labels, source.test_fraction, stratify, source.seed,
                                                       where, "test")  # fmt: skip
        test = (table, test_rows, y_test)
    if "validation" in given:
        val = given["validation"]
    else:
        train_rows, y_train, val_rows, y_val = _split(
            train_rows, y_train, source.validation_fraction, stratify, source.seed, where, "validation"
        )
        val = (table, val_rows, y_val)
    encoder = table.fit(train_rows)
    arrays = [encoder.transform(table, train_rows), y_train]
    for part_table, part_rows, part_labels in (test, val):
        arrays += [encoder.transform(part_table, part_rows), part_labels]
    x_train, y_train, x_test, y_test, x_val, y_val = arrays
    data = check_and_split((x_train, y_train, x_test, y_test, x_val, y_val), source.task, where, name=name)
    rows = {"train": train_rows, "test": test[1], "validation": val[1]}
    return dataclasses.replace(data, encoder=encoder, table_rows=rows)


def _frame_parts(arrays, source):
    """DataFrames given to `sweeps.run` as tables: the training frame checked and encoded as a CSV is, and
    a test or validation frame encoded with the training part's encoding."""
    from sweeps import tables

    x_train, y_train, x_test, y_test, x_val, y_val = arrays
    options = source.table_options

    def table(frame, labels, part):
        where = "data" if part == "training" else f"data ({part} part)"
        checked = tables.from_frame(frame, None, options, where)
        labels = np.asarray(labels)
        if len(labels) != len(frame):
            raise DataError(f"{where}: {len(frame)} rows of features but {len(labels)} labels")
        return checked, labels[checked.kept]

    train, labels = table(x_train, y_train, "training")
    given = {}
    for part, x, y in (("test", x_test, y_test), ("validation", x_val, y_val)):
        if x is not None:
            part_table, part_labels = table(x, y, part)
            given[part] = (part_table, np.arange(len(part_table)), _labels(part_labels, source.task, "data", part))
    return split_table(train, labels, source, "data", given=given)


def from_arrays(value, source):
    """The checked, split data of arrays (or pandas DataFrames) given to `sweeps.run(data=...)`."""
    arrays = parts(value, "data", source.task)
    if _is_frame(arrays[0]):
        return _frame_parts(arrays, source)
    if source.drop or source.categorical or source.missing != "error":
        raise DataError("data: `drop`, `categorical` and `missing` apply to a table: give x as a pandas DataFrame")
    return check_and_split(
        arrays,
        source.task,
        "data",
        source.test_fraction,
        source.validation_fraction,
        source.seed,
    )


def fingerprint(data):
    """A digest of every array of the split data: equal exactly when the data a sweep trains and tests on is."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test):
        if array is not None:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.data)
    return digest.hexdigest()
