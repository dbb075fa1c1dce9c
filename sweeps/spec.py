"""A sweep is a TOML file (the default suite is `sweeps/specs/`; any path works) or a dict: data, model,
loss, search space, objective, tuner and budget. `load` turns one into a validated `Spec`; every error
names the spec and the field, and is raised before any training.

    description = "Focal gamma x alpha against BCE on the 90/10 imbalanced set"
    dataset = "imbalanced_90_10"
    epochs = 20
    [objective]            # a metric the dataset's task logs (sweeps.metrics.TASK_METRICS)
    name = "minority_recall"
    [space.loss]           # the loss itself can be a hyperparameter...
    choice = ["BinaryCrossentropy", "FocalLoss"]
    [space.gamma]          # ...and its arguments, each a choice or a range, optionally conditional
    choice = [0.5, 1.0, 2.0, 5.0]
    when = { loss = "FocalLoss" }

Class-balanced batches for the pairwise losses (`kerasloss.ClassBalancedBatches`, embedding tasks only):

    batches = "class-balanced"     # every batch: P distinct classes x K examples of each
    classes_per_batch = 8          # P (at most the training data's classes); K below; both may be searched
    examples_per_class = 16        # K; the batch size is P x K, so `batch_size` is not given

Embedding losses train as each needs, and the metrics always measure the embedding model's outputs:
two-view losses (NTXent, BarlowTwins, VICReg; SupCon with shuffled batches) on two augmented views of each
example; proxy losses (ArcFace, CosFace, ProxyAnchor, ProxyNCA) through a `kerasloss.CosineProxies(classes)`
layer the harness puts after the embedding model: trained with it, left out of the measured embeddings.

Losses built from the training part's class counts (`sweeps.derived`): `LogitAdjusted`, `BalancedSoftmax` and
`LDAM` get them as `class_counts` (unless `loss_args` give it), and a `beta` gives `SparseCategoricalFocalLoss`
the class-balanced weights by effective number as its per-class `alpha` (multiclass tasks only):

    [space.beta]                   # gamma = 0: class-balanced cross-entropy (Cui et al. 2019)
    choice = [0.99, 0.999, 0.9999]
    when = { loss = "SparseCategoricalFocalLoss" }

Your own data and model (paths are relative to the spec file; modules are looked for beside it):

    dataset = "data/churn.csv"     # or "x.npz", or "my_module:load" returning arrays / tf.data.Datasets
    task = "binary"                # binary | multiclass | regression | embedding
    target = "churned"             # a CSV's label column; every other column is a feature
    model = "my_module:build"      # build(input_shape=(30,), outputs=1) -> an uncompiled keras.Model
"""

import math
import os
import pathlib
import tomllib
import warnings
from dataclasses import dataclass, field

import numpy as np

import kerasloss
from sweeps import datasets, derived, fields, sources, state
from sweeps.metrics import DEFAULT_MIN_PRECISION, TASK_METRICS
from sweeps.tables import MISSING

SPEC_DIR = pathlib.Path(__file__).parent / "specs"
TUNERS = ("random", "bayesian", "hyperband", "grid")
# searched like loss arguments, given to training
TRAINING_PARAMETERS = ("learning_rate", "batch_size", "classes_per_batch", "examples_per_class")
BATCHES = ("shuffled", "class-balanced")  # how training batches are drawn (`batches`)
BALANCED_FIELDS = ("classes_per_batch", "examples_per_class")  # P and K of class-balanced batches
# What a trial feeds a loss follows what the loss declares it takes (`Loss.inputs`, kerasloss.core.loss.INPUTS).
# An embedding task's losses: over class-labelled embeddings, over views, over CosineProxies' cosines.
EMBEDDING_INPUTS = ("embeddings", "views", "cosines")
# Declared inputs the harness cannot build, and why.
UNSWEPT_INPUTS = {
    "pairs": "it takes pairs of examples labelled similar or not, which the harness does not build",
    "predicted_views": "it needs a predictor head beside the encoder, which the harness does not build",
}


def _declaring(inputs, labels=None):
    return tuple(
        cls
        for cls in kerasloss.core.registry.registered()
        if cls.inputs == inputs and (labels is None or cls.labels_are_ids == labels)
    )


# Losses that ignore the labels and need two views of each example: class-balanced batches cannot feed them.
VIEW_ONLY_LOSSES = _declaring("views", labels=False)
# Losses trained on two augmented views of each example in shuffled batches: the above, and SupCon (whose
# positives are then the other view and the batch's same-class examples).
VIEW_LOSSES = _declaring("views")
# Losses over the cosines of embeddings with trainable class proxies: a trial trains the embedding model
# followed by `kerasloss.CosineProxies(classes)` and measures the embedding model alone.
PROXY_LOSSES = _declaring("cosines")
MODEL_FIELDS = {"hidden": list, "embedding_dim": int, "normalize": bool, "function": str}
NAME_PATTERN = state.NAME_PATTERN  # one plain path component, never . or ..
FIELDS = {name: kind for name, (kind, _) in fields.FIELDS.items()}  # the types; sweeps/fields.py the help
GIVEN = "<given>"  # model.function when `sweeps.run` was handed the model as a Python object
PARAM_FIELDS = ("choice", "min", "max", "log", "when")


class SpecError(ValueError):
    """An invalid sweep spec; the message names the spec and the field."""


@dataclass(frozen=True)
class Param:
    """One searched hyperparameter: a choice of values, or a float / int range (log-scaled if `log`)."""

    name: str
    choice: tuple = ()
    low: float = None
    high: float = None
    log: bool = False
    when: tuple = ()  # ((parent, (values...)),): active only where the parent takes one of the values

    @property
    def kind(self):
        if self.choice:
            return "choice"
        return "int" if isinstance(self.low, int) and isinstance(self.high, int) else "float"

    def extremes(self):
        """The values a validity check must try: every choice, or both ends of the range."""
        return self.choice if self.choice else (self.low, self.high)


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    dataset: str  # a built-in name, an absolute .npz / .csv path, "module:function", or None (data given)
    task: str
    model: dict  # the MLP's fields, or {"function": "module:function", "embedding_dim": n}
    loss: str  # None when the loss is searched ("loss" in the space)
    loss_args: dict
    space: tuple  # of Param
    objective: str
    direction: str  # "max" or "min"
    metrics: tuple
    tuner: str = "random"
    trials: int = 10
    executions: int = 1
    epochs: int = 10
    patience: int = None  # stop an execution when the validation objective has not improved for this many epochs
    seed: int = 0
    batch_size: int = 64
    learning_rate: float = 0.01
    target: str = None
    drop: tuple = ()  # a table's columns left out
    categorical: tuple = ()  # a table's columns one-hot encoded in the model's input pipeline
    missing: str = "error"  # a missing table value: "error", "drop" or "mean"
    test_fraction: float = 0.2
    validation_fraction: float = 0.2
    min_precision: float = DEFAULT_MIN_PRECISION
    batches: str = "shuffled"  # or "class-balanced": P classes x K examples per batch
    classes_per_batch: int = None  # P, with class-balanced batches (unless searched)
    examples_per_class: int = None  # K, with class-balanced batches (unless searched)
    source: str = None  # the spec file, or None for a dict
    base: str = None  # the folder where relative paths and modules are looked for
    table: dict = field(default=None, compare=False, repr=False)  # the validated table, paths resolved

    @property
    def data_source(self):
        """What `sweeps.sources.load` needs (hashable: one load per process)."""
        return sources.Source(
            self.dataset, self.task, self.target, self.test_fraction, self.validation_fraction, self.seed, self.base,
            self.drop, self.categorical, self.missing,
        )  # fmt: skip

    @property
    def tuner_objective(self):
        """What trials are chosen by: the objective measured on the validation part (`val_pr_auc`)."""
        return f"val_{self.objective}"

    def param(self, name):
        return next(p for p in self.space if p.name == name)

    def losses(self):
        """The loss names this sweep can build."""
        return self.param("loss").choice if self.loss is None else (self.loss,)

    @property
    def class_balanced(self):
        return self.batches == "class-balanced"


def _fail(spec, field, message):
    raise SpecError(f"sweep spec {spec!r}: `{field}`: {message}")


def _typed(spec, field, value, kind):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        _fail(spec, field, f"expected {kind.__name__}, got {value!r}")
    return value


def _param(spec, name, table):
    field = f"space.{name}"
    if not isinstance(table, dict):
        _fail(spec, field, "expected a table, e.g. { choice = [1, 2] } or { min = 0.1, max = 1.0, log = true }")
    for key in table:
        if key not in PARAM_FIELDS:
            _fail(spec, f"{field}.{key}", f"unknown field. Known: {', '.join(PARAM_FIELDS)}")
    when = table.get("when", {})
    if not isinstance(when, dict):
        _fail(spec, f"{field}.when", "expected a table such as { loss = 'FocalLoss' }")
    when = tuple((parent, tuple(v if isinstance(v, list) else [v])) for parent, v in when.items())
    if "choice" in table:
        if "min" in table or "max" in table:
            _fail(spec, field, "give either `choice` or `min`/`max`, not both")
        choice = table["choice"]
        if not isinstance(choice, list) or not choice:
            _fail(spec, f"{field}.choice", "expected a non-empty list of values")
        if len({type(v) for v in choice} - {int, float}) > 1 or (
            any(isinstance(v, str) for v in choice) and not all(isinstance(v, str) for v in choice)
        ):
            _fail(spec, f"{field}.choice", f"values must share one type, got {choice!r}")
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in choice)
        if numbers and not all(isinstance(v, int) for v in choice):
            choice = [float(v) for v in choice]  # keras-tuner's Choice holds one type: 1 and 2.5 as floats
        return Param(name, choice=tuple(choice), when=when)
    if "min" not in table or "max" not in table:
        _fail(spec, field, "expected `choice`, or both `min` and `max`")
    low, high = table["min"], table["max"]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)) or not low < high:
        _fail(spec, field, f"expected numbers with min < max, got min={low!r}, max={high!r}")
    if isinstance(low, int) != isinstance(high, int):
        low, high = float(low), float(high)
    log = table.get("log", False)
    if not isinstance(log, bool):
        _fail(spec, f"{field}.log", f"expected true or false, got {log!r}")
    if not all(math.isfinite(v) for v in (low, high)):
        _fail(spec, field, f"expected finite numbers, got min={low!r}, max={high!r}")
    if log and low <= 0:
        _fail(spec, f"{field}.log", f"a log range needs min > 0, got {low!r}")
    return Param(name, low=low, high=high, log=bool(log), when=when)


def check_name(name, what="sweep name"):
    """A sweep name (or worker id) is one plain path component: letters, digits, `_`, `-`, `.`, not `.`
    or `..`, at most 100 characters; nothing the harness derives from it can leave its folders."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or set(name) <= {"."}:
        shown = repr(name)[:60]
        raise SpecError(
            f"invalid {what} {shown}: use letters, digits, '_', '-' and '.', starting with a letter or digit, "
            "at most 100 characters"
        )
    if what == "sweep name" and state.is_reserved(name):
        raise SpecError(
            f"the sweep name {name!r} is reserved: the harness writes LOGDIR/{name} itself (reserved: "
            f"{', '.join(state.RESERVED_NAMES)} and names ending in -objective.png); rename the spec"
        )
    return name


def _number_in(spec, key, value, low, high, low_open=True, high_open=True):
    inside = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not math.isfinite(value) or not inside:
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        _fail(spec, key, f"expected a number in {bounds}, got {value!r}")


def _model(name, model):
    if isinstance(model, str):
        model = {"function": model}
    if not isinstance(model, dict):
        _fail(name, "model", "expected a table such as { hidden = [32, 32] } or a string 'module:function'")
    for key, value in model.items():
        if key not in MODEL_FIELDS:
            _fail(name, f"model.{key}", f"unknown field. Known: {', '.join(MODEL_FIELDS)}")
        _typed(name, f"model.{key}", value, MODEL_FIELDS[key])
    if model.get("function") == GIVEN:
        return model
    if "function" in model:
        if set(model) - {"function", "embedding_dim"}:
            _fail(name, "model", "a model function takes only `embedding_dim` beside it (its widths are its own)")
        if model["function"].count(":") != 1 or not all(model["function"].split(":")):
            _fail(name, "model.function", f"expected 'module:function', got {model['function']!r}")
    hidden = model.get("hidden", [])
    if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in hidden):
        _fail(name, "model.hidden", f"expected a list of positive integer widths, got {hidden!r}")
    if model.get("embedding_dim", 1) < 1:
        _fail(name, "model.embedding_dim", f"expected at least 1, got {model['embedding_dim']}")
    return model


def given_model(model):
    """The model field when `sweeps.run` is handed the model function: an embedding's dimension still
    comes from the spec."""
    return {"function": GIVEN, **{k: v for k, v in model.items() if k == "embedding_dim"}}


def _data(name, table, base, data_given):
    """(dataset, task): the data source resolved against the spec's folder, and the declared task."""
    dataset, task = table.get("dataset"), table.get("task")
    if task is not None and task not in datasets.TASKS:
        _fail(name, "task", f"expected one of {', '.join(datasets.TASKS)}, got {task!r}")
    if dataset is None:
        if not data_given:
            _fail(name, "dataset", "missing: a built-in dataset name, a .npz / .csv path, or 'module:function'")
        if task is None:
            _fail(name, "task", f"missing: with your own data declare one of {', '.join(datasets.TASKS)}")
        return None, task
    where = sources.kind(dataset)
    if where == "builtin":
        if dataset not in datasets.BUILDERS:
            _fail(
                name,
                "dataset",
                f"unknown dataset {dataset!r}. Known: {', '.join(sorted(datasets.BUILDERS))}; or a path ending "
                "in .npz or .csv, or 'module:function'",
            )
        builtin = datasets.load(dataset).task
        if task is not None and task != builtin:
            _fail(name, "task", f"the built-in dataset {dataset!r} is a {builtin} task, not {task!r}")
        return dataset, builtin
    if task is None:
        _fail(name, "task", f"missing: with your own data declare one of {', '.join(datasets.TASKS)}")
    if where == "file":
        path = pathlib.Path(dataset).expanduser()
        if not path.is_absolute():
            path = pathlib.Path(base or os.getcwd()) / path
        if not path.is_file():
            _fail(name, "dataset", f"no such file: {str(path)!r}")
        if dataset.endswith(".csv") and "target" not in table:
            _fail(name, "target", 'a CSV dataset needs `target = "column"`: the label or target column')
        return str(path.resolve()), task
    if dataset.count(":") != 1 or not all(dataset.split(":")):
        _fail(name, "dataset", f"expected 'module:function', got {dataset!r}")
    return dataset, task


def parse(table, name, base=None, source=None, data_given=False, model_given=False):
    """A validated `Spec` from a parsed TOML table (or a dict). `base`: the folder relative paths and
    modules are resolved against; `data_given` / `model_given`: `sweeps.run` supplies them."""
    table = dict(table)
    check_name(name)
    for key, value in table.items():
        if key not in FIELDS:
            _fail(name, key, f"unknown field. Known: {', '.join(FIELDS)}")
        if key not in ("objective", "space", "model", "loss_args"):
            table[key] = _typed(name, key, value, FIELDS[key])
    for key in ("space", "objective"):
        if key not in table:
            _fail(name, key, "missing")
    dataset, task = _data(name, table, base, data_given)
    for key in ("test_fraction", "validation_fraction"):
        if key in table:
            _number_in(name, key, table[key], 0.0, 1.0)
    if "min_precision" in table:
        _number_in(name, "min_precision", table["min_precision"], 0.0, 1.0, high_open=False)
    if "learning_rate" in table:
        _number_in(name, "learning_rate", table["learning_rate"], 0.0, math.inf)
    if "seed" in table and not 0 <= table["seed"] < 2**32:
        _fail(name, "seed", f"expected an integer in [0, 2**32), got {table['seed']}")
    _check_table_fields(name, table, dataset)
    model = _model(name, table.get("model", {}))
    if model_given:
        model = given_model(model)
    if task != "embedding" and "embedding_dim" in model:
        _fail(name, "model.embedding_dim", f"only an embedding task has an embedding; this is a {task} task")
    if not isinstance(table["space"], dict) or not table["space"]:
        _fail(name, "space", "the search space is empty: give at least one hyperparameter")
    space = tuple(_param(name, key, value) for key, value in table["space"].items())
    names = {p.name for p in space}
    for p in space:
        for parent, values in p.when:
            if parent not in names:
                _fail(name, f"space.{p.name}.when", f"refers to {parent!r}, which is not in the space")
            parent_choices = next(q for q in space if q.name == parent).choice
            if not parent_choices:
                _fail(name, f"space.{p.name}.when", f"{parent!r} is a range; a condition needs a choice to match")
            if not set(values) & set(parent_choices):
                _fail(
                    name,
                    f"space.{p.name}.when",
                    f"{parent} never takes {list(values)!r} (its choices: {list(parent_choices)!r}): "
                    f"{p.name} would never be searched",
                )
    _check_training_space(name, space)
    _check_batches(name, table, task, space)

    objective = table["objective"]
    if not isinstance(objective, dict) or "name" not in objective:
        _fail(name, "objective", 'expected a table with `name` (and optionally `direction = "max"`)')
    for key in objective:
        if key not in ("name", "direction"):
            _fail(name, f"objective.{key}", "unknown field. Known: name, direction")
    logged = TASK_METRICS[task]
    objective = {**objective, "name": _objective_name(name, objective.get("name"), logged)}
    if objective["name"] not in logged:
        _fail(
            name,
            "objective.name",
            f"{objective['name']!r} is not logged for a {task} task. Logged: {', '.join(logged)}",
        )
    direction = objective.get("direction", logged[objective["name"]])
    if direction not in ("max", "min"):
        _fail(name, "objective.direction", f"expected 'max' or 'min', got {direction!r}")
    metrics = tuple(table.get("metrics", logged))
    for metric in metrics:
        if metric not in logged:
            _fail(name, "metrics", f"{metric!r} is not logged for a {task} task. Logged: {', '.join(logged)}")
    if table.get("tuner", "random") not in TUNERS:
        _fail(name, "tuner", f"unknown tuner {table['tuner']!r}. Known: {', '.join(TUNERS)}")
    for key in ("trials", "executions", "epochs", "batch_size", "patience"):
        if key in table and table[key] < 1:
            _fail(name, key, f"expected at least 1, got {table[key]}")

    if ("loss" in table) == ("loss" in names):
        _fail(name, "loss", "give the loss either as `loss = NAME` or as a searched `space.loss`, exactly once")
    resolved = {**table, "model": model}
    if dataset is not None:
        resolved["dataset"] = dataset
    spec = Spec(
        name=name,
        description=table.get("description", ""),
        dataset=dataset,
        task=task,
        model=model,
        loss=table.get("loss"),
        loss_args=table.get("loss_args", {}),
        space=space,
        objective=objective["name"],
        direction=direction,
        metrics=tuple(dict.fromkeys((objective["name"], *metrics))),
        **{
            k: table[k]
            for k in (
                "tuner",
                "trials",
                "executions",
                "epochs",
                "patience",
                "seed",
                "batch_size",
                "learning_rate",
                "target",
                "missing",
                "test_fraction",
                "validation_fraction",
                "min_precision",
                "batches",
                *BALANCED_FIELDS,
            )
            if k in table
        },
        drop=tuple(table.get("drop", ())),
        categorical=tuple(table.get("categorical", ())),
        source=source,
        base=base,
        table=resolved,
    )
    _check_losses(spec)
    return spec


TABLE_FIELDS = ("drop", "categorical", "missing")


def _check_table_fields(name, table, dataset):
    """`drop` and `categorical` (lists of column names) and `missing` apply to a table: a CSV file or a
    DataFrame given to `sweeps.run` (no `dataset`)."""
    for key in ("drop", "categorical"):
        if key in table and not all(isinstance(c, str) and c for c in table[key]):
            _fail(name, key, f"expected a list of column names, got {table[key]!r}")
    if "missing" in table and table["missing"] not in MISSING:
        _fail(name, "missing", f"expected one of {', '.join(map(repr, MISSING))}, got {table['missing']!r}")
    given = [key for key in TABLE_FIELDS if key in table]
    if given and dataset is not None and not dataset.lower().endswith(".csv"):
        _fail(name, given[0], "applies to a table: a .csv dataset, or a DataFrame given to sweeps.run")


def _objective_name(name, given, logged):
    """The metric an objective names: `pr_auc` or `val_pr_auc` (it is always measured on the validation
    part); a test metric is refused, since choosing on the test part makes its score optimistic."""
    if not isinstance(given, str):
        _fail(name, "objective.name", f"expected a metric name, got {given!r}")
    if given.startswith("test_") and given not in logged:
        _fail(
            name,
            "objective.name",
            f"{given!r} would choose on the test part, which only reports: trials are chosen on validation; name "
            f"the metric ({given.removeprefix('test_')!r}, measured as 'val_{given.removeprefix('test_')}')",
        )
    return given.removeprefix("val_")


def _check_training_space(name, space):
    """Searched training parameters: batch sizes positive integers, P and K of class-balanced batches
    integers >= 2, learning rates finite and > 0."""
    for p in space:
        values = p.extremes()
        if p.name == "batch_size" and not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
            _fail(name, "space.batch_size", f"expected positive integers, got {list(values)!r}")
        if p.name in BALANCED_FIELDS and not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 2 for v in values
        ):
            _fail(name, f"space.{p.name}", f"expected integers >= 2, got {list(values)!r}")
        if p.name == "learning_rate" and not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0 for v in values
        ):
            _fail(name, "space.learning_rate", f"expected finite numbers > 0, got {list(values)!r}")


def _check_batches(name, table, task, space):
    """`batches`: "shuffled" (the default) or "class-balanced", the latter for an embedding task only, with
    P (`classes_per_batch`) and K (`examples_per_class`) each given or searched (in every trial: no
    condition), and no batch size."""
    searched = {p.name: p for p in space}
    batches = table.get("batches", "shuffled")
    if batches not in BATCHES:
        _fail(name, "batches", f"expected one of {', '.join(map(repr, BATCHES))}, got {batches!r}")
    balanced = batches == "class-balanced"
    for key in BALANCED_FIELDS:
        given, where = key in table, key if key in table else f"space.{key}"
        if not balanced and (given or key in searched):
            _fail(name, where, 'only with batches = "class-balanced"')
        if balanced and given and key in searched:
            _fail(name, key, f"give it either as `{key} = N` or as a searched `space.{key}`, not both")
        if balanced and not given and key not in searched:
            _fail(name, key, f"missing: class-balanced batches need {' and '.join(BALANCED_FIELDS)} (P and K)")
        if key in searched and searched[key].when:
            _fail(name, f"space.{key}.when", "every trial draws its batches with it: it cannot be conditional")
        if given and table[key] < 2:
            _fail(name, key, f"expected at least 2, got {table[key]}")
    if not balanced:
        return
    if task != "embedding":
        _fail(name, "batches", f"class-balanced batches draw an embedding task's classes; this is a {task} task")
    if "batch_size" in table or "batch_size" in searched:
        where = "batch_size" if "batch_size" in table else "space.batch_size"
        _fail(name, where, "with class-balanced batches the batch size is classes_per_batch x examples_per_class")


def _check_losses(spec):
    """Build every loss the space can produce at the ends of each range: an unknown loss name or a value
    outside a loss's valid range fails here, naming the field, instead of in trial 7."""
    field = "loss" if spec.loss is not None else "space.loss.choice"
    with warnings.catch_warnings():  # only validity is checked here; the trials decide from_logits
        warnings.simplefilter("ignore", kerasloss.FromLogitsWarning)
        _check_each_loss(spec, field)


def _check_each_loss(spec, field):
    for loss in spec.losses():
        try:
            built = kerasloss.get(loss, **derived.resolve(loss, spec.loss_args))
        except (ValueError, TypeError) as error:
            _fail(spec.name, field, str(error))
        if built.inputs in UNSWEPT_INPUTS:
            _fail(spec.name, field, f"{loss} cannot be swept: {UNSWEPT_INPUTS[built.inputs]}")
        representation = built.inputs in EMBEDDING_INPUTS
        if representation != (spec.task == "embedding"):
            wanted = "an embedding task" if representation else f"a {spec.task} task's outputs"
            _fail(spec.name, field, f"{loss} needs {wanted}; this sweep's data is a {spec.task} task")
        _check_class_counts(spec, loss, field)
        if spec.class_balanced and isinstance(built, VIEW_ONLY_LOSSES):
            _fail(
                spec.name,
                field,
                f"{loss} ignores the labels and needs two views of each example; class-balanced batches hold "
                "one view per example (a loss over class labels: TripletLoss, SupervisedContrastive, ...)",
            )
        for p in spec.space:
            if p.name == "loss" or p.name in TRAINING_PARAMETERS:
                continue
            if any(parent == "loss" and loss not in values for parent, values in p.when):
                continue  # not an argument of this loss
            for value in p.extremes():
                try:
                    kerasloss.get(loss, **derived.resolve(loss, {**spec.loss_args, p.name: value}))
                except TypeError:
                    _fail(spec.name, f"space.{p.name}", f"{loss} takes no argument {p.name!r}")
                except ValueError as error:
                    _fail(spec.name, f"space.{p.name}", f"{loss}: {error}")


def _check_class_counts(spec, loss, field):
    """A loss built from the class counts (`sweeps.derived`) needs a multi-class task's class ids, and `beta`
    is its `alpha`: not both."""
    searched = {p.name for p in spec.space if not any(parent == "loss" and loss not in v for parent, v in p.when)}
    named = {**spec.loss_args, **dict.fromkeys(searched)}
    if derived.uses_counts(loss, named) and spec.task != "multiclass":
        _fail(spec.name, field, f"{loss} is built from the training part's class counts; it needs a multiclass "
              f"task's class ids, and this sweep's data is a {spec.task} task")  # fmt: skip
    if derived.BETA in named and derived.takes_beta(loss) and "alpha" in named:
        where = "space.beta" if derived.BETA in searched else "loss_args.beta"
        _fail(spec.name, where, f"{loss}: `beta` gives the class-balanced weights as alpha; search or set one of "
              "`beta` and `alpha`, not both")  # fmt: skip


def check_data(spec, data):
    """What the spec asks of its loaded data, before any training: a proxy loss trains one class proxy per
    id (ids spread far beyond the classes present are refused); class-balanced batches cannot draw more
    distinct classes per batch than the training part holds; a loss built from the class counts
    (`sweeps.derived`) needs every class in the training part."""
    proxies = any(kerasloss.loss_class(loss).inputs == "cosines" for loss in spec.losses())
    named = {**spec.loss_args, **dict.fromkeys(p.name for p in spec.space)}  # every argument a trial may pass
    if any(derived.uses_counts(loss, named) for loss in spec.losses()):
        try:
            derived.training_counts(data, "its training part")
        except ValueError as error:
            _fail(spec.name, "dataset", str(error))
    given = spec.loss_args.get(derived.COUNTS)
    if given is not None and spec.task == "multiclass" and len(given) != data.classes:
        _fail(spec.name, "loss_args.class_counts", f"{len(given)} counts, but the data has {data.classes} classes "
              "(one count per class id 0 ... classes - 1)")  # fmt: skip
    if proxies:
        sources.check_dense_ids(data.classes, (data.y_train, data.y_val, data.y_test), f"sweep {spec.name!r}")
    if not spec.class_balanced:
        return
    classes = len(np.unique(data.y_train))
    p = spec.param("classes_per_batch") if spec.classes_per_batch is None else None
    largest = max(p.extremes()) if p is not None else spec.classes_per_batch
    if largest > classes:
        field = "space.classes_per_batch" if p is not None else "classes_per_batch"
        _fail(spec.name, field, f"{largest} classes per batch, but the training data holds {classes} classes")


def load(name, data_given=False, model_given=False):
    """The spec named `name`: a file `sweeps/specs/NAME.toml` of the default suite, or a path to a .toml
    file (its name is the file's stem; relative paths and modules in it are resolved beside it)."""
    if isinstance(name, os.PathLike) or str(name).endswith(".toml") or os.sep in str(name):
        path = pathlib.Path(name).expanduser().resolve()
        if not path.is_file():
            raise SpecError(f"no spec file {str(name)!r}")
    else:
        path = SPEC_DIR / f"{name}.toml"
        if not NAME_PATTERN.fullmatch(str(name)) or not path.exists():
            raise SpecError(
                f"Unknown sweep {str(name)[:100]!r}. Known: {', '.join(available())}; or a path to a .toml file"
            )
    try:
        table = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(f"sweep spec {str(path)!r}: not valid TOML: {error}") from None
    if "name" in table:
        raise SpecError(f"sweep spec {str(path)!r}: `name`: a spec file is named by its file name; remove `name`")
    return parse(
        table, path.stem, base=str(path.parent), source=str(path), data_given=data_given, model_given=model_given
    )


def from_dict(table, data_given=False, model_given=False):
    """A spec from a dict (`sweeps.run`): named by its `name` field, paths relative to the working directory."""
    if not isinstance(table, dict):
        raise SpecError(f"a sweep spec is a name, a path or a dict; got {type(table).__name__}")
    table = dict(table)
    if "name" not in table:
        raise SpecError(
            "a dict spec needs a `name`: it names the sweep's state and TensorBoard folders (e.g. name='churn_focal')"
        )
    name = table.pop("name")
    return parse(table, name, base=os.getcwd(), data_given=data_given, model_given=model_given)


def available():
    """Names of the sweeps in `sweeps/specs/`."""
    return sorted(p.stem for p in SPEC_DIR.glob("*.toml"))
