"""Property test of every loss (hypothesis): random batch sizes (0 included), widths, compute dtypes and
input scales, from gentle to extreme. For each drawn input:

- the per-example loss has shape (batch,);
- the compiled function (a `tf.function` graph on TensorFlow, `jax.jit` on JAX) equals eager;
- the value is finite wherever the exact value (the same loss in float64) fits the compute dtype with
  room to spare, and its gradient is finite wherever the value is.

The seed is fixed (`derandomize=True`) and the example budget small, so the run is reproducible and
short (TensorFlow about 15 s, PyTorch 3 s, JAX 40 s on the 2-core CI machine);
`KERASLOSS_PROPERTY_EXAMPLES=200 pytest tests/test_properties.py` digs deeper. JAX without
`jax_enable_x64` has no float64: there the "exact" value is float32's, still enough to tell whether a
value fits float16.
"""

import functools
import os

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.backend import BACKEND, numpy, value_and_grad
from tests.cases import BY_ID, CASES

# JAX compiles every operation for every new shape even eagerly (about a second per example here), so it
# draws fewer examples, from a grid of shapes; TensorFlow and PyTorch take milliseconds per example.
EXAMPLES = int(os.environ.get("KERASLOSS_PROPERTY_EXAMPLES", "2" if BACKEND == "jax" else "8"))
BATCHES = st.sampled_from([0, 1, 3, 9]) if BACKEND == "jax" else st.integers(0, 9)
WIDTHS = st.sampled_from([2, 5]) if BACKEND == "jax" else st.integers(2, 8)
DTYPES = ["float32", "float16", "bfloat16"]
# A logit, embedding or regression output of 1e4 is the standards' extreme; 1e-3 probes underflow.
SCALES = [1e-3, 1.0, 30.0, 1e4]
# A graph may fuse or reorder what eager rounds step by step: values agree to a few ulps relative to
# themselves, and, near zero, to a few ulps of the inputs' scale (log1p(exp(-30)) beside terms of 30).
RTOL = {"float32": 1e-5, "float16": 1e-2, "bfloat16": 5e-2}
EPSILON = {"float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}
LARGEST = {"float32": float(np.finfo(np.float32).max), "float16": 65504.0, "bfloat16": 3.3895e38}


def _exact_dtype():
    if BACKEND == "jax":
        import jax

        return "float64" if jax.config.jax_enable_x64 else "float32"
    return "float64"


EXACT = _exact_dtype()

PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: CI sees the same examples every run
    database=None,
    deadline=None,  # the first call of each shape traces a graph
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@functools.cache
def compiled_loss(case_id, dtype):
    """The backend's compiled form of the per-example loss; None where the backend has none (PyTorch)."""
    loss = BY_ID[case_id].make(reduction=None, dtype=dtype)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        # One graph per rank and dtype: after the second shape, tf.function traces with unknown sizes,
        # so dynamic batch sizes (0 included) are exercised as well.
        return tf.function(loss, reduce_retracing=True)
    if BACKEND == "jax":
        import jax

        return jax.jit(loss)
    return None


def value_and_gradient_of_sum(loss, y_true, y_pred):
    """The summed loss and its gradient; on JAX compiled, as training computes it (JAX's op-by-op
    gradient compiles every primitive for every new shape: seconds per example)."""

    def total(p):
        return keras.ops.sum(loss(y_true, p))

    if BACKEND == "jax":
        import jax

        value, grad = jax.jit(jax.value_and_grad(total))(y_pred)
        return numpy(value), numpy(grad)
    return value_and_grad(total, y_pred)


def extreme(case, rng, y_true, y_pred, scale, dtype):
    """Scale the raw outputs (logits, embeddings, regression outputs; teacher logits too) by `scale`,
    within a quarter of the compute dtype's range (a float16 logit of -7e4 is -inf before the loss sees
    it); where the loss takes probabilities, scale 1e4 means exact 0s and 1s instead."""
    if case.activation is None:
        limit = LARGEST[dtype] / 4
        if case.id == "distillation":
            y_true = np.clip(y_true * scale, -limit, limit)
        return y_true, np.clip(y_pred * scale, -limit, limit).astype("float32")
    if scale < 1e4:
        return y_true, y_pred
    saturated = rng.random((*y_pred.shape[:-1], 1)) < 0.5  # half the rows exactly 0/1 (or one-hot)
    if case.activation == "sigmoid":
        hard = np.round(y_pred)
    else:
        hard = np.eye(y_pred.shape[-1], dtype="float32")[np.argmax(y_pred, axis=-1)]
    return y_true, np.where(saturated, hard, y_pred).astype("float32")


def fixed_width(case):
    """A per-class hyperparameter (a vector alpha) fixes the number of classes."""
    sizes = {len(value) for value in case.kwargs.values() if isinstance(value, list | tuple)}
    return sizes.pop() if sizes else None


def representable(exact, dtype):
    """Whether every exact per-example value fits `dtype` with room for the intermediate sums."""
    return bool(np.all(np.isfinite(exact)) and np.all(np.abs(exact) < LARGEST[dtype] / 16))


@pytest.mark.parametrize("case", CASES, ids=str)
@PROPERTY_SETTINGS
@given(
    batch=BATCHES,
    width=WIDTHS,
    dtype=st.sampled_from(DTYPES),
    scale=st.sampled_from(SCALES),
    seed=st.integers(0, 2**32 - 1),
)
def test_loss_properties(case, batch, width, dtype, scale, seed):
    rng = np.random.default_rng(seed)
    width = fixed_width(case) or width
    y_true, y_pred = extreme(case, rng, *case.data(rng, batch=batch, width=width), scale, dtype)
    loss = case.make(reduction=None, dtype=dtype)

    eager = numpy(loss(y_true, y_pred)).astype(np.float64)
    assert eager.shape == (batch,), f"per-example loss of shape {eager.shape} for a batch of {batch}"

    compiled = compiled_loss(case.id, dtype)
    if compiled is not None:
        atol = 8 * EPSILON[dtype] * max(scale, 1.0)
        np.testing.assert_allclose(numpy(compiled(y_true, y_pred)), eager, rtol=RTOL[dtype], atol=atol)

    exact = numpy(case.make(reduction=None, dtype=EXACT)(y_true, y_pred))
    if representable(exact, dtype):
        assert np.all(np.isfinite(eager)), f"{dtype} loss {eager} where the float64 value is {exact}"

    value, grad = value_and_gradient_of_sum(loss, y_true, y_pred)
    assert grad.shape == y_pred.shape
    if np.isfinite(value.astype(np.float64)):
        assert np.all(np.isfinite(grad.astype(np.float64))), f"a non-finite gradient where the {dtype} loss is {value}"
