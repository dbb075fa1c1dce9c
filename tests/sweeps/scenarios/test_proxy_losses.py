"""Proxy losses (ArcFace, CosFace, ProxyAnchor, ProxyNCA) and the default suite's `arcface_cosface_digits`:
the spec parses with recall@1 as its objective and MAP@R beside it; a trial trains the encoder followed by
`kerasloss.CosineProxies(classes)` and measures the encoder alone (the proxies are trained, and are not
part of the evaluated embeddings); other losses get no proxies; a tiny sweep runs to the end."""

import dataclasses
import io

import keras
import numpy as np
import pytest

import kerasloss
import sweeps
from sweeps import hypermodel, metrics, sources, tuning
from sweeps import spec as specs

SWEEP = "arcface_cosface_digits"
PROXY_LOSSES = {
    "ArcFace": {"scale": 4.0, "margin": 0.35},
    "CosFace": {"scale": 4.0, "margin": 0.35},
    "ProxyAnchor": {"alpha": 32.0, "delta": 0.1},
    "ProxyNCA": {"scale": 4.0},
}


def _spec(loss, **changes):
    """A one-trial digits spec with `loss` (its first argument searched), 8-wide embeddings."""
    argument, value = _first(loss).popitem()
    table = {
        "dataset": "digits",
        "model": {"hidden": [16], "embedding_dim": 8},
        "loss": loss,
        "space": {argument: {"choice": [value]}},
        "objective": {"name": "recall_at_1"},
        "learning_rate": 0.01,
        "batch_size": 128,
        **changes,
    }
    return specs.parse({k: v for k, v in table.items() if v is not None}, "proxy")


def _first(loss):
    """The loss's first argument and its value, as a trial's values."""
    return dict(list(PROXY_LOSSES[loss].items())[:1])


def _data(spec):
    return sources.load(spec.data_source)


def test_the_sweep_searches_margin_by_scale_for_arcface_and_cosface_by_recall_at_1():
    spec = specs.load(SWEEP)
    assert spec.task == "embedding" and spec.dataset == "digits"
    assert (spec.objective, spec.direction) == ("recall_at_1", "max")
    assert spec.metrics[:2] == ("recall_at_1", "map_at_r")  # MAP@R logged, and shown on each trial's line
    assert set(spec.losses()) == {"ArcFace", "CosFace"}
    for name in ("scale", "margin"):  # searched for both losses: a margin x scale grid each
        assert spec.param(name).when == () and len(spec.param(name).choice) >= 2
    assert (
        tuning.planned_trials(spec, spec.trials)
        == spec.trials
        == 2 * len(spec.param("scale").choice) * len(spec.param("margin").choice)
    )
    assert spec.model["normalize"]  # the embeddings are measured by Euclidean distance: on the sphere, as trained


@pytest.mark.slow
@pytest.mark.parametrize("loss", sorted(PROXY_LOSSES))
def test_a_proxy_loss_trains_through_class_proxies_and_the_encoder_alone_is_measured(loss):
    spec = _spec(loss)
    data = _data(spec)
    built = hypermodel.build(spec, _first(loss), 3, data)
    assert type(built.model.loss).__name__ == loss
    proxies = [layer for layer in built.model.layers if isinstance(layer, kerasloss.CosineProxies)]
    assert len(proxies) == 1 and built.model.layers[-1] is proxies[0]
    assert proxies[0].num_classes == data.classes == 10
    assert built.model.output_shape == (None, 10)  # cosines with the 10 class proxies: what the loss takes
    encoder = built.model.get_layer("encoder")
    assert encoder.name == "encoder" and encoder.output_shape == (None, 8)
    assert not any(isinstance(layer, kerasloss.CosineProxies) for layer in encoder.layers)

    before = keras.ops.convert_to_numpy(proxies[0].proxies).copy()
    history = built.model.fit(built.train, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(before, keras.ops.convert_to_numpy(proxies[0].proxies))  # fit trains the proxies

    embeddings = built.predict(data.x_test)
    assert embeddings.shape == (len(data.x_test), 8)  # the encoder's embeddings, not the (n, 10) cosines
    np.testing.assert_allclose(embeddings, keras.ops.convert_to_numpy(encoder(data.x_test)), atol=1e-6)
    measured = built.evaluate()
    expected = metrics.embedding(data.y_test, embeddings)
    assert {k: v for k, v in measured.items() if k.startswith("test_")} == {f"test_{k}": v for k, v in expected.items()}
    assert 0.0 < measured["test_map_at_r"] <= measured["test_recall_at_1"] <= 1.0


@pytest.mark.slow
def test_the_proxy_layer_holds_no_weight_of_the_measured_embedding():
    spec = _spec("ArcFace")
    built = hypermodel.build(spec, {"scale": 4.0}, 0, _data(spec))
    encoder_weights = {id(w) for w in built.model.get_layer("encoder").weights}
    proxy_weights = built.model.get_layer("proxies").weights
    assert len(proxy_weights) == 1 and proxy_weights[0].shape == (8, 10)
    assert id(proxy_weights[0]) not in encoder_weights
    assert {id(w) for w in built.model.trainable_weights} == encoder_weights | {id(proxy_weights[0])}


@pytest.mark.parametrize("name", ["arcface", "cosface", "proxy_anchor", "proxy_nca"])
def test_proxies_follow_the_loss_class_whatever_its_name(name):
    loss = kerasloss.get(name)
    assert isinstance(loss, specs.PROXY_LOSSES) and not isinstance(loss, specs.VIEW_LOSSES)


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "argument"), [("TripletLoss", "margin"), ("MultiSimilarity", "base")])
def test_other_embedding_losses_get_no_proxies(loss, argument):
    spec = specs.parse(
        {
            "dataset": "digits",
            "model": {"hidden": [16], "embedding_dim": 8},
            "loss": loss,
            "space": {argument: {"choice": [0.5]}},
            "objective": {"name": "recall_at_1"},
        },
        "plain",
    )
    built = hypermodel.build(spec, {argument: 0.5}, 0, _data(spec))
    assert built.model.output_shape == (None, 8) and built.model.name == "encoder"
    assert not any(isinstance(layer, kerasloss.CosineProxies) for layer in built.model.layers)


@pytest.mark.slow
def test_a_proxy_loss_trains_on_class_balanced_batches():
    spec = _spec("ProxyAnchor", batch_size=None, batches="class-balanced", classes_per_batch=5, examples_per_class=8)
    built = hypermodel.build(spec, {"alpha": 32.0}, 0, _data(spec))
    assert isinstance(built.train, kerasloss.ClassBalancedBatches)
    assert built.model.output_shape == (None, 10)  # every class has a proxy, not only the batch's 5
    history = built.model.fit(built.train, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"][0])
    assert built.predict(built.dataset.x_test[:4]).shape == (4, 8)


def _user_encoder(input_shape, outputs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, keras.layers.Dense(outputs, name="mine")(inputs), name="users_model")


@pytest.mark.slow
def test_a_users_model_gets_the_proxies_after_it():
    spec = specs.parse(
        {
            "dataset": "digits",
            "model": {"embedding_dim": 6},
            "loss": "CosFace",
            "space": {"margin": {"choice": [0.35]}},
            "objective": {"name": "recall_at_1"},
        },
        "own_model",
        model_given=True,
    )
    built = hypermodel.build(spec, {"margin": 0.35}, 0, _data(spec), model_function=_user_encoder)
    assert [layer.name for layer in built.model.layers if layer.weights] == ["users_model", "proxies"]
    assert built.model.output_shape == (None, 10)
    assert built.predict(built.dataset.x_test[:3]).shape == (3, 6)


def test_a_proxy_loss_on_other_tasks_and_simsiam_fail_before_training():
    multiclass = {
        "dataset": "multiclass",
        "loss": "ArcFace",
        "space": {"margin": {"choice": [0.5]}},
        "objective": {"name": "accuracy"},
    }
    with pytest.raises(
        specs.SpecError, match=r"`loss`: ArcFace needs an embedding task; this sweep's data is a multiclass task"
    ):
        specs.parse(multiclass, "bad")
    simsiam = {
        "dataset": "digits",
        "space": {"loss": {"choice": ["NTXent", "SimSiam"]}},
        "objective": {"name": "map_at_r"},
    }
    with pytest.raises(specs.SpecError, match=r"`space.loss.choice`: SimSiam cannot be swept: it needs a predictor"):
        specs.parse(simsiam, "bad")


@pytest.mark.slow
def test_a_tiny_run_of_the_sweep_tunes_recall_at_1_with_map_at_r_beside_it(tmp_path):
    spec = specs.load(SWEEP)
    smaller = tuple(dataclasses.replace(p, choice=p.choice[:1]) if p.name != "loss" else p for p in spec.space)
    spec = dataclasses.replace(spec, space=smaller, epochs=1, executions=1)  # one scale and margin: a trial per loss
    out = io.StringIO()
    result = sweeps.run(spec, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=out)

    assert [t.status for t in result.trials] == ["COMPLETED"] * 2, out.getvalue()
    assert sorted(t.values["loss"] for t in result.trials) == ["ArcFace", "CosFace"]
    assert result.objective == "val_recall_at_1"
    assert all(0.0 < t.metrics["val_map_at_r"] <= t.metrics["val_recall_at_1"] <= 1.0 for t in result.trials)
    lines = [line for line in out.getvalue().splitlines() if line.startswith(f"[{SWEEP}] trial ")]
    assert len(lines) == 2 and all("-> val_recall_at_1 " in line and "; map_at_r " in line for line in lines)
