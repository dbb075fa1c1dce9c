"""The default suite's `long_tail` sweep: the long-tail losses get the training part's class counts, `beta` the
class-balanced weights, and on the long-tailed mixture (ratio 100, balanced validation) the logit-adjusted loss
is chosen over cross-entropy by macro recall, as experiment 9 measured it."""

import dataclasses
import io

import numpy as np
import pytest

import sweeps
from sweeps import datasets
from sweeps import spec as specs

SWEEP = "long_tail"
KEPT = {"loss": ("SparseCategoricalCrossentropy", "LogitAdjusted", "SparseCategoricalFocalLoss"), "tau": (1.0,),
        "gamma": (0.0,), "beta": (0.9999,)}  # fmt: skip


def test_the_sweep_searches_every_long_tail_loss_on_balanced_validation():
    spec = specs.load(SWEEP)
    assert set(spec.losses()) == {"SparseCategoricalCrossentropy", "LogitAdjusted", "BalancedSoftmax",
                                  "SparseCategoricalFocalLoss", "LDAM", "SparsePolyLoss"}  # fmt: skip
    assert {p.name for p in spec.space} >= {"tau", "beta", "max_margin", "epsilon"}
    assert spec.objective == "macro_recall" and spec.direction == "max" and spec.executions >= 3
    assert spec.dataset == "long_tail_100"


@pytest.mark.slow
def test_a_reduced_run_prefers_the_logit_adjusted_loss_to_cross_entropy(tmp_path):
    spec = specs.load(SWEEP)
    space = tuple(
        dataclasses.replace(p, choice=KEPT[p.name]) for p in spec.space if p.name in KEPT
    )  # CE, the logit-adjusted loss at tau 1, class-balanced cross-entropy: three trials
    spec = dataclasses.replace(spec, space=space, executions=2)
    out = io.StringIO()
    result = sweeps.run(spec, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=out)

    assert [t.status for t in result.trials] == ["COMPLETED"] * 3, out.getvalue()
    recall = {t.values["loss"]: t.metrics["val_macro_recall"] for t in result.trials}
    # The full sweep (3 seeds): CE 0.506, class-balanced CE 0.574, the logit-adjusted loss 0.604 [0.592, 0.617].
    assert recall["LogitAdjusted"] > recall["SparseCategoricalCrossentropy"] + 0.05, recall
    assert recall["SparseCategoricalFocalLoss"] > recall["SparseCategoricalCrossentropy"] + 0.03, recall
    assert result.best.values["loss"] == "LogitAdjusted"
    best = result.best_model()
    data = datasets.load("long_tail_100")
    x, y = data.x_test, data.y_test
    predicted = np.asarray(best.predict(x, verbose=0)).argmax(-1)
    rare = np.mean(predicted[y == 9] == 9)  # the class with 5 training examples is found
    assert rare > 0.2, rare
