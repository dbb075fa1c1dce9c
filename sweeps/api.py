"""`sweeps.run`: one sweep from Python (a notebook, a script), on the same code path as `python -m sweeps
run`. It prints the same progress lines, raises instead of exiting, and returns a `Result`."""

import dataclasses
import sys

from sweeps import data as sources
from sweeps import spec as specs


@dataclasses.dataclass(frozen=True)
class Trial:
    """One trial: its hyperparameter values, status (COMPLETED, FAILED, ...), the metrics of its last epoch
    (averaged over executions), and, for trials this process ran, what it measured: seconds, build +
    first-epoch compile seconds, resident memory (MiB) after the trial."""

    trial_id: str
    status: str
    values: dict
    metrics: dict
    objective: float = None
    measured: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Result:
    """A finished (or resumed and finished) sweep. `best` is the completed trial with the best objective
    (None when none completed); `trials` every trial in id order; `failed` how many failed."""

    name: str
    objective: str
    direction: str
    trials: tuple
    best: Trial
    logdir: str

    @property
    def failed(self):
        return sum(1 for t in self.trials if t.status == "FAILED")

    def __str__(self):
        if self.best is None:
            return f"sweep {self.name}: no completed trial ({self.failed} failed)"
        values = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.best.values.items())
        return (
            f"sweep {self.name}: {len(self.trials)} trials, {self.failed} failed; best trial {self.best.trial_id} "
            f"({values}): {self.objective} {self.best.objective:.4g} ({self.direction} is better)"
        )


def result_of(searcher, logdir):
    """The `Result` of a finished search, read from its oracle."""
    spec = searcher.spec
    trials = []
    for trial_id, trial in sorted(searcher.oracle.trials.items(), key=lambda item: int(item[0])):
        values = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
        metrics = {m: trial.metrics.get_last_value(m) for m in trial.metrics.metrics}
        trials.append(
            Trial(
                trial_id,
                str(trial.status),
                values,
                metrics,
                metrics.get(spec.objective),
                searcher.measured.get(trial_id, {}),
            )
        )
    done = [t for t in trials if t.status == "COMPLETED" and t.objective is not None]
    sign = 1 if spec.direction == "max" else -1
    best = max(done, key=lambda t: sign * t.objective) if done else None
    return Result(spec.name, spec.objective, spec.direction, tuple(trials), best, logdir)


def resolve(spec, data=None, model=None):
    """A `Spec` from a name of the default suite, a path to a .toml file, a dict or a `Spec`."""
    if isinstance(spec, specs.Spec):
        if model is not None:
            spec = dataclasses.replace(spec, model=specs.given_model(spec.model))
        return spec
    if isinstance(spec, dict):
        return specs.from_dict(spec, data_given=data is not None, model_given=model is not None)
    return specs.load(spec, data_given=data is not None, model_given=model is not None)


def run(
    spec, *, data=None, model=None, trials=None, tuner=None, logdir="logs", state=".sweeps", workers=0,
    overwrite=False, stream=sys.stdout, bind=None, heartbeat_timeout=30.0,
):  # fmt: skip
    """Run (or resume) one sweep and return its `Result`.

    Args:
        spec: a sweep of the default suite by name ("focal_imbalance"), a path to a .toml spec, or a dict
            with the same fields (and `name`).
        data: your data instead of the spec's `dataset`: `(x, y)` (a seeded, stratified `test_fraction` is
            held out) or `((x_train, y_train), (x_test, y_test))`; the spec must declare `task`.
        model: a function `model(input_shape=(...), outputs=n)` returning an uncompiled Keras model, instead
            of the spec's `model`. With `workers`, it must be importable (a module's top-level function).
        trials, tuner: override the spec's trial budget and keras-tuner oracle.
        logdir, state: TensorBoard output and the resumable search state.
        workers: keras-tuner's distributed mode with this many local worker processes (0: this process).
        overwrite: forget this sweep's earlier state and TensorBoard runs and start over.

    Raises `sweeps.spec.SpecError`, `sweeps.data.DataError` or `sweeps.state.StateError` before any training
    when the spec, the data or the state is not right.
    """
    from sweeps import tuning

    spec = resolve(spec, data, model)
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise specs.SpecError(f"trials must be an integer >= 1, got {trials!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise specs.SpecError(f"workers must be an integer >= 0, got {workers!r}")
    checked = sources.from_arrays(data, spec.data_source) if data is not None else None
    searcher = tuning.run(
        spec, logdir, state, trials=trials, tuner=tuner, stream=stream, workers=workers, bind=bind,
        timeout=heartbeat_timeout, data=checked, model_function=model, overwrite=overwrite,
    )  # fmt: skip
    if workers or bind is not None:
        searcher.oracle.reload()  # the workers' results, as the chief saved them
    result = result_of(searcher, logdir)
    print(result, file=stream, flush=True)
    return result
