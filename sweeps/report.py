"""`python -m sweeps report`: the best configuration of each sweep with its metrics, read from the tuners'
state, as a Markdown table (LOGDIR/report.md) and one PNG per sweep of the objective against each
hyperparameter (LOGDIR/NAME-objective.png)."""

import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sweeps import state


def completed_trials(state_dir, name):
    """[(hyperparameter values, metrics)] of a sweep's completed trials, in trial order."""
    trials = []
    for path in sorted(pathlib.Path(state_dir, name).glob("trial_*/trial.json")):
        trial = json.loads(path.read_text())
        if trial.get("status") != "COMPLETED":
            continue
        values = {k: v for k, v in trial["hyperparameters"]["values"].items() if not k.startswith("tuner/")}
        metrics = {m: d["observations"][-1]["value"][0] for m, d in trial["metrics"]["metrics"].items()}
        trials.append((values, metrics))
    return trials


def best(spec, trials):
    sign = 1 if spec.direction == "max" else -1
    return max(trials, key=lambda t: sign * t[1][spec.objective])


def plot(spec, trials, path):
    """The objective against each hyperparameter (categorical ones as positions with labels)."""
    figure, axes = plt.subplots(1, len(spec.space), figsize=(3.2 * len(spec.space), 3), squeeze=False)
    for axis, param in zip(axes[0], spec.space, strict=True):
        points = [(v[param.name], m[spec.objective]) for v, m in trials if param.name in v]
        if param.choice and isinstance(param.choice[0], str):
            positions = {c: i for i, c in enumerate(param.choice)}
            axis.scatter([positions[x] for x, _ in points], [y for _, y in points])
            axis.set_xticks(range(len(param.choice)), param.choice, rotation=20, fontsize=7)
        else:
            axis.scatter([x for x, _ in points], [y for _, y in points])
            if param.log:
                axis.set_xscale("log")
        axis.set_xlabel(param.name)
        axis.set_ylabel(spec.objective)
    figure.suptitle(f"{spec.name} ({spec.direction} is better)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def write(state_dir, logdir):
    """Build the table and plots for every sweep with completed trials; returns the table."""
    out = pathlib.Path(logdir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["| sweep | trials | best configuration | objective | other metrics |", "|---|---:|---|---:|---|"]
    folders = sorted(p.parent.name for p in pathlib.Path(state_dir).glob(f"*/{state.RECORD}"))
    for name in folders:
        trials = completed_trials(state_dir, name)
        if not trials:
            continue
        spec = state.recorded(state.read(state_dir, name))
        values, metrics = best(spec, trials)
        shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        others = ", ".join(f"{m} {metrics[m]:.3g}" for m in spec.metrics[1:] if m in metrics)
        lines.append(
            f"| {name} | {len(trials)} | {shown} | {spec.objective} ({spec.direction}) {metrics[spec.objective]:.3g} "
            f"| {others} |"
        )
        plot(spec, trials, out / f"{name}-objective.png")
    if len(lines) == 2:
        return f"No completed trials under {state_dir}: run `python -m sweeps run` first."
    table = "\n".join(lines)
    (out / "report.md").write_text("# Sweep report\n\n" + table + "\n")
    return table
