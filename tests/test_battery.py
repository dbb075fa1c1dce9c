"""The battery every loss passes: reference values, the Keras built-in, config round-trip, `get`,
reductions and sample weights, compiled == eager, finite gradients, half precision."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import compiled, graph, numpy, value_and_grad
from tests.cases import CASES

pytestmark = pytest.mark.parametrize("case", CASES, ids=str)


def draw(case, seed=0):
    return case.data(np.random.default_rng(seed))


def test_matches_numpy_reference(case):
    y_true, y_pred = draw(case)
    got = numpy(case.make(reduction=None)(y_true, y_pred))
    np.testing.assert_allclose(got, case.reference(y_true, y_pred), rtol=2e-5, atol=1e-6)


def test_matches_keras_builtin(case):
    if case.builtin is None:
        pytest.skip(f"Keras 3 has no built-in equivalent of {case.id}")
    y_true, y_pred = draw(case)
    weights = np.random.default_rng(1).random(len(y_pred)).astype("float32")
    ours = numpy(case.make()(y_true, y_pred, sample_weight=weights))
    theirs = numpy(case.builtin()(y_true, y_pred, sample_weight=weights))
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-6)


def test_config_round_trip(case):
    loss = case.make(reduction="sum", name="custom")
    config = loss.get_config()
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    assert config["reduction"] == "sum" and config["name"] == "custom"
    rebuilt = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == config
    y_true, y_pred = draw(case)
    np.testing.assert_array_equal(numpy(clone(y_true, y_pred)), numpy(loss(y_true, y_pred)))


def test_resolved_by_get(case):
    loss = kerasloss.get(case.cls.__name__, **case.kwargs)
    assert type(loss) is case.cls
    assert loss.get_config() == case.make().get_config()


@pytest.mark.parametrize("reduction", ["sum", "sum_over_batch_size", "mean_with_sample_weight", None])
def test_reductions_and_sample_weight_follow_keras(case, reduction):
    y_true, y_pred = draw(case)
    weights = np.random.default_rng(2).random(len(y_pred)).astype("float32")
    per_sample = numpy(case.make(reduction=None)(y_true, y_pred)).astype(np.float64)
    got = numpy(case.make(reduction=reduction)(y_true, y_pred, sample_weight=weights))
    weighted = per_sample * weights
    expected = {
        "sum": weighted.sum(),
        "sum_over_batch_size": weighted.sum() / weighted.size,
        "mean_with_sample_weight": weighted.sum() / weights.sum(),
        None: weighted,
    }[reduction]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_compiled_equals_eager(case):
    y_true, y_pred = draw(case)
    loss = case.make()
    eager = numpy(loss(y_true, y_pred))
    np.testing.assert_allclose(numpy(compiled(loss)(y_true, y_pred)), eager, rtol=1e-6, atol=1e-7)


def test_graph_equals_eager(case):
    y_true, y_pred = draw(case)
    loss = case.make()
    np.testing.assert_allclose(numpy(graph(loss)(y_true, y_pred)), numpy(loss(y_true, y_pred)), rtol=1e-6)


def test_gradient_is_finite_and_nonzero(case):
    y_true, y_pred = draw(case)
    loss = case.make()
    value, grad = value_and_grad(lambda p: loss(y_true, p), y_pred)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert np.any(grad != 0)


def test_extreme_inputs_stay_finite(case):
    """Logits of +-1e4, or probabilities of exactly 0 and 1 where the loss takes probabilities."""
    y_true, y_pred = draw(case, seed=4)
    extreme = np.where(np.arange(y_pred.size).reshape(y_pred.shape) % 2, 1e4, -1e4).astype("float32")
    if case.activation is not None:
        extreme = (extreme > 0).astype("float32")
    loss = case.make()
    value, grad = value_and_grad(lambda p: loss(y_true, p), extreme)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_stays_finite_and_close(case, dtype):
    y_true, y_pred = draw(case)
    full = numpy(case.make()(y_true, y_pred))
    half = case.make(dtype=dtype)
    assert half.get_config()["dtype"] == dtype
    value, grad = value_and_grad(lambda p: half(y_true, p), y_pred.astype("float32"))
    assert np.isfinite(value.astype(np.float32)) and np.all(np.isfinite(grad.astype(np.float32)))
    rtol = 0.05 if dtype == "bfloat16" else (case.half_rtol or 0.01)
    np.testing.assert_allclose(value.astype(np.float32), full, rtol=rtol)


def test_a_nan_prediction_is_not_hidden(case):
    """One NaN entry of y_pred gives a NaN loss, as Keras' own losses do, never a plausible finite value
    that a diverged model could be selected by. (An infinite logit is a legitimate limit: a finite loss.)"""
    y_true, y_pred = draw(case)
    y_pred = y_pred.copy()
    y_pred.reshape(-1)[1] = np.nan
    value = float(numpy(case.make()(y_true, y_pred)))
    assert np.isnan(value), f"{case}: y_pred with a NaN gave {value}"
