"""A sweep's results, read from its state folder (`STATE/NAME`): every trial's hyperparameters, status,
metrics on the validation and test parts (means over the executions and their standard deviations), what
each execution measured, and the comparisons that say whether a difference is more than seed noise.
Nothing here imports TensorFlow: `python -m sweeps results` answers at once.

Seed noise. A trial with `executions = N` trains N times, execution e with the seed of (sweep seed, e),
the same in every trial, so two trials pair up by execution. `Result.compare(a, b)` is the mean of the N
paired differences of the validation objective, with a 95% Student-t interval on N - 1 degrees of
freedom (mean ± t(0.975, N - 1) · sd / sqrt(N)); with one execution there is no interval (NaN).
"""

import dataclasses
import json
import math
import os
import pathlib

import numpy as np

from sweeps import state

MEASURED = "measured.json"  # beside keras-tuner's trial.json: what the process that ran the trial measured
CONFIDENCE = 0.95
FORMATS = ("csv", "json", "markdown")


def summarize(executions):
    """Each metric's mean over the executions' {metric: value} dicts and, with two or more, its sample
    standard deviation as `NAME_std`."""
    summary = {}
    for name in executions[0]:
        values = np.array([e[name] for e in executions], np.float64)
        summary[name] = float(values.mean())
        if len(values) > 1:
            summary[f"{name}_std"] = float(values.std(ddof=1))
    return summary


def write_measured(state_dir, name, trial_id, measured):
    """Keep what a trial measured beside keras-tuner's record of it (replaced in one rename)."""
    folder = os.path.join(state_dir, name, f"trial_{trial_id}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, MEASURED)
    with open(path + ".partial", "w") as file:
        json.dump(measured, file, indent=1, default=float)
    os.replace(path + ".partial", path)


def t_interval(differences):
    """(mean, low, high, n) of paired differences: the 95% Student-t interval of their mean; low and high
    are NaN with fewer than two."""
    values = np.asarray(differences, np.float64)
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    from scipy import stats

    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def sign(direction):
    """+1 where larger is better ("max"), -1 where smaller is: `sign * value` is larger for the better."""
    return 1 if direction == "max" else -1


def shown_values(values, separator=", "):
    """Hyperparameter values as `name=value` text, floats to 4 significant figures."""
    return separator.join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


@dataclasses.dataclass(frozen=True)
class Trial:
    """One trial: its hyperparameter values, status (COMPLETED, FAILED, ...), its metrics (`val_NAME` and
    `test_NAME`: means over the executions; `_std` with several), the validation objective, what was
    measured running it (`seconds`, `overhead_seconds`, `epochs`: the epochs each execution trained,
    `executions`: each one's seed, epochs and metrics), for a failed trial why, and with Hyperband the
    epochs it was given (`budget`)."""

    trial_id: str
    status: str
    values: dict
    metrics: dict
    objective: float = None
    measured: dict = dataclasses.field(default_factory=dict)
    message: str = None  # why a failed trial failed (the error's own line)
    budget: int = None  # Hyperband: the epochs the tuner gave this trial (its trials differ in this)

    def executions(self, metric):
        """{execution: value} of one metric, per execution."""
        return {e["execution"]: e["metrics"][metric] for e in self.measured.get("executions", ())}


@dataclasses.dataclass(frozen=True)
class Result:
    """A finished (or resumed and finished) sweep. `objective` is the validation metric trials are chosen
    by (`val_pr_auc`), `best` the completed trial with the best mean of it (None when none completed),
    `trials` every trial in id order."""

    name: str
    objective: str
    direction: str
    trials: tuple
    best: Trial
    logdir: str = None
    state_dir: str = None

    @property
    def failed(self):
        return sum(1 for t in self.trials if t.status == "FAILED")

    @property
    def test_objective(self):
        return "test_" + self.objective.removeprefix("val_")

    def trial(self, trial_id):
        """The trial with this id ("3" and "03" alike)."""
        for t in self.trials:
            if t.trial_id == str(trial_id) or t.trial_id.lstrip("0") == str(trial_id).lstrip("0"):
                return t
        known = ", ".join(t.trial_id for t in self.trials)
        raise KeyError(f"sweep {self.name}: no trial {trial_id!r}; trials: {known}")

    def compare(self, a, b, metric=None):
        """The validation objective (or `metric`) of trial `a` minus trial `b`, paired by execution (the same
        seeds): `{"difference", "low", "high", "n"}`, low and high the 95% Student-t interval of the mean
        difference (NaN with one execution)."""
        metric = metric or self.objective
        first, second = self.trial(a).executions(metric), self.trial(b).executions(metric)
        shared = sorted(first.keys() & second.keys())
        difference, low, high, n = t_interval([first[e] - second[e] for e in shared])
        return {"difference": difference, "low": low, "high": high, "n": n}

    def interval(self, trial_id, metric=None):
        """(mean, low, high, n): a trial's metric over its executions with its 95% Student-t interval."""
        return t_interval(list(self.trial(trial_id).executions(metric or self.objective).values()))

    def within_noise(self):
        """The completed trials (other than the best, and with Hyperband of its epoch budget) whose paired
        interval against the best contains 0: [(trial, comparison)]. Empty with one execution: one seed
        cannot tell."""
        if self.best is None:
            return []
        tied = []
        for t in self.trials:
            if t.status != "COMPLETED" or t is self.best or t.budget != self.best.budget:
                continue  # Hyperband: a trial trained for fewer epochs is not a seed of the same setting
            compared = self.compare(t.trial_id, self.best.trial_id)
            if compared["n"] >= 2 and compared["low"] <= 0 <= compared["high"]:
                tied.append((t, compared))
        return tied

    def best_model(self):
        """The best trial's trained predictor (logits, estimates or embeddings), loaded from the state."""
        from sweeps import best

        return best.load(self.state_dir, self.name)

    def rows(self):
        """One dict per trial: id, status, every hyperparameter, every metric and its `_std`, epochs
        trained (mean over executions), seconds, and why a failed trial failed."""
        names = list(dict.fromkeys(k for t in self.trials for k in t.values))
        metric_names = list(dict.fromkeys(k for t in self.trials for k in t.metrics))
        rows = []
        for t in self.trials:
            epochs = t.measured.get("epochs") or []
            row = {"trial_id": t.trial_id, "status": t.status}
            row.update({k: t.values.get(k) for k in names})
            if any(u.budget is not None for u in self.trials):
                row["budget"] = t.budget
            row.update({k: t.metrics.get(k, math.nan) for k in metric_names})
            row["epochs"] = float(np.mean(epochs)) if epochs else math.nan
            row["seconds"] = t.measured.get("seconds", math.nan)
            row["message"] = t.message or ""
            rows.append(row)
        return rows

    def to_frame(self):
        """The results table as a pandas DataFrame, one row per trial (`rows`)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def table(self, form="markdown"):
        """The results table as CSV, JSON (a list of rows) or Markdown text."""
        if form not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {form!r}")
        frame = self.to_frame()
        if form == "csv":
            return frame.to_csv(index=False)
        if form == "json":
            return json.dumps(json.loads(frame.to_json(orient="records")), indent=1)
        header = "| " + " | ".join(frame.columns) + " |"
        lines = [header, "|" + "---|" * len(frame.columns)]
        for row in frame.itertuples(index=False):
            lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
        return "\n".join(lines)

    def summary(self):
        """The end-of-sweep lines: the best trial with its interval, and the trials within seed noise of it."""
        if self.best is None:
            return f"sweep {self.name}: no completed trial ({self.failed} failed)"
        b = self.best
        _, low, high, n = self.interval(b.trial_id)
        test = b.metrics.get(self.test_objective)
        noise = f"95% interval {low:.4g} to {high:.4g} over {n} seeds" if n >= 2 else "1 seed, no interval"
        budget = f", {b.budget} epochs" if b.budget is not None else ""
        lines = [
            f"sweep {self.name}: {len(self.trials)} trials, {self.failed} failed; best trial {b.trial_id} "
            f"({shown_values(b.values)}{budget}): {self.objective} {b.objective:.4g} "
            f"({noise}; {self.direction} is better)" + (f"; test {test:.4g}" if test is not None else "")
        ]
        if n < 2:
            lines.append("  one execution per trial: raise `executions` to tell the trials apart from seed noise")
        tied = self.within_noise()
        if tied:
            lines.append(f"  within seed noise of the best (paired 95% interval of {self.objective} contains 0):")
            for t, c in tied:
                lines.append(
                    f"    trial {t.trial_id} ({shown_values(t.values)}): {c['difference']:+.3g} "
                    f"[{c['low']:+.3g}, {c['high']:+.3g}]"
                )
        elif n >= 2:
            lines.append("  no other trial is within seed noise of the best")
        for t in self.trials:
            if t.status == "FAILED":
                lines.append(f"  trial {t.trial_id} FAILED ({shown_values(t.values)}): {t.message}")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "/").replace("\n", " ")


def failure_reason(message):
    """The last line of a failed trial's traceback: the error itself."""
    lines = [line for line in (message or "").strip().splitlines() if line.strip()]
    if not lines:
        return "no reason recorded"
    last = lines[-1]
    return last.split(": ", 1)[1] if last.startswith(("keras_tuner", "FailedTrialError")) and ": " in last else last


def _trial(folder, objective):
    record = json.loads((folder / "trial.json").read_text())
    given = record["hyperparameters"]["values"]
    values = {k: v for k, v in given.items() if not k.startswith("tuner/")}
    values_metrics = {}
    for metric, tracked in record.get("metrics", {}).get("metrics", {}).items():
        observations = tracked.get("observations") or []
        if observations:
            values_metrics[metric] = observations[-1]["value"][0]
    measured = {}
    if (folder / MEASURED).is_file():
        measured = json.loads((folder / MEASURED).read_text())
    objective_value = values_metrics.get(objective)
    status = record.get("status", "UNKNOWN")
    message = failure_reason(record.get("message")) if status != "COMPLETED" else None
    budget = given.get("tuner/epochs")
    return Trial(record["trial_id"], status, values, values_metrics, objective_value, measured, message, budget)


def load(state_dir, name, logdir=None):
    """The `Result` of the sweep `name` from its state in `state_dir`."""
    record = state.read(state_dir, name)
    if record is None:
        raise state.StateError(f"sweep '{name}': no state in {os.path.join(state_dir, name)}; run it first")
    if "objective" not in record:
        raise state.StateError(
            f"sweep '{name}': its state in {os.path.join(state_dir, name)} was made before trials were chosen on "
            "validation and has no val_/test_ metrics; run it again with --overwrite"
        )
    objective, direction = record["objective"], record["direction"]
    folders = sorted(pathlib.Path(state_dir, name).glob("trial_*/trial.json"), key=lambda p: int(p.parent.name[6:]))
    trials = tuple(_trial(p.parent, objective) for p in folders)
    done = [t for t in trials if t.status == "COMPLETED" and t.objective is not None and math.isfinite(t.objective)]
    chosen = max(done, key=lambda t: sign(direction) * t.objective) if done else None  # of equals, the first
    return Result(name, objective, direction, trials, chosen, logdir, state_dir)
