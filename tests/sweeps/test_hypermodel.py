"""A spec and one trial's values into what `fit` trains (`sweeps.hypermodel`): the loss built by name with the
searched arguments (and `from_logits=True` where the heads give logits), the number of outputs, the network,
the class proxies' count and the shuffled, seeded training batches."""

import types

import keras
import numpy as np
import pytest

import kerasloss
from sweeps import datasets, hypermodel
from sweeps import spec as specs
from tests.sweeps.support import linear


def _data(task, y, classes=0, teacher=None):
    x = np.random.default_rng(0).normal(size=(len(y), 3)).astype("float32")
    return datasets.Dataset("toy", task, x, y, x[:4], y[:4], "toy", classes=classes, teacher=teacher,
                            x_val=x[:4], y_val=y[:4])  # fmt: skip


def _binary(n=100):
    return _data("binary", (np.arange(n) % 3 == 0).astype("int32"))


def _focal(**fields):
    table = {"name": "h", "dataset": "circle", "objective": {"name": "pr_auc"},
             "space": {"loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]},
                       "gamma": {"choice": [1.0, 3.0], "when": {"loss": "FocalLoss"}}}}  # fmt: skip
    return specs.from_dict(table | fields)


def test_the_searched_loss_is_built_with_its_own_arguments_and_from_logits():
    values = {"loss": "FocalLoss", "gamma": 3.0, "learning_rate": 0.01, "batch_size": 32}
    loss = hypermodel.build_loss(_focal(), values)
    config = loss.get_config()
    assert type(loss).__name__ == "FocalLoss" and config["gamma"] == 3.0 and config["from_logits"] is True
    assert "learning_rate" not in config and "batch_size" not in config  # training parameters, not the loss's


def test_a_fixed_loss_keeps_a_from_logits_the_spec_sets():
    spec = specs.from_dict({"name": "h", "dataset": "circle", "objective": {"name": "pr_auc"}, "loss": "FocalLoss",
                            "loss_args": {"from_logits": False}, "space": {"gamma": {"choice": [1.0]}}})  # fmt: skip
    config = hypermodel.build_loss(spec, {"gamma": 1.0}).get_config()
    assert config["from_logits"] is False and config["gamma"] == 1.0


def test_a_loss_without_from_logits_is_not_given_one():
    spec = specs.from_dict({"name": "r", "dataset": "sin_outliers", "objective": {"name": "mse"}, "loss": "Huber",
                            "space": {"delta": {"choice": [0.5]}}})  # fmt: skip
    config = hypermodel.build_loss(spec, {"delta": 0.5}).get_config()
    assert config["delta"] == 0.5 and "from_logits" not in config


def test_outputs_are_one_logit_one_per_class_one_per_target_or_the_embedding_dimension():
    default, sized = types.SimpleNamespace(model={}), types.SimpleNamespace(model={"embedding_dim": 7})
    assert hypermodel.outputs(default, _binary()) == 1
    assert hypermodel.outputs(default, _data("multiclass", np.arange(40) % 4, classes=4)) == 4
    assert hypermodel.outputs(default, _data("regression", np.zeros(40, "float32"))) == 1
    assert hypermodel.outputs(default, _data("regression", np.zeros((40, 2), "float32"))) == 2
    assert hypermodel.outputs(default, _data("embedding", np.arange(40) % 4, classes=4)) == 16
    assert hypermodel.outputs(sized, _data("embedding", np.arange(40) % 4, classes=4)) == 7


def test_the_network_is_the_built_in_head_or_encoder_or_the_users_function():
    builtin = types.SimpleNamespace(model={"hidden": [4]})
    assert hypermodel.network(builtin, _binary()).name == "binary_mlp"
    embedding = hypermodel.network(builtin, _data("embedding", np.arange(40) % 4, classes=4))
    assert embedding.name == "encoder" and embedding.output_shape == (None, 16)
    given = types.SimpleNamespace(model={"function": specs.GIVEN}, base=None)
    model = hypermodel.network(given, _binary(), model_function=linear)
    assert model.output_shape == (None, 1) and model.input_shape == (None, 3)


def test_a_users_classifier_must_give_logits_and_a_regression_need_not():
    def sigmoid(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs, activation="sigmoid")(inputs))

    given = types.SimpleNamespace(model={"function": specs.GIVEN}, base=None)
    with pytest.raises(ValueError, match="applies a sigmoid"):
        hypermodel.network(given, _binary(), model_function=sigmoid)
    regression = _data("regression", np.linspace(0, 1, 40).astype("float32"))
    assert hypermodel.network(given, regression, model_function=sigmoid).output_shape == (None, 1)


def test_a_proxy_loss_gets_a_proxy_for_every_class_id_it_trains_on():
    assert hypermodel.proxy_classes(_data("embedding", np.array([0, 1, 4, 2] * 10), classes=3)) == 5
    assert hypermodel.proxy_classes(_data("embedding", np.array([0, 1, 2, 0] * 10), classes=6)) == 6


def _epoch(train):
    xs, ys = zip(*[(keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y)) for x, y in train], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_batches_hold_every_row_once_an_epoch_in_an_order_set_by_the_seed():
    data = _binary()
    first, again, other = (_epoch(hypermodel.pipeline(data, 32, seed, views=False)) for seed in (1, 1, 2))
    assert first[0].shape == (100, 3) and first[1].shape == (100, 1) and first[1].dtype == np.float32
    np.testing.assert_array_equal(np.sort(first[0], axis=0), np.sort(data.x_train, axis=0))
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])
    row = {tuple(x): y for x, y in zip(data.x_train, data.y_train, strict=True)}
    assert all(row[tuple(x)] == y for x, y in zip(first[0], first[1][:, 0], strict=True))  # labels stay with rows


def test_a_two_view_loss_gets_two_noisy_views_of_each_example():
    data = _data("embedding", np.arange(40) % 4, classes=4)
    x, y = next(iter(hypermodel.pipeline(data, 8, 0, views=True)))
    x = keras.ops.convert_to_numpy(x)
    assert x.shape == (8, 2, 3) and tuple(y.shape) == (8,)
    assert not np.allclose(x[:, 0], x[:, 1])


def test_distillation_without_a_teachers_logits_is_refused():
    with pytest.raises(ValueError, match="DistillationLoss needs a teacher's logits"):
        hypermodel.pipeline(_data("multiclass", np.arange(40) % 4, classes=4), 8, 0, views=False, teacher=True)


def _long_tail(space, **fields):
    table = {"name": "lt", "dataset": "long_tail_100", "objective": {"name": "macro_recall"}, "space": space}
    return specs.from_dict(table | fields)


def test_a_loss_taking_class_counts_gets_the_training_parts():
    data = datasets.load("long_tail_100")
    spec = _long_tail({"loss": {"choice": ["LogitAdjusted"]}, "tau": {"choice": [2.0]}})
    loss = hypermodel.build_loss(spec, {"loss": "LogitAdjusted", "tau": 2.0}, data)
    assert list(loss.get_config()["class_counts"]) == [500, 299, 179, 107, 64, 38, 23, 13, 8, 5]
    assert loss.get_config()["tau"] == 2.0
    with pytest.raises(ValueError, match=r"LogitAdjusted is built from the training part's class counts"):
        hypermodel.build_loss(spec, {"loss": "LogitAdjusted", "tau": 2.0})


def test_beta_gives_the_softmax_focal_loss_class_balanced_alpha_from_the_training_part():
    data = datasets.load("long_tail_100")
    spec = _long_tail({"loss": {"choice": ["SparseCategoricalFocalLoss"]}, "beta": {"choice": [0.999]}})
    loss = hypermodel.build_loss(spec, {"loss": "SparseCategoricalFocalLoss", "beta": 0.999}, data)
    expected = kerasloss.class_balanced_weights(np.bincount(data.y_train), 0.999)
    np.testing.assert_allclose(loss.get_config()["alpha"], expected, rtol=1e-6)
    assert loss.get_config()["from_logits"] is True


def test_class_counts_in_loss_args_are_kept():
    data = datasets.load("long_tail_100")
    spec = _long_tail({"max_margin": {"choice": [1.0]}}, loss="LDAM", loss_args={"class_counts": [1] * 10})
    loss = hypermodel.build_loss(spec, {"max_margin": 1.0}, data)
    assert list(loss.get_config()["class_counts"]) == [1] * 10
