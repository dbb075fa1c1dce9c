"""`sweeps.run`: one sweep from Python (a notebook, a script), on the same code path as `python -m sweeps
run`. It prints the same progress lines, raises instead of exiting, and returns a `sweeps.results.Result`
(`best`, `compare`, `to_frame`, `best_model`)."""

import dataclasses
import sys

from sweeps import results, sources
from sweeps import spec as specs
from sweeps.results import Result, Trial

__all__ = ["Result", "Trial", "TrialsFailedError", "resolve", "run"]


class TrialsFailedError(RuntimeError):
    """Every trial of a sweep failed; the message gives the first failure's reason."""


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
    spec, *, data=None, model=None, trials=None, executions=None, tuner=None, logdir="logs", state=".sweeps",
    workers=0, overwrite=False, stream=sys.stdout, bind=None, heartbeat_timeout=30.0,
):  # fmt: skip
    """Run (or resume) one sweep and return its `Result`.

    Args:
        spec: a sweep of the default suite by name ("focal_imbalance"), a path to a .toml spec, or a dict
            with the same fields (and `name`).
        data: your data instead of the spec's `dataset`: `(x, y)` (seeded, stratified `test_fraction` and
            `validation_fraction` parts are held out), `((x_train, y_train), (x_test, y_test))` (validation
            split from the training part) or `((x_train, y_train), (x_val, y_val), (x_test, y_test))`; x may
            be a pandas DataFrame. The spec must declare `task`.
        model: a function `model(input_shape=(...), outputs=n)` returning an uncompiled Keras model, instead
            of the spec's `model`. With `workers`, it must be importable (a module's top-level function).
        trials: overrides the spec's trial budget.
        executions: overrides the spec's seeded trainings per trial.
        tuner: overrides the spec's keras-tuner oracle ("random", "bayesian", "hyperband" or "grid").
        logdir: the TensorBoard output folder (one folder per sweep inside it).
        state: the resumable search state's folder.
        workers: keras-tuner's distributed mode with this many local worker processes (0: this process).
        overwrite: forget this sweep's earlier state and TensorBoard runs and start over.
        stream: where the progress lines and the summary are written. Defaults to `sys.stdout`.
        bind: `"HOST:PORT"` the chief listens on in distributed mode (as `python -m sweeps run --bind`); with
            `workers=0` the chief waits for `python -m sweeps worker` processes from other machines.
        heartbeat_timeout: seconds the chief waits for a silent worker before it re-queues the worker's trial.

    Raises `sweeps.spec.SpecError`, `sweeps.sources.DataError` or `sweeps.state.StateError` before any training
    when the spec, the data, the model function or the state is not right, and `TrialsFailedError` when
    every trial failed.
    """
    from sweeps import tuning

    spec = resolve(spec, data, model)
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise specs.SpecError(f"trials must be an integer >= 1, got {trials!r}")
    if executions is not None:
        if isinstance(executions, bool) or not isinstance(executions, int) or executions < 1:
            raise specs.SpecError(f"executions must be an integer >= 1, got {executions!r}")
        spec = dataclasses.replace(spec, executions=executions, table={**spec.table, "executions": executions})
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise specs.SpecError(f"workers must be an integer >= 0, got {workers!r}")
    checked = sources.from_arrays(data, spec.data_source) if data is not None else None
    searcher = tuning.run(
        spec, logdir, state, trials=trials, tuner=tuner, stream=stream, workers=workers, bind=bind,
        timeout=heartbeat_timeout, data=checked, model_function=model, overwrite=overwrite,
    )  # fmt: skip
    del searcher  # the trials' results are read from the state, as `python -m sweeps results` reads them
    result = results.load(state, spec.name, logdir)
    print(result, file=stream, flush=True)
    if result.trials and all(t.status == "FAILED" for t in result.trials):
        raise TrialsFailedError(f"sweep {spec.name}: every trial failed; the first: {result.trials[0].message}")
    return result
