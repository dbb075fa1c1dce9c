"""The networks a sweep trains (`sweeps.models`): the built-in MLP head and encoder, the two-view and
class-proxy wrappers, and the user's model function, checked before the first trial."""

import keras
import numpy as np
import pytest

import kerasloss
from sweeps import models
from sweeps import spec as specs
from tests.sweeps.support import binary, linear, run_sweep


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("wrong_signature", r"takes the keywords input_shape and outputs"),
        ("not_a_model", r"returned int, not a keras.Model"),
        ("wrong_shape", r"returns shape \(3,\) per example, not \(1,\)"),
        ("sigmoid", r"output layer applies a sigmoid; the harness trains on logits"),
        ("softmax_layer", r"output layer applies a softmax"),
    ],
)
@pytest.mark.slow
def test_a_wrong_model_function_is_refused_before_the_first_trial(tmp_path, model, message):
    def wrong_signature(shape, n):
        return linear(shape, n)

    def not_a_model(input_shape, outputs):
        return 3

    def wrong_shape(input_shape, outputs):
        return linear(input_shape, 3)

    def sigmoid(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs, activation="sigmoid")(inputs))

    def softmax_layer(input_shape, outputs):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(outputs), keras.layers.Softmax()])

    spec = {"name": "bad_model", "task": "binary", "loss": "BinaryCrossentropy", "objective": {"name": "pr_auc"},
            "space": {"learning_rate": {"choice": [0.01]}}}  # fmt: skip
    with pytest.raises(specs.SpecError, match=message):
        run_sweep(tmp_path, spec, binary(200, 0), model=locals()[model])
    assert not (tmp_path / "logs" / "bad_model").exists()  # nothing ran


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["ops_sigmoid", "raises"])
def test_more_wrong_model_functions_are_refused_before_the_first_trial(tmp_path, failure):
    def ops_sigmoid(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.ops.sigmoid(keras.layers.Dense(outputs)(inputs)))

    def raises(input_shape, outputs):
        return {}["width"]

    message = {"ops_sigmoid": "output layer applies a sigmoid", "raises": "the model function raised KeyError"}
    spec = {"name": "bad", "task": "binary", "loss": "BinaryCrossentropy", "objective": {"name": "pr_auc"},
            "space": {"learning_rate": {"choice": [0.01]}}}  # fmt: skip
    with pytest.raises(specs.SpecError, match=message[failure]):
        run_sweep(tmp_path, spec, binary(200, 0), model=locals()[failure])


def test_a_head_maps_its_input_through_relu_layers_to_plain_logits():
    model = models.head("binary", (3,), 1, {"hidden": [8, 4]})
    assert model.name == "binary_mlp" and model.output_shape == (None, 1)
    assert [layer.name for layer in model.layers] == ["x", "binary_dense_0", "binary_dense_1", "output"]
    assert [model.get_layer(f"binary_dense_{i}").units for i in (0, 1)] == [8, 4]
    assert model.get_layer("binary_dense_0").activation.__name__ == "relu"
    assert model.get_layer("output").activation.__name__ == "linear"  # logits: every loss takes from_logits


def test_a_head_without_hidden_layers_given_takes_the_default_widths():
    model = models.head("regression", (2,), 3, {})
    widths = [layer.units for layer in model.layers if layer.name.startswith("regression_dense_")]
    assert widths == models.DEFAULTS["hidden"] and model.output_shape == (None, 3)


def test_an_image_input_is_flattened_first_and_a_vector_is_not():
    image = models.head("multiclass", (8, 8), 10, {"hidden": [5]})
    assert isinstance(image.layers[1], keras.layers.Flatten) and image.layers[1].name == "multiclass_flatten"
    assert image.output_shape == (None, 10)
    vector = models.head("multiclass", (64,), 10, {"hidden": [5]})
    assert not any(isinstance(layer, keras.layers.Flatten) for layer in vector.layers)


def test_the_encoder_returns_unit_vectors_of_the_embedding_dimension_unless_told_not_to():
    x = np.random.default_rng(0).normal(size=(7, 4)).astype("float32")
    normalized = models.encoder((4,), {"embedding_dim": 6, "hidden": [8]})
    assert normalized.name == "encoder" and normalized.output_shape == (None, 6)
    z = keras.ops.convert_to_numpy(normalized(x))
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    raw = models.encoder((4,), {"embedding_dim": 6, "hidden": [8], "normalize": False})
    assert not any(isinstance(layer, keras.layers.UnitNormalization) for layer in raw.layers)
    assert not np.allclose(np.linalg.norm(keras.ops.convert_to_numpy(raw(x)), axis=1), 1.0)


def test_two_views_go_through_one_encoder_with_its_weights_shared():
    encoder = models.encoder((4,), {"embedding_dim": 6, "hidden": [8]})
    model = models.two_view(encoder, (4,))
    assert model.input_shape == (None, 2, 4) and model.output_shape == (None, 2, 6)
    assert {id(w) for w in model.trainable_weights} == {id(w) for w in encoder.trainable_weights}
    views = np.random.default_rng(1).normal(size=(5, 2, 4)).astype("float32")
    both = keras.ops.convert_to_numpy(model(views))
    for view in (0, 1):
        np.testing.assert_allclose(both[:, view], keras.ops.convert_to_numpy(encoder(views[:, view])), atol=1e-6)


def test_class_proxies_follow_the_encoder_and_add_one_trainable_proxy_per_class():
    encoder = models.encoder((4,), {"embedding_dim": 6, "hidden": [8]})
    model = models.with_proxies(encoder, (4,), 5)
    proxies = model.get_layer("proxies")
    assert isinstance(proxies, kerasloss.CosineProxies) and model.output_shape == (None, 5)
    assert model.get_layer("encoder") is encoder  # the measured embedding is the encoder's own
    assert [tuple(w.shape) for w in proxies.trainable_weights] == [(6, 5)]
    own = {id(w) for w in encoder.trainable_weights} | {id(w) for w in proxies.trainable_weights}
    assert {id(w) for w in model.trainable_weights} == own
    cosines = keras.ops.convert_to_numpy(model(np.ones((3, 4), "float32")))
    assert np.all(np.abs(cosines) <= 1 + 1e-6)


def test_a_model_function_is_called_with_keywords_and_its_model_returned():
    calls = []

    def build(input_shape, outputs):
        calls.append((input_shape, outputs))
        return linear(input_shape, outputs)

    model = models.from_function(build, [4], 3, "mine:build")
    assert calls == [((4,), 3)] and model.output_shape == (None, 3)


def test_a_squashing_output_is_refused_only_where_the_model_gives_logits():
    def sigmoid(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs, activation="sigmoid")(inputs))

    with pytest.raises(ValueError, match=r"model mine:build: its output layer applies a sigmoid"):
        models.from_function(sigmoid, (4,), 1, "mine:build")
    assert models.from_function(sigmoid, (4,), 1, "mine:build", logits=False).output_shape == (None, 1)


def test_a_type_error_of_the_function_itself_is_not_blamed_on_its_signature():
    def broken(input_shape, outputs):
        return len(3)  # TypeError: object of type 'int' has no len()

    with pytest.raises(TypeError, match=r"has no len\(\)"):
        models.from_function(broken, (4,), 1, "mine:build")
