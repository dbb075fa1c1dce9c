"""Checks on `y_true` / `y_pred`: matching shapes, and integer class ids within range.

Shape checks use static shapes (known when a model is built), so they raise a `ValueError` before any
computation instead of letting two tensors silently broadcast. Class ids are data, so they are checked
where the values can be seen: eagerly (TensorFlow, JAX and PyTorch) they raise a `ValueError`; inside
a TensorFlow graph (`tf.function`, `model.fit`) an assertion raises `InvalidArgumentError`. Under XLA
(`jit_compile=True`, `jax.jit`) no check can raise, so an out-of-range id yields a NaN loss for that
sample instead of a silently clamped, plausible-looking value.
"""

import keras
from keras import ops


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
    as int32, for y_pred of any rank with the examples on axis 0. The error shows the shapes as passed."""
    labels = ops.squeeze(y_true, axis=-1) if len(y_true.shape) == 2 and y_true.shape[-1] == 1 else y_true
    if len(labels.shape) != 1 or not _compatible(_shape(labels), _shape(y_pred)[:1]):
        hint = " One-hot labels? Pass their argmax." if len(y_true.shape) == 2 else ""
        raise ValueError(
            f"{loss_name} expects y_true to hold one integer class id per example, of shape (batch,). "
            f"Received: y_true.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}.{hint}"
        )
    return _as_class_ids(labels, loss_name)


def reference_set(reference, y_pred, loss_name):
    """A pairwise loss's reference set as (embeddings (M, dim), int32 labels (M,), valid (M,) bool):
    `reference` is `(embeddings, labels)` or `(embeddings, labels, valid)`; the embeddings must have
    y_pred's dimension and y_pred's dtype (they are cast to it)."""
    if not isinstance(reference, (tuple, list)) or len(reference) not in (2, 3):
        raise ValueError(
            f"{loss_name}: reference must be (embeddings, labels) or (embeddings, labels, valid). "
            f"Received: {type(reference).__name__}"
        )
    embeddings = ops.cast(ops.convert_to_tensor(reference[0]), y_pred.dtype)
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
    """Integer class ids of shape y_pred.shape[:-1] (a trailing axis of 1 is dropped), as int32."""
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    if not _compatible(_shape(y_true), _shape(y_pred)[:-1]):
        raise ValueError(
            f"{loss_name}: y_true must hold one integer class id per row of y_pred, of shape "
            f"y_pred.shape[:-1]. Received: y_true.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
        )
    return _as_class_ids(y_true, loss_name)


def _as_class_ids(y_true, loss_name):
    """Labels as int32 class ids, never through a float dtype that would round them."""
    if not _is_floating(y_true):
        return ops.cast(y_true, "int32")
    # Float labels: exact in their own dtype (the loss never casts them), but a fractional or non-finite
    # one is no class id. Eagerly and in TensorFlow graphs it raises; under XLA it becomes -1, which the
    # losses' range check turns into a NaN loss for that sample.
    whole = ops.logical_and(ops.isfinite(y_true), ops.equal(ops.floor(y_true), y_true))
    _raise_where_false(
        y_true, whole, f"{loss_name}: class ids must be whole numbers; received labels with a fractional part"
    )
    return ops.where(whole, ops.cast(ops.where(whole, y_true, 0), "int32"), -1)


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
    """Keras' ignore_class: ignored entries are 0 and masked (`keras.src.backend.set_keras_mask`), so
    that Keras' reduction leaves them out of the mean ("sum_over_batch_size" divides by the entries
    kept; `sample_weight` multiplies the mask)."""
    if kept is None:
        return losses
    from keras.src.backend import set_keras_mask  # Keras 3 has no public form; its own losses use it

    losses = ops.where(kept, losses, 0.0)
    set_keras_mask(losses, kept)
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
    message = f"{loss_name}: class ids must lie in [0, {num_classes - 1}] (y_pred has {num_classes} classes)"
    _raise_where_false(ids, in_range, message)


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
