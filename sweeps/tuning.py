"""keras-tuner runs the search; this module adds what it lacks: the search space declared from the spec
(with conditions), a seed per (trial, execution), TensorBoard sessions that are never half-written or
duplicated on resume, and progress lines with an estimate of the time left. With `workers` (or `bind`)
the search runs in keras-tuner's distributed mode, made to survive dead workers by `sweeps.cluster`.

State (the oracle's trials) lives in `state_dir/NAME`; re-running a sweep with the same state continues
it: keras-tuner's oracle reloads its finished trials and sends the ones that were running to be run
again, once. The state records the spec it belongs to (`sweeps.state`): a changed spec is refused; a
distributed one also records the fingerprint of the data and model as a worker loads them, and a worker
that loads other ones refuses to train. TensorBoard output goes to `logdir/NAME` (locked by the run, like
the state), with the log folder's one HParams config in `logdir/_config`.
"""

import dataclasses
import hashlib
import os
import resource
import shutil
import sys
import time

import keras
import keras_tuner
import numpy as np

from sweeps import best, cluster, hypermodel, metrics, pictures, results, sources, state, tuner_internals
from sweeps import spec as specs
from sweeps import tensorboard as board

tuner_internals.declare_metric_directions(metrics.direction)


class GridOracle(keras_tuner.oracles.GridSearchOracle):
    """keras-tuner 1.4's grid oracle derives each new combination from a finished trial's (the "next"
    of it, kept in in-memory queues), which breaks twice: a reloaded grid search fails with a KeyError
    on its first new trial (the queues are not saved), and in distributed mode it cannot keep more
    workers busy than its queue of finished trials allows (one worker stalled once, and the search runs
    one trial at a time from then on). This one walks the grid in the same order from the start each
    time and hands out the first combination not yet tried or running: saved state only, and as many
    trials at once as there are workers."""

    def populate_space(self, trial_id):
        values = {hp.name: hp.default for hp in self.get_space().space}
        hps = self.get_space()
        hps.values = values
        hps.ensure_active_values()
        values = hps.values
        while values is not None:
            if self._compute_values_hash(values) not in self._tried_so_far:
                return {"status": "RUNNING", "values": values}
            values = self._get_next_combination(values)
        status = "IDLE" if self.ongoing_trials else "STOPPED"
        return {"status": status, "values": None}


ORACLES = {
    "random": keras_tuner.oracles.RandomSearchOracle,
    "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
    "hyperband": keras_tuner.oracles.HyperbandOracle,
    "grid": GridOracle,
}


def execution_seed(sweep_seed, execution):
    """A 31-bit seed from (sweep seed, execution): the executions of a trial differ, and execution e of every
    trial shares its seed (initial weights where the models match, batch order), so two trials' results
    pair up by execution: their difference is measured on the same seeds (`Result.compare`)."""
    digest = hashlib.sha256(f"{sweep_seed}/execution/{execution}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def search_space(spec):
    """keras-tuner HyperParameters for the spec: choices, (log-)ranges, conditional scopes."""
    hps = keras_tuner.HyperParameters()
    for p in spec.space:
        scopes = [hps.conditional_scope(parent, list(values)) for parent, values in p.when]
        for scope in scopes:
            scope.__enter__()
        if p.choice:
            hps.Choice(p.name, list(p.choice), ordered=False if isinstance(p.choice[0], str) else None)
        elif p.kind == "int":
            hps.Int(p.name, p.low, p.high, sampling="log" if p.log else "linear")
        else:
            hps.Float(p.name, p.low, p.high, sampling="log" if p.log else "linear")
        for scope in reversed(scopes):
            scope.__exit__(None, None, None)
    return hps


def planned_trials(spec, trials):
    """How many trials the search will run: the budget, or fewer when a space of choices has fewer points
    (every oracle stops once it has tried them all)."""
    if spec.tuner == "hyperband" or not all(p.choice for p in spec.space):
        return trials  # a range never runs out of values
    count = 1
    for p in spec.space:
        if not p.when and p.choice:
            count *= len(p.choice)
    conditional = [p for p in spec.space if p.when]
    if conditional:  # a conditional choice multiplies only the branch it belongs to
        branches = {}
        for p in conditional:
            for parent, values in p.when:
                for value in values:
                    branches.setdefault((parent, value), 1)
                    branches[(parent, value)] *= len(p.choice) if p.choice else 1
        parents = {parent for parent, _ in branches}
        for parent in parents:
            choices = spec.param(parent).choice
            count = count // len(choices) * sum(branches.get((parent, v), 1) for v in choices)
    return min(trials, count)


def make_oracle(spec, tuner, trials):
    """keras-tuner's oracle for the spec, optimizing the validation objective. A failed trial (a diverged
    model) does not stop the search: the sweep ends with an error only when every trial failed."""
    objective = keras_tuner.Objective(spec.tuner_objective, direction=spec.direction)
    common = {
        "objective": objective,
        "hyperparameters": search_space(spec),
        "seed": spec.seed,
        "max_consecutive_failed_trials": 10**9,
    }
    if tuner == "hyperband":
        return keras_tuner.oracles.HyperbandOracle(max_epochs=spec.epochs, factor=3, hyperband_iterations=1, **common)
    return ORACLES[tuner](max_trials=trials, **common)


def counted(spec, measured):
    """The HParams dashboard's leading metrics: the validation objective and the same metric on test."""
    return {"objective": measured[spec.tuner_objective], "test_objective": measured[f"test_{spec.objective}"]}


class EpochScorer(keras.callbacks.Callback):
    """After every epoch: the training loss and the validation and test metrics into the execution's
    session, a non-finite loss or output ended as a diverged trial, and, with `patience`, the best epoch
    on the validation objective kept (its weights restored at the end) and training stopped once the
    objective has not improved for `patience` epochs."""

    def __init__(self, spec, session, built, patience=None):
        super().__init__()
        self.spec, self.session, self.built, self.patience = spec, session, built, patience
        self.sign = results.sign(spec.direction)
        self.scored = None  # the metrics of the epoch that counts: the best one with patience, else the last
        self.best_epoch = self.epochs = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            raise metrics.DivergedError(f"the model diverged: the training loss is {loss} at epoch {epoch + 1}")
        measured = self.built.evaluate()
        self.epochs = epoch + 1
        objective = measured[self.spec.tuner_objective]
        logged = {**counted(self.spec, measured), **measured}
        if loss is not None:
            logged["training_loss"] = loss
        self.session.scalars(self.epochs, logged)
        best = self.scored[self.spec.tuner_objective] if self.scored is not None else None
        if self.patience is None or best is None or self.sign * objective > self.sign * best:
            self.scored, self.best_epoch = measured, self.epochs
            if self.patience is not None:
                self.best_weights = self.built.model.get_weights()
        elif self.epochs - self.best_epoch >= self.patience:
            self.model.stop_training = True

    def restore(self):
        """Put back the best epoch's weights (with patience); returns the metrics that count."""
        if self.best_weights is not None and self.best_epoch != self.epochs:
            self.built.model.set_weights(self.best_weights)
        return self.scored


class Progress:
    """A line per trial with its values and result; with a plan (one process runs the whole search), the
    trial count, elapsed time and an estimate of what is left. A worker prints its trials only: the
    chief counts."""

    def __init__(self, spec, planned, stream=sys.stdout, label=None, counting=True):
        self.spec, self.planned, self.stream, self.counting = spec, planned, stream, counting
        self.label = label or spec.name
        self.started = time.perf_counter()
        self.done = self.resumed = 0  # trials finished, of which before this run

    def trial(self, trial_id, values, measured, seconds, overhead, failed=None):
        self.done += 1
        shown = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        if failed:
            outcome = f"FAILED: {failed}"
        else:
            objective = self.spec.tuner_objective
            noise = f" ± {measured[objective + '_std']:.2g}" if objective + "_std" in measured else ""
            others = ", ".join(
                f"{m} {measured['val_' + m]:.4g}" for m in self.spec.metrics[1:] if "val_" + m in measured
            )
            test = measured[f"test_{self.spec.objective}"]
            outcome = f"{objective} {measured[objective]:.4g}{noise} (test {test:.4g}"
            outcome += f"; {others})" if others else ")"
        took = f"in {seconds:.1f} s ({overhead:.1f} s build+compile)"
        line = f"[{self.label}] trial {trial_id} {shown} -> {outcome} {took}"
        if self.counting:
            elapsed = time.perf_counter() - self.started
            ran = self.done - self.resumed
            left = f"~{elapsed / ran * max(self.planned - self.done, 0):.0f} s left" if self.planned else "? left"
            line = line.replace(f"trial {trial_id} ", f"trial {trial_id} ({self.done} of {self.planned or '?'}) ", 1)
            line += f" | elapsed {elapsed:.0f} s, {left}"
        print(line, file=self.stream, flush=True)


def _forget_ended_retries(oracle):
    """keras-tuner saves oracle.json (the trial still running) before it forgets an ended trial, and on
    reload sends every running trial to be run again: a sweep whose last trial ended was re-running it.
    A trial whose own file says it ended is not run again."""
    ended = (keras_tuner.engine.trial.TrialStatus.COMPLETED, keras_tuner.engine.trial.TrialStatus.FAILED)
    queue = tuner_internals.retry_queue(oracle)
    tuner_internals.set_retry_queue(
        oracle, [t for t in queue if t not in oracle.trials or oracle.trials[t].status not in ended]
    )


class SweepTuner(keras_tuner.Tuner):
    """A keras-tuner Tuner whose trials train the spec's model with its loss, seeded per execution,
    and write one TensorBoard session per execution."""

    def __init__(self, spec, oracle, state_dir, logdir, progress, data, model_function=None, **kwargs):
        super().__init__(oracle=oracle, directory=state_dir, project_name=spec.name, overwrite=False, **kwargs)
        if tuner_internals.holds_oracle(self.oracle):  # a chief (not a worker's client of the oracle)
            _forget_ended_retries(self.oracle)
        self.spec, self.progress, self.data, self.model_function = spec, progress, data, model_function
        self.state_dir = state_dir
        self.measured = {}  # trial id -> what this process measured running it (time, overhead, memory)
        self.sweep_dir = os.path.join(logdir, spec.name)
        self.staging = os.path.join(state_dir, spec.name, "staging", self.tuner_id)
        shutil.rmtree(self.staging, ignore_errors=True)  # leftovers of an interrupted run
        self.heartbeat = cluster.Heartbeat(self.oracle, self.tuner_id) if self._is_worker() else None

    def on_search_begin(self):
        if self.heartbeat:
            self.heartbeat.start()

    def on_search_end(self):
        if self.heartbeat:
            self.heartbeat.stop()

    def on_trial_begin(self, trial):
        if self.heartbeat:
            self.heartbeat.lost.discard(trial.trial_id)  # given back to this worker after it was given up on
            self.heartbeat.trial_id = trial.trial_id

    def on_trial_end(self, trial):
        if trial.status != "COMPLETED" and "FailedTrialError" not in (trial.message or ""):
            print(trial.message, file=sys.stderr, flush=True)  # a crash, not a divergence: its traceback
        try:
            super().on_trial_end(trial)
        except Exception as error:
            if not cluster.refused(error):
                raise
            print(f"[{self.progress.label}] trial {trial.trial_id}: the chief gave it to another worker; "
                  "this result is dropped", file=self.progress.stream, flush=True)  # fmt: skip
        finally:
            if self.heartbeat:
                self.heartbeat.trial_id = ""

    def run_trial(self, trial, *args, **kwargs):
        """`executions` seeded trainings of the trial's configuration. Returns every metric's mean over them
        (`val_NAME`, `test_NAME`) and, with several, its standard deviation (`val_NAME_std`); each execution's
        own values are kept beside the trial (`results.MEASURED`). A diverged execution fails the trial."""
        spec = self.spec
        values = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
        epochs = int(trial.hyperparameters.values.get("tuner/epochs", spec.epochs))
        started = time.perf_counter()
        executions, overhead = [], 0.0
        candidate = os.path.join(self.staging, "candidate.keras")
        try:
            for execution in range(spec.executions):
                record, seconds = self._execute(trial.trial_id, execution, values, epochs, executions, candidate)
                executions.append(record)
                overhead += seconds
        except metrics.DivergedError as error:
            self._record(trial.trial_id, executions, started, overhead, failed=str(error))
            self.progress.trial(trial.trial_id, values, {}, time.perf_counter() - started, overhead, str(error))
            raise keras_tuner.errors.FailedTrialError(str(error)) from None
        summary = results.summarize([e["metrics"] for e in executions])
        self._record(trial.trial_id, executions, started, overhead)
        kept = max(executions, key=lambda e: self._sign * e["metrics"][spec.tuner_objective])
        best.offer(
            self.state_dir, spec, trial.trial_id, kept["execution"], summary[spec.tuner_objective],
            candidate if kept["saved"] else None, kept["metrics"],
        )  # fmt: skip
        self.progress.trial(trial.trial_id, values, summary, time.perf_counter() - started, overhead)
        return summary

    @property
    def _sign(self):
        return results.sign(self.spec.direction)

    def _record(self, trial_id, executions, started, overhead, failed=None):
        """What this process measured running the trial, kept for `Result` (and beside the trial's state)."""
        measured = {
            "seconds": time.perf_counter() - started,
            "overhead_seconds": overhead,
            "rss_mib": _rss_mib(),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "epochs": [e["epochs"] for e in executions],
            "executions": [{k: v for k, v in e.items() if k != "saved"} for e in executions],
        }
        if failed:
            measured["failed"] = failed
        self.measured[trial_id] = measured
        results.write_measured(self.state_dir, self.spec.name, trial_id, measured)

    def _execute(self, trial_id, execution, values, epochs, earlier, candidate):
        """One seeded training: returns (its record, build + compile seconds). The predictor is saved as the
        trial's candidate for the best model when it beats the trial's earlier executions on validation."""
        spec = self.spec
        seed = execution_seed(spec.seed, execution)
        run = board.run_name(trial_id, values, execution)
        hparams = board.session_values(spec, values)
        session = board.Session(self.sweep_dir, self.staging, run, hparams, spec.name, trial_id)
        try:
            start = time.perf_counter()
            built = hypermodel.build(spec, values, seed, self.data, self.model_function)
            scorer = EpochScorer(spec, session, built, spec.patience)
            first = time.perf_counter()
            built.model.fit(built.train, epochs=1, verbose=0, shuffle=False, callbacks=[scorer])
            overhead_and_epoch = time.perf_counter() - first
            second = time.perf_counter()
            if epochs > 1 and not built.model.stop_training:
                built.model.fit(
                    built.train, initial_epoch=1, epochs=epochs, verbose=0, shuffle=False, callbacks=[scorer]
                )
            per_epoch = (time.perf_counter() - second) / max(scorer.epochs - 1, 1)
            overhead = (first - start) + max(overhead_and_epoch - per_epoch, 0.0)  # build + first-epoch compile
            measured = scorer.restore()
            session.scalars(scorer.epochs, {**counted(spec, measured), **measured})  # the best epoch's, with patience
            if built.dataset.task == "binary":
                p = 0.5 * (1 + np.tanh(0.5 * built.predict(built.dataset.x_test)))
                session.pr_curve("test_pr_curve", built.dataset.y_test, p, scorer.epochs)
            picture_seconds = 0.0
            if execution == 0:  # one picture a trial: the executions differ by seed only
                drawing = time.perf_counter()
                image = pictures.picture(built.dataset, built.predict)
                if image is not None:
                    session.image("picture", image, scorer.epochs)
                picture_seconds = time.perf_counter() - drawing  # bench/sweep_scale reports it
            if self.heartbeat and trial_id in self.heartbeat.lost:
                raise RuntimeError(f"trial {trial_id} was given to another worker")  # its sessions are theirs
        except metrics.DivergedError as error:
            session.fail(str(error))
            raise
        except BaseException:
            session.abandon()
            raise
        session.commit()
        saved = False
        objective = measured[spec.tuner_objective]
        if not any(self._sign * e["metrics"][spec.tuner_objective] >= self._sign * objective for e in earlier):
            saved = best.save_candidate(built, candidate)
        record = {"execution": execution, "seed": seed, "epochs": scorer.epochs, "best_epoch": scorer.best_epoch,
                  "metrics": measured, "saved": saved, "picture_seconds": picture_seconds}  # fmt: skip
        return record, overhead


def _rss_mib():
    """This process's resident memory now, in MiB (Linux; the peak elsewhere)."""
    try:
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _configure(spec, trials, tuner):
    if tuner is not None and tuner not in ORACLES:
        raise specs.SpecError(f"unknown tuner {tuner!r}. Known: {', '.join(ORACLES)}")
    tuner = tuner or spec.tuner
    trials = trials or spec.trials
    if tuner != spec.tuner:
        spec = dataclasses.replace(spec, tuner=tuner)
    return spec, trials


def _model_function(spec, given):
    """The model function a fingerprint hashes: the one given, the spec's, or None for the built-in MLP."""
    if given is not None or "function" not in spec.model:
        return given
    try:
        return sources.import_function(spec.model["function"], spec.base)
    except ValueError as error:
        raise specs.SpecError(f"sweep spec {spec.name!r}: `model`: {error}") from None


def _worker_table(table, data, given_data, model_function, model, folder):
    """The spec's table as workers in other processes load it: data given as arrays saved beside the state,
    a model function given as a Python object named by its import path."""
    if given_data and data.encoder is not None:
        raise specs.SpecError(
            "workers load the data from a file: a DataFrame given to sweeps.run is not shared with them; write "
            "it to a CSV (DataFrame.to_csv(path, index=False)) and name that as the spec's `dataset`, or run "
            "with workers=0"
        )
    if given_data:
        path = os.path.join(folder, "data.npz")
        arrays = {"x_train": data.x_train, "y_train": data.y_train, "x_test": data.x_test, "y_test": data.y_test}
        if data.x_val is not None:
            arrays.update(x_val=data.x_val, y_val=data.y_val)
        np.savez(path, **arrays)
        table["dataset"] = os.path.abspath(path)
    if model_function is not None and model.get("function") == specs.GIVEN:
        reference = sources.reference_of(model_function)
        if reference is None:
            raise specs.SpecError(
                "workers run in other processes and must import the model function: define it at the top level "
                "of a module (not in __main__ or a notebook), or run with workers=0"
            )
        table["model"] = {**model, "function": reference}
    return table


def _check_model(spec, data, model_function):
    """Build the trial network once before any trial: a model function with the wrong signature, one that
    returns no Keras model or the wrong output shape, or one whose outputs pass through a sigmoid or
    softmax (the harness trains on logits) is refused here, naming the problem."""
    if "function" not in spec.model:
        return
    keras.backend.clear_session()
    try:
        hypermodel.network(spec, data, model_function)
    except (TypeError, ValueError) as error:
        raise specs.SpecError(f"sweep spec {spec.name!r}: `model`: {error}") from None
    except Exception as error:  # the user's function failed: say so before any trial, with what it raised
        raise specs.SpecError(
            f"sweep spec {spec.name!r}: `model`: the model function raised {type(error).__name__}: {error}"
        ) from error


def prepare(
    spec, logdir, state_dir, trials=None, tuner=None, data=None, model_function=None, overwrite=False,
    distributed=False,
):  # fmt: skip
    """Everything before the first trial: the data loaded and checked, the state checked against the spec
    (or removed, with `overwrite`), the log folder's HParams config updated, then the state recorded (a
    log folder whose list of sweeps cannot be read stops the sweep before that). Returns (spec, trials,
    data, model function)."""
    spec, trials = _configure(spec, trials, tuner)
    given_data = data is not None
    if not given_data:
        data = sources.load(spec.data_source)
    specs.check_data(spec, data)
    model_function = _model_function(spec, model_function)
    _check_model(spec, data, model_function)
    parts = state.fingerprint(spec, sources.fingerprint(data), model_function)
    if overwrite:
        state.remove(spec.name, state_dir, logdir)
    state.check(spec, parts, state_dir)
    state.check_files(state_dir, spec.name)
    folder = os.path.join(state_dir, spec.name)
    os.makedirs(folder, exist_ok=True)
    table = {**spec.table, "tuner": spec.tuner}
    extra = None
    if distributed:
        table = _worker_table(table, data, given_data, model_function, spec.model, folder)
        record = {"name": spec.name, "source": spec.source, "base": spec.base, "table": table}
        extra = {WORKER_FINGERPRINT: worker_view(record)[3]}  # loaded here as a worker loads them
    os.makedirs(os.path.join(logdir, spec.name), exist_ok=True)
    board.write_config(spec, logdir, folder)
    state.write(dataclasses.replace(spec, table=table), parts, state_dir, trials, extra)
    return spec, trials, data, model_function


def run(
    spec, logdir, state_dir, trials=None, tuner=None, stream=sys.stdout, workers=0, bind=None, timeout=30.0,
    data=None, model_function=None, overwrite=False,
):  # fmt: skip
    """Run (or resume) one sweep; returns the tuner. `data`: a checked `datasets.Dataset` instead of the
    spec's; `model_function`: instead of the spec's model. With `workers` or `bind`, this process is the
    chief of a distributed search on `bind` (default 127.0.0.1, a free port) and starts `workers` local
    worker processes; others may join with `work`. A worker silent for `timeout` seconds is given up.
    One run per sweep state at a time: a second one stops at once, naming the holder (`state.locked`)."""
    _configure(spec, trials, tuner)  # an unknown tuner is refused before the state folder is touched
    board.check_name(spec.name)
    board.check_writable(logdir, spec.name)
    with state.locked(state_dir, spec.name), board.locked(logdir, spec.name):
        return _run(
            spec, logdir, state_dir, trials, tuner, stream, workers, bind, timeout, data, model_function, overwrite
        )


def _run(spec, logdir, state_dir, trials, tuner, stream, workers, bind, timeout, data, model_function, overwrite):
    spec, trials, data, model_function = prepare(
        spec, logdir, state_dir, trials, tuner, data, model_function, overwrite, bool(workers or bind is not None)
    )
    planned = planned_trials(spec, trials) if spec.tuner != "hyperband" else None  # hyperband decides as it goes
    progress = Progress(spec, planned, stream)
    oracle = make_oracle(spec, spec.tuner, trials)
    searcher = SweepTuner(spec, oracle, state_dir, logdir, progress, data, model_function)
    if planned is not None and planned < trials:
        print(f"[{spec.name}] the space has {planned} combinations: {planned} trial(s), not {trials}", file=stream)
    finished = sum(1 for t in searcher.oracle.trials.values() if t.status == "COMPLETED")
    progress.done = progress.resumed = finished
    if finished:
        print(f"[{spec.name}] resuming: {finished} trial(s) already finished", file=stream, flush=True)
    if not workers and bind is None:
        searcher.search(verbose=0)
        return searcher

    searcher.oracle.verbose = 0
    searcher.save()
    chief = cluster.Chief(searcher.oracle, spec.name, [spec.tuner_objective], planned, timeout, stream)
    bind = bind or "127.0.0.1:0"
    host = bind.rpartition(":")[0]
    connect = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host

    def command(tuner_id, port):
        return [
            sys.executable, "-m", "sweeps", "worker", spec.name, "--oracle", f"{connect}:{port}", "--id", tuner_id,
            "--logdir", logdir, "--state", state_dir,
        ]  # fmt: skip

    def start_workers(port):
        return cluster.LocalWorkers(chief, lambda tuner_id: command(tuner_id, port), workers)

    cluster.run_chief(chief, bind, start_workers if workers else None)
    return searcher


WORKER_FINGERPRINT = "worker_fingerprint"  # in a distributed sweep's record: what every worker must run


def worker_view(record):
    """What a worker runs from a state record: (the recorded spec, its data and model function loaded as a
    worker loads them, their fingerprint). The chief records that fingerprint; a worker that computes
    another one refuses to train (`check_worker`)."""
    spec = state.recorded(record)
    data = sources.load(spec.data_source)
    function = _model_function(spec, None)
    return spec, data, function, state.fingerprint(spec, sources.fingerprint(data), function)


def _changed(key, before, now, spec):
    if key == "data":
        return f"data (the arrays of {spec.data_source.dataset} are not those the chief recorded)"
    if key == "model":
        return f"model ({spec.model.get('function', 'the built-in model')}: another source or settings)"
    return f"{key} ({before} -> {now})"


class WorkerRefusedError(state.StateError):
    """A worker's data or model differ from what the chief recorded: it trains nothing (exit status 3)."""


def check_worker(name, state_dir, tuner_id):
    """The recorded spec, its data and model function, as this worker sees them, and the trial budget;
    refused, naming what changed, when they differ from what the chief recorded (a data file or a model
    module overwritten after the chief started, or different on this machine)."""
    folder = os.path.join(state_dir, name)
    record = state.read(state_dir, name)
    if record is None:
        raise state.StateError(
            f"sweep '{name}': no recorded spec in {folder}; start the chief first "
            "(`python -m sweeps run ... --bind HOST:PORT`), with the same --state"
        )
    spec, data, function, parts = worker_view(record)
    expected = record.get(WORKER_FINGERPRINT, record.get("fingerprint", {}))
    keys = [k for k in {**expected, **parts} if expected.get(k) != parts.get(k)]
    changed = [_changed(k, expected.get(k), parts.get(k), spec) for k in keys]
    if changed:
        raise WorkerRefusedError(
            f"worker {tuner_id} refuses sweep '{name}': what it would train differs from what the chief "
            f"recorded in {folder}: {'; '.join(changed)}. Every worker must see the chief's data files and "
            "model modules, unchanged while the sweep runs: put them back, or start the sweep over (--overwrite)"
        )
    return spec, data, function, record["trials"]


def work(name, logdir, state_dir, oracle, tuner_id, stream=sys.stdout, connect_timeout=60.0):
    """Be one worker of a distributed sweep: ask the chief at `oracle` ("host:port") for trials until it
    says the search is over. The worker runs the spec the chief recorded in `state_dir`, so it must see the
    chief's `state_dir` and `logdir` (the same folders, or a shared file system), and the data files and
    modules the spec names at the same paths."""
    if "chief" in tuner_id:
        raise ValueError(f"a worker id must not contain 'chief' (keras-tuner reserves it); got {tuner_id!r}")
    specs.check_name(tuner_id, "worker id")
    specs.check_name(name)
    board.check_name(name)
    cluster.wait_for_chief(oracle, connect_timeout)
    spec, data, model_function, trials = check_worker(name, state_dir, tuner_id)
    host, _, port = oracle.rpartition(":")
    os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=port)
    progress = Progress(spec, None, stream, label=f"{spec.name} {tuner_id}", counting=False)
    client = make_oracle(spec, spec.tuner, trials)  # keras-tuner makes it a client of the chief
    searcher = SweepTuner(spec, client, state_dir, logdir, progress, data, model_function)  # the checked function
    searcher.search(verbose=0)
    return searcher
