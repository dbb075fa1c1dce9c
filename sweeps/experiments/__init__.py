"""The lesson's experiments, one module each: `NAME`, `CLAIM` and `run(context) -> Outcome`. Each writes
TensorBoard runs under `LOGDIR/experiments/NAME/`, a figure `LOGDIR/experiments/NAME.png`, and its row
of `LOGDIR/experiments.md` (the measured outcome and whether it agrees with the lesson)."""

import importlib
import time

from sweeps.experiments.common import Context, write_table

ORDER = (
    "mse_vs_bce",
    "huber_outliers",
    "focal_recall",
    "triplet_mining",
    "gradient_norms",
    "kl_distillation",
    "mae_linear",
    "metric_batches",
    "long_tail",
    "multi_label",
)


def load(name):
    if name not in ORDER:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(ORDER)}")
    return importlib.import_module(f"sweeps.experiments.{name}")


def run(names, logdir, repeats=5, budget=1.0, stream=None):
    """Run the named experiments (all when empty); returns their outcomes and updates the table."""
    modules = [load(name) for name in (names or ORDER)]
    outcomes = []
    for module in modules:
        started = time.perf_counter()
        context = Context(logdir, module.NAME, repeats=repeats, budget=budget)
        try:
            outcome = module.run(context)
        finally:
            context.close()
        outcomes.append(outcome)
        verdict = "agrees" if outcome.agrees else "DOES NOT agree"
        print(
            f"[{module.NAME}] {verdict} with the lesson ({time.perf_counter() - started:.0f} s): {outcome.measured}",
            file=stream,
            flush=True,
        )
    write_table(logdir, outcomes, ORDER)
    return outcomes
