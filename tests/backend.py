"""The few things a test needs that Keras does not abstract over backends: gradients and compilation."""

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()


def numpy(x):
    """As NumPy; bfloat16 goes through float32 (NumPy has no bfloat16 of its own)."""
    if keras.backend.standardize_dtype(getattr(x, "dtype", "float32")) == "bfloat16":
        x = keras.ops.cast(x, "float32")
    return np.asarray(keras.ops.convert_to_numpy(x))


def value_and_grad(fn, x):
    """(fn(x), d fn / dx) as NumPy, for a scalar-valued fn of one tensor."""
    x = np.asarray(x)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x)
        return numpy(value), numpy(tape.gradient(value, x, unconnected_gradients=tf.UnconnectedGradients.ZERO))
    if BACKEND == "jax":
        import jax

        value, grad = jax.value_and_grad(fn)(jax.numpy.asarray(x))
        return numpy(value), numpy(grad)
    if BACKEND == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        value = fn(x)
        if not value.requires_grad:  # no path from x to the value: the gradient is zero
            return numpy(value.detach()), np.zeros(x.shape, np.float32)
        value.backward()
        return numpy(value.detach()), numpy(x.grad)
    raise NotImplementedError(BACKEND)


def grad(fn, x):
    return value_and_grad(fn, x)[1]


def compiled(fn):
    """fn compiled by the backend's XLA path: tf.function(jit_compile=True) or jax.jit."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    pytest.skip(f"no XLA compilation on the {BACKEND} backend")


def graph(fn):
    """fn traced into a TensorFlow graph without XLA (TensorFlow only)."""
    if BACKEND != "tensorflow":
        pytest.skip("tf.function graphs exist on the TensorFlow backend only")
    import tensorflow as tf

    return tf.function(fn)


def gpu_visible():
    """Whether the active backend places work on a GPU by default."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if BACKEND == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if BACKEND == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def on_gpu(x):
    """Whether tensor x lives on a GPU."""
    if BACKEND == "tensorflow":
        return "GPU" in x.device
    if BACKEND == "jax":
        return all(d.platform == "gpu" for d in x.devices())
    if BACKEND == "torch":
        return x.device.type == "cuda"
    return False
