"""`python -m sweeps report`: the best configuration of each sweep with its validation objective (and its
interval over seeds), the same metric on test, and the trials within seed noise of it, read from the
tuners' state, as a Markdown table (LOGDIR/report.md) and one PNG per sweep of the objective against each
hyperparameter (LOGDIR/NAME-objective.png)."""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sweeps import results, state


def plot(spec, result, path):
    """The validation objective against each hyperparameter (categorical ones as positions with labels),
    each execution a point."""
    figure, axes = plt.subplots(1, len(spec.space), figsize=(3.2 * len(spec.space), 3), squeeze=False)
    done = [t for t in result.trials if t.status == "COMPLETED"]
    for axis, param in zip(axes[0], spec.space, strict=True):
        points = [(t.values[param.name], v) for t in done if param.name in t.values
                  for v in t.executions(result.objective).values()]  # fmt: skip
        if param.choice and isinstance(param.choice[0], str):
            positions = {c: i for i, c in enumerate(param.choice)}
            axis.scatter([positions[x] for x, _ in points], [y for _, y in points], alpha=0.6)
            axis.set_xticks(range(len(param.choice)), param.choice, rotation=20, fontsize=7)
        else:
            axis.scatter([x for x, _ in points], [y for _, y in points], alpha=0.6)
            if param.log:
                axis.set_xscale("log")
        axis.set_xlabel(param.name)
        axis.set_ylabel(result.objective)
    figure.suptitle(f"{spec.name} ({spec.direction} is better; one point per seed)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def row(result):
    """One line of the report: the best trial, its validation objective with the interval over its seeds,
    the test value beside it, and how many trials are within seed noise of it."""
    best = result.best
    _, low, high, n = result.interval(best.trial_id)
    interval = f" [{low:.3g}, {high:.3g}]" if n >= 2 else ""
    tied = ", ".join(t.trial_id for t, _ in result.within_noise()) or ("none" if n >= 2 else "one seed: unknown")
    test = best.metrics.get(result.test_objective, float("nan"))
    return (
        f"| {result.name} | {len(result.trials)} x {n} | {results.shown_values(best.values)} | {result.objective} "
        f"{best.objective:.3g}{interval} | {test:.3g} | {tied} |"
    )


def write(state_dir, logdir):
    """Build the table and plots for every sweep with completed trials; returns the table."""
    out = pathlib.Path(logdir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "| sweep | trials x seeds | best on validation | objective [95% interval] | on test | within seed noise |",
        "|---|---|---|---|---:|---|",
    ]
    folders = sorted(p.parent.name for p in pathlib.Path(state_dir).glob(f"*/{state.RECORD}"))
    for name in folders:
        try:
            result = results.load(state_dir, name)
        except state.StateError as error:  # a state of an older version: said, and the others reported
            lines.append(f"| {name} | | {error} | | | |")
            continue
        if result.best is None:
            continue
        lines.append(row(result))
        plot(state.recorded(state.read(state_dir, name)), result, out / f"{name}-objective.png")
    if len(lines) == 2:
        return f"No completed trials under {state_dir}: run `python -m sweeps run` first."
    table = "\n".join(lines)
    (out / "report.md").write_text("# Sweep report\n\n" + table + "\n")
    return table
