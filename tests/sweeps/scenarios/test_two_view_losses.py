"""Two-view self-supervised losses (BarlowTwins, VICReg beside NTXent) and the default suite's
`self_supervised_digits`: the spec parses with recall@1 as its objective; each loss trains on two augmented
views of every example, stacked (batch, 2, dim) as the loss takes them, and the single-view encoder is
measured; class-balanced batches (one view per example) refuse them; a tiny sweep runs to the end."""

import dataclasses
import io

import keras
import numpy as np
import pytest

import kerasloss
import sweeps
from sweeps import hypermodel, metrics, sources, tuning
from sweeps import spec as specs

SWEEP = "self_supervised_digits"
LOSSES = {"NTXent": "temperature", "BarlowTwins": "redundancy_weight", "VICReg": "invariance"}
VALUES = {"NTXent": {"temperature": 0.1}, "BarlowTwins": {"redundancy_weight": 1.0}, "VICReg": {"invariance": 5.0}}


def _data(spec):
    return sources.load(spec.data_source)


def test_the_sweep_compares_barlow_twins_and_vicreg_with_ntxent_by_recall_at_1():
    spec = specs.load(SWEEP)
    assert spec.task == "embedding" and spec.dataset == "digits" and not spec.class_balanced
    assert (spec.objective, spec.direction) == ("recall_at_1", "max")
    assert "map_at_r" in spec.metrics
    assert set(spec.losses()) == set(LOSSES)
    for loss, argument in LOSSES.items():  # each loss's own hyperparameter, searched for it alone
        assert spec.param(argument).when == (("loss", (loss,)),) and len(spec.param(argument).choice) >= 2
    assert 0.005 in spec.param("redundancy_weight").choice and 25.0 in spec.param("invariance").choice  # defaults
    assert tuning.planned_trials(spec, spec.trials) == spec.trials  # the whole grid, no trial left out
    contrastive = specs.load("contrastive_digits")  # the same model, views, batches and learning rate
    assert (spec.model, spec.batch_size, spec.learning_rate, spec.epochs) == (
        contrastive.model,
        contrastive.batch_size,
        contrastive.learning_rate,
        contrastive.epochs,
    )


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_each_loss_trains_on_two_views_and_the_single_view_encoder_is_measured(loss):
    spec = specs.load(SWEEP)
    data = _data(spec)
    built = hypermodel.build(spec, {"loss": loss, **VALUES[loss]}, 5, data)
    assert type(built.model.loss).__name__ == loss
    assert built.model.input_shape == (None, 2, 64) and built.model.output_shape == (None, 2, 16)
    assert not any(isinstance(layer, kerasloss.CosineProxies) for layer in built.model._flatten_layers())

    x, _ = next(iter(built.train))
    assert tuple(x.shape) == (128, 2, 64)
    assert not np.allclose(x[:, 0], x[:, 1])  # two different augmentations of each example
    first, second = np.asarray(x[:, 0]), np.asarray(x[:, 1])
    paired = np.linalg.norm(first - second, axis=1).mean()
    other = np.linalg.norm(first - np.roll(second, 1, axis=0), axis=1).mean()
    assert paired < other  # ... of the same example: on average its views are nearer each other than another's

    shapes, trained = [], built.model.loss  # what the loss receives inside fit

    def recording(y_true, y_pred):
        shapes.append(tuple(y_pred.shape))
        return trained(y_true, y_pred)

    built.model.compile(optimizer=keras.optimizers.Adam(0.003), loss=recording, run_eagerly=True)
    history = built.model.fit(built.train.take(3), epochs=1, verbose=0, shuffle=False)
    assert shapes[0] == (128, 2, 16) and all(s[1:] == (2, 16) for s in shapes)
    assert np.isfinite(history.history["loss"][0])

    embeddings = built.predict(data.x_test)
    assert embeddings.shape == (len(data.x_test), 16)  # one view in, one embedding out
    measured = built.evaluate()
    expected = metrics.embedding(data.y_test, embeddings)
    assert {k: v for k, v in measured.items() if k.startswith("test_")} == {f"test_{k}": v for k, v in expected.items()}
    assert 0.0 < measured["test_recall_at_1"] <= 1.0


@pytest.mark.parametrize("name", ["barlow", "barlow_twins", "BarlowTwins", "vicreg", "ntxent", "simclr", "infonce"])
def test_two_views_follow_the_loss_class_whatever_its_name(name):
    loss = kerasloss.get(name)
    assert isinstance(loss, specs.VIEW_ONLY_LOSSES) and isinstance(loss, specs.VIEW_LOSSES)
    assert not isinstance(loss, specs.PROXY_LOSSES)


@pytest.mark.slow
def test_an_alias_gets_two_views_too():
    spec = specs.parse(
        {
            "dataset": "digits",
            "model": {"hidden": [16], "embedding_dim": 8, "normalize": False},
            "loss": "barlow",
            "space": {"redundancy_weight": {"choice": [0.5]}},
            "objective": {"name": "recall_at_1"},
        },
        "alias",
    )
    built = hypermodel.build(spec, {"redundancy_weight": 0.5}, 0, _data(spec))
    assert built.model.output_shape == (None, 2, 8)


@pytest.mark.parametrize("loss", ["BarlowTwins", "VICReg"])
def test_class_balanced_batches_refuse_the_two_view_losses(loss):
    table = {
        "dataset": "digits",
        "batches": "class-balanced",
        "classes_per_batch": 4,
        "examples_per_class": 4,
        "space": {"loss": {"choice": ["TripletLoss", loss]}},
        "objective": {"name": "recall_at_1"},
    }
    with pytest.raises(
        specs.SpecError, match=rf"`space.loss.choice`: {loss} ignores the labels and needs two views of each example"
    ):
        specs.parse(table, "bad")


@pytest.mark.slow
def test_a_tiny_run_of_the_sweep_trains_each_loss(tmp_path):
    spec = specs.load(SWEEP)
    one_each = tuple(dataclasses.replace(p, choice=p.choice[:1]) if p.name != "loss" else p for p in spec.space)
    spec = dataclasses.replace(spec, space=one_each, epochs=1, executions=1)
    out = io.StringIO()
    result = sweeps.run(spec, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=out)

    assert [t.status for t in result.trials] == ["COMPLETED"] * 3, out.getvalue()
    assert sorted(t.values["loss"] for t in result.trials) == sorted(LOSSES)
    assert result.objective == "val_recall_at_1"
    assert all(0.0 < t.metrics["val_recall_at_1"] <= 1.0 for t in result.trials)
