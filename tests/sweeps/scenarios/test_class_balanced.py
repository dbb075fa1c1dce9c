"""Class-balanced batches (`batches = "class-balanced"`) and the default suite's `class_balanced_digits`:
the spec parses with MAP@R as its objective, every batch a loss trains on holds P classes x K examples,
each of the three losses trains and is measured on them, a tiny sweep runs to the end, and invalid specs
fail before any training, naming the field."""

import dataclasses
import importlib.util
import io
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import kerasloss
import sweeps
from sweeps import hypermodel, sources, state, tuning
from sweeps import spec as specs
from tests.sweeps.support import ROOT

SWEEP = "class_balanced_digits"
LOSSES = {
    "TripletLoss": ("margin", 0.5),
    "MultiSimilarity": ("base", 0.5),
    "SupervisedContrastive": ("temperature", 0.1),
}


def _values(loss):
    name, value = LOSSES[loss]
    return {"loss": loss, name: value}


def _data(spec):
    return sources.load(spec.data_source)


def _balanced(**changes):
    table = {
        "dataset": "digits",
        "loss": "TripletLoss",
        "batches": "class-balanced",
        "classes_per_batch": 4,
        "examples_per_class": 4,
        "space": {"margin": {"choice": [0.2, 0.5]}},
        "objective": {"name": "map_at_r"},
    }
    table.update(changes)
    return {k: v for k, v in table.items() if v is not None}


def test_the_sweep_compares_three_losses_on_class_balanced_batches_by_map_at_r():
    spec = specs.load(SWEEP)
    assert (spec.objective, spec.direction) == ("map_at_r", "max")
    assert "recall_at_1" in spec.metrics
    assert spec.batches == "class-balanced" and spec.class_balanced
    assert (spec.classes_per_batch, spec.examples_per_class) == (8, 16)
    assert set(spec.losses()) == set(LOSSES)
    for loss, (argument, _) in LOSSES.items():  # each loss's own hyperparameter, searched for it alone
        assert spec.param(argument).when == (("loss", (loss,)),) and len(spec.param(argument).choice) >= 2
    assert tuning.planned_trials(spec, spec.trials) == spec.trials  # the whole grid, no trial left out
    objective = tuning.make_oracle(spec, spec.tuner, spec.trials).objective
    assert (objective.name, objective.direction) == ("val_map_at_r", "max")


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_each_loss_trains_on_p_classes_times_k_examples_and_is_measured_on_the_test_set(loss):
    spec = specs.load(SWEEP)
    data = _data(spec)
    built = hypermodel.build(spec, _values(loss), 7, data)
    assert isinstance(built.train, kerasloss.ClassBalancedBatches) and isinstance(built.train, keras.utils.PyDataset)
    assert built.model.output_shape == (None, 16)  # one view per example, SupCon included: no two-view model
    assert type(built.model.loss).__name__ == loss

    seen, trained = [], built.model.loss  # the batches as the loss receives them inside fit

    def recording(y_true, y_pred):
        seen.append(np.asarray(y_true).reshape(-1))
        return trained(y_true, y_pred)

    built.model.compile(optimizer=keras.optimizers.Adam(0.003), loss=recording, run_eagerly=True)
    history = built.model.fit(built.train, epochs=2, verbose=0, shuffle=False)
    n = len(built.train)
    assert len(seen) == 2 * n and n == len(data.x_train) // 128  # about one pass over the data per epoch
    counts = [np.unique(labels, return_counts=True)[1] for labels in seen]
    assert all(len(c) == 8 and set(c.tolist()) == {16} for c in counts)
    epochs = [np.concatenate(seen[:n]), np.concatenate(seen[n:])]
    assert not np.array_equal(*epochs)  # fit ends each epoch on the PyDataset: the next one draws new batches
    assert np.all(np.isfinite(history.history["loss"]))
    metrics = built.evaluate()
    assert {f"val_{m}" for m in spec.metrics} | {f"test_{m}" for m in spec.metrics} == set(metrics)
    assert 0.0 < metrics["test_map_at_r"] <= metrics["test_recall_at_1"] <= 1.0


# A trial's training and test metrics on another backend: the PyDataset feeds fit, keras.ops reads the embeddings.
ON_A_BACKEND = """
import keras, numpy as np
from sweeps import sources, hypermodel, spec as specs
spec = specs.load("class_balanced_digits")
for loss, values in {losses!r}.items():
    built = hypermodel.build(spec, {{"loss": loss, **dict([values])}}, 1, sources.load(spec.data_source))
    history = built.model.fit(built.train, epochs=1, verbose=0, shuffle=False)
    metrics = built.evaluate()
    assert np.isfinite(history.history["loss"][0]), (loss, history.history)
    assert 0 < metrics["val_map_at_r"] <= 1, (loss, metrics)
    print(keras.backend.backend(), loss, type(built.train).__name__, round(metrics["val_map_at_r"], 3))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_a_trial_trains_and_is_measured_on_the_other_backends(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (make test-backends installs it)")
    env = {**os.environ, "KERAS_BACKEND": backend}
    code = ON_A_BACKEND.format(losses=LOSSES)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [line.split()[:3] for line in done.stdout.splitlines()] == [
        [backend, loss, "ClassBalancedBatches"] for loss in LOSSES
    ]


def test_batches_follow_the_execution_seed():
    spec = specs.load(SWEEP)
    first, again, other = (hypermodel.class_balanced(spec, {}, _data(spec), seed) for seed in (3, 3, 4))
    assert np.array_equal(first.indices(0), again.indices(0))
    assert not np.array_equal(first.indices(0), other.indices(0))


@pytest.mark.slow
def test_a_tiny_run_of_the_sweep_tunes_map_at_r_with_recall_at_1_beside_it(tmp_path):
    spec = specs.load(SWEEP)
    one_each = tuple(
        dataclasses.replace(p, choice=p.choice[:1]) if p.name != "loss" else p for p in spec.space
    )  # one value per loss: three trials, one per loss
    spec = dataclasses.replace(spec, space=one_each, epochs=1, executions=1)
    out = io.StringIO()
    result = sweeps.run(spec, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=out)

    assert [t.status for t in result.trials] == ["COMPLETED"] * 3, out.getvalue()
    assert sorted(t.values["loss"] for t in result.trials) == sorted(LOSSES)
    assert result.objective == "val_map_at_r"
    assert result.best.objective == max(t.metrics["val_map_at_r"] for t in result.trials)
    assert all(0.0 < t.metrics["val_map_at_r"] <= t.metrics["val_recall_at_1"] <= 1.0 for t in result.trials)
    lines = [line for line in out.getvalue().splitlines() if line.startswith(f"[{SWEEP}] trial ")]
    assert len(lines) == 3 and all("-> val_map_at_r " in line and "recall_at_1 " in line for line in lines)


def test_a_searched_p_and_k_reach_the_batches():
    space = {
        "margin": {"choice": [0.5]},
        "classes_per_batch": {"choice": [3, 5]},
        "examples_per_class": {"min": 2, "max": 6},
    }
    spec = specs.parse(_balanced(classes_per_batch=None, examples_per_class=None, space=space), "pk")
    assert spec.classes_per_batch is None and spec.param("examples_per_class").kind == "int"
    built = hypermodel.build(spec, {"margin": 0.5, "classes_per_batch": 5, "examples_per_class": 3}, 0, _data(spec))
    _, labels = built.train[0]
    assert sorted(np.unique(labels, return_counts=True)[1]) == [3] * 5
    assert built.model.loss.get_config()["margin"] == 0.5  # P and K went to the batches, not to the loss


def test_shuffled_batches_are_the_default_and_keep_older_states_resumable():
    spec = specs.load("triplet_digits")
    assert spec.batches == "shuffled" and not spec.class_balanced
    assert "batches" not in state.fingerprint(spec, "digest")  # the fingerprint of a state made before `batches`
    balanced = specs.load(SWEEP)
    assert state.fingerprint(balanced, "digest")["batches"] == "class-balanced 8 x 16"


def test_a_changed_p_or_k_is_refused_on_resume(tmp_path):
    spec = specs.parse(_balanced(), "pk_resume")
    tuning.prepare(spec, str(tmp_path / "logs"), str(tmp_path / "state"))
    changed = dataclasses.replace(spec, examples_per_class=8)
    with pytest.raises(
        state.StateError, match=r"the spec changed .*: batches \(class-balanced 4 x 4 -> class-balanced 4 x 8\)"
    ):
        tuning.prepare(changed, str(tmp_path / "logs"), str(tmp_path / "state"))


def test_more_classes_per_batch_than_the_data_holds_fails_before_training(tmp_path):
    spec = specs.parse(_balanced(classes_per_batch=12), "too_many")
    with pytest.raises(
        specs.SpecError, match=r"`classes_per_batch`: 12 classes per batch, but the training data holds 10"
    ):
        tuning.prepare(spec, str(tmp_path / "logs"), str(tmp_path / "state"))
    searched = _balanced(
        classes_per_batch=None, space={"margin": {"choice": [0.5]}, "classes_per_batch": {"choice": [4, 11]}}
    )
    with pytest.raises(specs.SpecError, match=r"`space.classes_per_batch`: 11 classes per batch"):
        specs.check_data(specs.parse(searched, "too_many"), _data(spec))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batches": "balanced"}, r"`batches`: expected one of 'shuffled', 'class-balanced', got 'balanced'"),
        ({"classes_per_batch": None}, r"`classes_per_batch`: missing: class-balanced batches need"),
        ({"examples_per_class": None}, r"`examples_per_class`: missing"),
        ({"examples_per_class": 1}, r"`examples_per_class`: expected at least 2, got 1"),
        ({"classes_per_batch": 2.0}, r"`classes_per_batch`: expected int, got 2.0"),
        ({"batches": None}, r"`classes_per_batch`: only with batches = \"class-balanced\""),
        ({"batches": "shuffled"}, r"`classes_per_batch`: only with batches = \"class-balanced\""),
        ({"batch_size": 64}, r"`batch_size`: with class-balanced batches the batch size is classes_per_batch x"),
        (
            {"space": {"margin": {"choice": [0.5]}, "batch_size": {"choice": [32, 64]}}},
            r"`space.batch_size`: with class-balanced batches",
        ),
        (
            {
                "space": {"margin": {"choice": [0.5]}, "examples_per_class": {"choice": [1, 4]}},
                "examples_per_class": None,
            },
            r"`space.examples_per_class`: expected integers >= 2, got \[1, 4\]",
        ),
        (
            {"space": {"margin": {"choice": [0.5]}, "examples_per_class": {"choice": [2, 4]}}},
            r"`examples_per_class`: give it either as `examples_per_class = N` or as a searched",
        ),
        (
            {
                "loss": None,
                "classes_per_batch": None,
                "space": {
                    "loss": {"choice": ["TripletLoss", "SupervisedContrastive"]},
                    "classes_per_batch": {"choice": [4, 8], "when": {"loss": "TripletLoss"}},
                },
            },
            r"`space.classes_per_batch.when`: every trial draws its batches with it: it cannot be conditional",
        ),
        (
            {"loss": None, "space": {"loss": {"choice": ["SupervisedContrastive", "NTXent"]}}},
            r"`space.loss.choice`: NTXent ignores the labels and needs two views",
        ),
        (
            {
                "dataset": "multiclass",
                "loss": "SparseCategoricalCrossentropy",
                "space": {"label_smoothing": {"choice": [0.1]}},
            },
            r"`batches`: class-balanced batches draw an embedding task's classes; this is a multiclass task",
        ),
    ],
)
def test_invalid_class_balanced_specs_name_the_field(changes, message):
    with pytest.raises(specs.SpecError, match=r"sweep spec 'bad': " + message):
        specs.parse(_balanced(**changes), "bad")
