"""Each of the lesson's experiments on a reduced budget (2 seeds, a share of the epochs): it writes its
TensorBoard runs, figure and table row, and reproduces the outcome the full run reports (the direction
of each effect; the verdict itself, which asks for a difference beyond seed noise, only where two seeds
suffice for it)."""

import os

import pytest

from sweeps import experiments


def _run(tmp_path, name, budget):
    (outcome,) = experiments.run([name], str(tmp_path), repeats=2, budget=budget)
    assert os.path.getsize(tmp_path / outcome.figure) > 10_000
    runs = [d for d, _, files in os.walk(tmp_path / "experiments" / name) if any("tfevents" in f for f in files)]
    assert len(runs) >= 4  # at least two variants x two seeds
    table = (tmp_path / "experiments.md").read_text()
    assert f"| `{name}` | {outcome.claim} |" in table
    return outcome


@pytest.mark.slow
def test_mse_vs_bce(tmp_path):
    outcome = _run(tmp_path, "mse_vs_bce", 0.15)
    assert outcome.agrees, outcome.measured
    v = outcome.values
    assert v["epochs_to_mse_target"]["BCE"] < v["epochs_to_mse_target"]["MSE"]
    assert v["constant_predictor"] == {"MSE": pytest.approx(0.25, abs=1e-7), "BCE": pytest.approx(0.693147, abs=1e-6)}
    for loss, settled in v["dead_relu"].items():  # the failure mode, reached by training and recognised
        assert settled["prediction_range"] == (pytest.approx(0.5, abs=1e-3), pytest.approx(0.5, abs=1e-3))
        assert settled["accuracy"] == 0.5 and settled["flagged"] is not None, loss


@pytest.mark.slow
def test_huber_outliers(tmp_path):
    outcome = _run(tmp_path, "huber_outliers", 0.3)
    assert outcome.values["clean_test_mse"]["Huber"] < outcome.values["clean_test_mse"]["MSE"]


@pytest.mark.slow
def test_focal_recall(tmp_path):
    """Weighting the minority up (alpha 0.75) lifts recall over BCE and the paper's alpha 0.25 lowers it.
    The verdict is on the focusing term alone (alpha 0.5), which the full run finds within seed noise of
    BCE: the test checks the ordering that holds, not a verdict that the budget could flip."""
    outcome = _run(tmp_path, "focal_recall", 0.25)
    recall = outcome.values["minority_recall"]
    assert recall["focal a=0.75"] > recall["BCE"] > recall["focal a=0.25"], outcome.measured


@pytest.mark.slow
def test_triplet_mining(tmp_path):
    outcome = _run(tmp_path, "triplet_mining", 0.5)
    assert outcome.values["early_recall"]["semi-hard"] > outcome.values["early_recall"]["random"], outcome.measured


@pytest.mark.slow
def test_gradient_norms(tmp_path):
    outcome = _run(tmp_path, "gradient_norms", 0.2)
    assert outcome.agrees, outcome.measured
    assert min(outcome.values["early_ratio"].values()) > 1.5
    assert (tmp_path / "experiments" / "gradient_norms" / "BCE").is_dir()


@pytest.mark.slow
def test_kl_distillation(tmp_path):
    outcome = _run(tmp_path, "kl_distillation", 0.3)
    assert outcome.agrees, outcome.measured
    assert outcome.values["gradient_gap"] < 1e-6 and outcome.values["weight_gap"] < 1e-5
    assert outcome.values["accuracy"]["distilled"] > outcome.values["accuracy"]["hard"]


@pytest.mark.slow
def test_mae_linear(tmp_path):
    outcome = _run(tmp_path, "mae_linear", 0.3)
    assert outcome.agrees, outcome.measured
    assert abs(outcome.values["bias"]["MAE"]) < abs(outcome.values["bias"]["MSE"])


def test_the_table_keeps_rows_of_experiments_not_rerun(tmp_path):
    first = experiments.common.Outcome("mae_linear", "claim A", "measured A", True, "experiments/mae_linear.png")
    second = experiments.common.Outcome("mse_vs_bce", "claim B", "measured B", False, "experiments/mse_vs_bce.png")
    experiments.common.write_table(str(tmp_path), [first], experiments.ORDER)
    experiments.common.write_table(str(tmp_path), [second], experiments.ORDER)
    rows = [line for line in (tmp_path / "experiments.md").read_text().splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == ["mse_vs_bce", "mae_linear"]  # the experiments' order
    assert rows[0].endswith("| **no** |") and rows[1].endswith("| yes |")


@pytest.mark.slow
def test_metric_batches(tmp_path):
    """Both remedies beat random batches of their size on unseen classes (the full run: 0.27 -> 0.41 for
    P x K, 0.24 -> 0.38 for the memory, recall@1)."""
    outcome = _run(tmp_path, "metric_batches", 0.5)
    final = outcome.values["final_recall_at_1"]
    assert final["P x K 16 x 4"] > final["random 64"] + 0.05, outcome.measured
    assert final["random 16 + memory 1024"] > final["random 16"] + 0.05, outcome.measured


@pytest.mark.slow
def test_long_tail(tmp_path):
    """At ratio 100 the prior-aware methods beat cross-entropy on balanced accuracy and class weights lift the
    rarest classes' recall, and the logit-adjusted loss and balanced softmax (one loss at tau = 1) agree. The
    full run: CE 0.498, either loss 0.613, post-hoc 0.601; at this budget (20 epochs) CE + CB weights is not
    yet ahead on balanced accuracy, only on the rarest classes."""
    outcome = _run(tmp_path, "long_tail", 0.2)
    accuracy, rare = outcome.values[100]["balanced_accuracy"], outcome.values[100]["rare_recall"]
    for method in ("logit_adjusted", "balanced_softmax", "posthoc"):
        assert accuracy[method][0] > accuracy["ce"][0] + 0.03, outcome.measured
    for method in ("logit_adjusted", "balanced_softmax", "posthoc", "ce_cb"):
        assert rare[method][0] > rare["ce"][0] + 0.1, outcome.measured
    assert outcome.values["same_loss_gap"] < 0.02, outcome.measured
    assert outcome.values["class_counts"][100] == [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]


@pytest.mark.slow
def test_multi_label(tmp_path):
    """The labels are as imbalanced as designed (30% down to 1% positives), every loss ranks far above chance and
    below the Bayes rule, and the intervals are ordered. The per-label weighted BCE is ahead of BCE here and in
    the full run (0.511 against 0.501 mAP). At this budget (4 epochs, far from converged) ASL is ahead of BCE
    too, by some 0.1, because it learns sooner; the full run (40 epochs) finds it behind (0.497): the test checks
    the early lead, which is the reduced budget's, and leaves the verdict to the full run."""
    outcome = _run(tmp_path, "multi_label", 0.1)
    v = outcome.values
    assert v["label_frequencies"][0] == pytest.approx(0.30) and v["label_frequencies"][-1] == pytest.approx(0.01)
    for designed, drawn in zip(v["label_frequencies"], v["train_frequencies"], strict=True):
        assert drawn == pytest.approx(designed, rel=0.3, abs=0.004), v["train_frequencies"]
    assert 0.64 < v["bayes_map"] < 0.71 and v["baseline_map"] == pytest.approx(0.09, abs=0.01)
    for metric in ("map", "rare_map", "f1", "best_epoch_map"):
        for method, (mean, sd, low, high) in v[metric].items():
            assert low <= mean <= high and sd >= 0, (metric, method)
    for method, (mean, _, _, _) in v["map"].items():
        assert v["baseline_map"] + 0.08 < mean < v["bayes_map"], (method, outcome.measured)
    assert v["versus_bce"]["map"]["bce_weighted"][2] == "ahead", outcome.measured
    assert v["versus_bce"]["map"]["asl"][0] > 0.05, outcome.measured
