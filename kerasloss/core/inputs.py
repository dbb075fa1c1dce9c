"""Checks on `y_true` / `y_pred`: matching shapes, and integer class ids within range.

Shape checks use static shapes (known when a model is built), so they raise a `ValueError` before any
computation instead of letting two tensors silently broadcast. Class ids are data, so they are checked
where the values can be seen: eagerly (TensorFlow, JAX and PyTorch) they raise a `ValueError`; inside
a TensorFlow graph (`tf.function`, `model.fit`) an assertion raises `InvalidArgumentError`. Under XLA
(`jit_compile=True`, `jax.jit`) no check can raise, so an out-of-range id yields a NaN loss for that
sample instead of a silently clamped, plausible-looking value.

Class ids are never wrapped into a smaller integer type. A sparse loss indexes y_pred's class axis with
int32 ids, so an id that int32 cannot hold (an int64 hash such as 2**32) is out of range like any other,
checked in its own dtype before the cast. The pairwise losses only compare ids for equality, so they
keep them as int64, exact for any integer id (uint64 ids past 2**63 map one-to-one onto negative int64).
JAX without `jax_enable_x64` holds no 64-bit integers and would wrap 2**32 to 0 as it converts the labels,
before any loss sees them: labels it cannot hold exactly are refused while they are still NumPy values
(a loss called on them, `CrossBatchMemory.fit`). Inside `model.fit` / `evaluate` or `jax.jit` on JAX without
x64 the data adapter or the trace has converted them already: there ids past int32 are wrapped unseen, so
map them to 0..n-1 (`np.unique(y, return_inverse=True)[1]`) or enable x64.
"""

import keras
import numpy as np  # host-side checks on labels still in NumPy (what JAX would wrap); no loss math
from keras import ops

from kerasloss.core import keras_private


def _shape(x):
    return tuple(x.shape)


def _compatible(shape_a, shape_b):
    return len(shape_a) == len(shape_b) and all(
        a is None or b is None or a == b for a, b in zip(shape_a, shape_b, strict=True)
    )


def align_ranks(y_true, y_pred):
    """Keras' rule: when ranks differ by one and the extra axis has size 1, drop it (or add it to a
    rank-1 partner). (batch,) labels against (batch, 1) predictions is the common case."""
    rank_true, rank_pred = len(y_true.shape), len(y_pred.shape)
    if rank_true == rank_pred + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif rank_pred == rank_true + 1 and y_pred.shape[-1] == 1:
        if rank_true == 1:
            y_true = ops.expand_dims(y_true, axis=-1)
        else:
            y_pred = ops.squeeze(y_pred, axis=-1)
    return y_true, y_pred


def same_shape(y_true, y_pred, loss_name):
    """Align ranks, then insist on equal shapes: a (32, 3) target never broadcasts against (32, 1)."""
    passed = _shape(y_true), _shape(y_pred)  # the error shows these, not the rank-aligned ones
    y_true, y_pred = align_ranks(y_true, y_pred)
    if not _compatible(_shape(y_true), _shape(y_pred)):
        raise ValueError(
            f"{loss_name}: y_true and y_pred must have the same shape. "
            f"Received: y_true.shape={passed[0]}, y_pred.shape={passed[1]}"
        )
    return ops.cast(y_true, y_pred.dtype), y_pred


def is_empty_batch(y_pred):
    """Whether y_pred's batch axis is known to be 0 (always known eagerly and under `jax.jit`)."""
    return y_pred.shape[0] == 0


def empty_batch_loss(y_pred):
    """The per-example loss of an empty batch: shape (0,), y_pred's dtype, a zero gradient.

    The losses that compare examples with each other (NT-Xent, InfoNCE, SupCon, triplet) return this
    when the batch is empty, rather than reducing over an axis of length 0 (which NumPy, JAX, PyTorch
    and TensorFlow's eager checks refuse, while a TensorFlow graph yields an empty result). Keras'
    reduction passes a (0,) loss through unchanged, as it does for its own losses, so an empty batch
    gives an empty result eagerly, in `tf.function` and under XLA alike.
    """
    return ops.sum(y_pred, axis=tuple(range(1, len(y_pred.shape)))) * 0


def example_labels(y_true, y_pred, loss_name):
    """The pairwise losses' labels: one integer class id per example, shape (batch,) (or (batch, 1)),
    as `label_dtype()` (int64), for y_pred of any rank with the examples on axis 0. The error shows the
    shapes as passed."""
    check_host_ids(y_true, loss_name)
    labels = ops.squeeze(y_true, axis=-1) if len(y_true.shape) == 2 and y_true.shape[-1] == 1 else y_true
    if len(labels.shape) != 1 or not _compatible(_shape(labels), _shape(y_pred)[:1]):
        hint = " One-hot labels? Pass their argmax." if len(y_true.shape) == 2 else ""
        raise ValueError(
            f"{loss_name} expects y_true to hold one integer class id per example, of shape (batch,). "
            f"Received: y_true.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}.{hint}"
        )
    return _as_labels(labels, loss_name)


def label_dtype():
    """The dtype the pairwise losses compare labels in: int64, which holds any integer id exactly;
    int32 on JAX without `jax_enable_x64`, which has no int64."""
    if keras.backend.backend() == "jax":
        import jax  # whether this JAX holds 64-bit integers

        return "int64" if jax.dtypes.canonicalize_dtype(np.int64) == np.int64 else "int32"
    return "int64"


def check_host_ids(y_true, loss_name):
    """On JAX without `jax_enable_x64`, refuse host labels (NumPy, Python numbers) that its conversion
    would change: int64 2**32 becomes int32 0, float64 2**24 + 1 becomes float32 2**24, silently. Checked
    here, before conversion, as afterwards no loss can tell. Fractional floats are left to the losses."""
    if keras.backend.backend() != "jax" or not isinstance(y_true, (np.ndarray, np.generic, int, float, list, tuple)):
        return
    import jax  # the dtype JAX will hold these labels in

    values = np.asarray(y_true)
    if values.dtype.kind not in "iuf" or jax.dtypes.canonicalize_dtype(values.dtype) == values.dtype:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        held = values.astype(jax.dtypes.canonicalize_dtype(values.dtype))
        changed = held != values
        if values.dtype.kind == "f":
            changed &= np.isfinite(values) & (np.floor(values) == values)
    if changed.any():
        raise ValueError(
            f"{loss_name}: JAX without `jax_enable_x64` holds {values.dtype} labels as {held.dtype}, which "
            f"would read class id {values[changed].flat[0]} as {held[changed].flat[0]}. Map the ids to 0..n-1 "
            "(np.unique(y, return_inverse=True)) or enable 64-bit JAX "
            "(jax.config.update('jax_enable_x64', True)). Received: "
            f"{values[changed][:8].tolist()}"
        )


def reference_set(reference, y_pred, loss_name):
    """A pairwise loss's reference set as (embeddings (M, dim), labels (M,) as `example_labels` returns
    them, valid (M,) bool):
    `reference` is `(embeddings, labels)` or `(embeddings, labels, valid)`; the embeddings must have
    y_pred's dimension and y_pred's dtype (they are cast to it)."""
    if not isinstance(reference, (tuple, list)) or len(reference) not in (2, 3):
        raise ValueError(
            f"{loss_name}: reference must be (embeddings, labels) or (embeddings, labels, valid). "
            f"Received: {type(reference).__name__}"
        )
    embeddings = ops.cast(ops.convert_to_tensor(reference[0]), y_pred.dtype)
    check_host_ids(reference[1], f"{loss_name} (reference)")
    labels = ops.convert_to_tensor(reference[1])
    if len(embeddings.shape) != 2 or not _compatible(_shape(embeddings)[1:], _shape(y_pred)[-1:]):
        raise ValueError(
            f"{loss_name}: reference embeddings must be (M, dim) with the batch's dim. Received: "
            f"reference shape {_shape(embeddings)}, y_pred.shape={_shape(y_pred)}"
        )
    labels = example_labels(labels, embeddings, f"{loss_name} (reference)")
    if len(reference) == 3:
        valid = ops.convert_to_tensor(reference[2])
        if len(valid.shape) != 1 or not _compatible(_shape(valid), _shape(embeddings)[:1]):
            raise ValueError(
                f"{loss_name}: the reference mask must be (M,). Received: {_shape(valid)} for "
                f"M = {_shape(embeddings)[0]}"
            )
        valid = ops.cast(valid, "bool")
    else:
        valid = ops.ones(ops.shape(labels), dtype="bool")
    return embeddings, labels, valid


def sparse_ids(y_true, y_pred, loss_name):
    """Integer class ids of shape y_pred.shape[:-1] (a trailing axis of 1 is dropped), as int32; an id
    int32 cannot hold is out of range (see `valid_class_ids`), never wrapped onto a class."""
    check_host_ids(y_true, loss_name)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    if not _compatible(_shape(y_true), _shape(y_pred)[:-1]):
        raise ValueError(
            f"{loss_name}: y_true must hold one integer class id per row of y_pred, of shape "
            f"y_pred.shape[:-1]. Received: y_true.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
        )
    classes = y_pred.shape[-1]
    limit = _range_message(classes, loss_name) if classes is not None else f"{loss_name}: class ids must fit int32"
    return _as_class_ids(y_true, loss_name, limit)


def _as_class_ids(y_true, loss_name, limit):
    """Labels as int32 class ids, never through a float dtype that would round them nor wrapped: an id
    int32 cannot hold raises `limit`."""
    y_true = ops.convert_to_tensor(y_true)
    if _is_floating(y_true):
        return _whole_ids(y_true, "int32", loss_name, limit)
    if keras.backend.standardize_dtype(y_true.dtype) not in ("int64", "uint32", "uint64"):
        return ops.cast(y_true, "int32")
    # Checked in a signed copy (int64; int32 on JAX without x64, whose only wide type is uint32): an
    # unsigned id past the signed range turns negative there, and so fails too.
    wide = ops.cast(y_true, label_dtype())
    lowest = 0 if "uint" in str(y_true.dtype) else -(2**31)
    fits = ops.logical_and(wide >= lowest, wide <= 2**31 - 1)
    return _where_valid(y_true, fits, "int32", limit)


def _as_labels(y_true, loss_name):
    """Labels as `label_dtype()`, for equality only: an integer id is cast, exactly or (uint64 past 2**63)
    one-to-one onto negative int64; a float one must be whole and fit."""
    y_true = ops.convert_to_tensor(y_true)
    dtype = label_dtype()
    if not _is_floating(y_true):
        return ops.cast(y_true, dtype)
    limit = f"{loss_name}: class ids must fit {dtype}"
    return _whole_ids(y_true, dtype, loss_name, limit)


def _whole_ids(y_true, dtype, loss_name, limit):
    """Float labels as integer ids of `dtype`: exact in their own dtype (the loss never casts them), but a
    fractional or non-finite one is no class id, nor is a whole one that `dtype` cannot hold."""
    whole = ops.logical_and(ops.isfinite(y_true), ops.equal(ops.floor(y_true), y_true))
    _raise_where_false(
        y_true, whole, f"{loss_name}: class ids must be whole numbers; received labels with a fractional part"
    )
    # 2**31 and 2**63 are exact in every float dtype (float16 overflows to inf, beyond all its values).
    bound = 2.0 ** (np.iinfo(dtype).bits - 1)
    return _where_valid(y_true, ops.logical_and(whole, ops.logical_and(y_true >= -bound, y_true < bound)), dtype, limit)


def _where_valid(y_true, valid, dtype, limit):
    """y_true as `dtype` where valid; elsewhere raise `limit` (eagerly, in TensorFlow graphs), or -1 under
    XLA, which the losses' range check turns into a NaN loss for that sample."""
    _raise_where_false(y_true, valid, limit)
    return ops.where(valid, ops.cast(ops.where(valid, y_true, 0), dtype), -1)


def class_axis_last(y_pred, axis, loss_name, y_true=None):
    """Move `axis` (the class / label axis, Keras' `axis=` argument) of y_pred, and of a dense y_true of
    the same rank, to the end, where the losses reduce; -1 and the last axis cost nothing."""
    rank = len(y_pred.shape)
    if not -rank <= axis < rank:
        raise ValueError(f"{loss_name}: axis={axis} is out of range for y_pred of shape {_shape(y_pred)}")
    axis = axis % rank
    if axis == rank - 1:
        return y_pred if y_true is None else (y_true, y_pred)
    moved = ops.moveaxis(y_pred, axis, -1)
    if y_true is None:
        return moved
    return ops.moveaxis(y_true, axis, -1) if len(y_true.shape) == rank else y_true, moved


def sparse_class_axis_last(y_true, y_pred, axis, loss_name):
    """The sparse form: y_true holds ids of shape y_pred.shape without `axis` (or with it of size 1,
    squeezed as Keras does); y_pred's class axis goes to the end."""
    rank = len(y_pred.shape)
    if -rank <= axis < rank and axis % rank != rank - 1 and len(y_true.shape) == rank and y_true.shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    return y_true, class_axis_last(y_pred, axis, loss_name)


def ignored_entries(ids, ignore_class, labels):
    """(ids with the ignored ones replaced by class 0, the mask of entries kept); (ids, None) without
    an ignore_class. Ignored entries are found in the labels as given, not in the ids: a float label
    that is no class id (1.5) becomes id -1 under XLA, which must stay an error (NaN), not be ignored
    as ignore_class=-1."""
    if ignore_class is None:
        return ids, None
    kept = ops.not_equal(ops.reshape(labels, ops.shape(ids)), ignore_class)
    return ops.where(kept, ids, 0), kept


def drop_ignored(losses, kept):
    """Keras' ignore_class: ignored entries are 0 and masked (`keras_private.set_keras_mask`), so
    that Keras' reduction leaves them out of the mean ("sum_over_batch_size" divides by the entries
    kept; `sample_weight` multiplies the mask)."""
    if kept is None:
        return losses
    losses = ops.where(kept, losses, 0.0)
    keras_private.set_keras_mask(losses, kept)
    return losses


def _is_floating(x):
    return "float" in str(x.dtype)


def check_last_axis(values, y_pred, argument, loss_name):
    """A per-class / per-label hyperparameter must have one entry per entry of y_pred's last axis."""
    size = y_pred.shape[-1]
    if size is not None and len(values) != size:
        raise ValueError(
            f"{loss_name}: `{argument}` has {len(values)} entries but y_pred has {size} "
            f"classes/labels on its last axis. Received: {argument}={list(values)}"
        )


def valid_class_ids(ids, num_classes, loss_name):
    """Raise where the ids can be seen; return a boolean mask of in-range ids for the XLA case."""
    in_range = ops.logical_and(ids >= 0, ids < num_classes)
    _raise_if_out_of_range(ids, in_range, num_classes, loss_name)
    return in_range


def _raise_if_out_of_range(ids, in_range, num_classes, loss_name):
    _raise_where_false(ids, in_range, _range_message(num_classes, loss_name))


def _range_message(num_classes, loss_name):
    return f"{loss_name}: class ids must lie in [0, {num_classes - 1}] (y_pred has {num_classes} classes)"


def _raise_where_false(ids, in_range, message):
    """Raise `message` (with the offending values) where values can be seen: eagerly, or through a
    TensorFlow graph assertion; a traced JAX value cannot raise."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # the graph-mode assertion is TensorFlow's own

        if tf.executing_eagerly():
            _raise_concrete(ids, in_range, message)
        else:
            # Ignored under XLA (which cannot raise); there the NaN from `in_range` reports it.
            tf.debugging.Assert(tf.reduce_all(in_range), [message, "received ids", ids], summarize=8)
        return
    if backend == "jax":
        import jax  # a tracer under jax.jit has no values to check

        if isinstance(ids, jax.core.Tracer):
            return
    _raise_concrete(ids, in_range, message)


def _raise_concrete(ids, in_range, message):
    if not bool(ops.convert_to_numpy(ops.all(in_range))):
        bad = ops.convert_to_numpy(ids)[~ops.convert_to_numpy(in_range)]
        raise ValueError(f"{message}. Received: {bad[:8].tolist()}")
