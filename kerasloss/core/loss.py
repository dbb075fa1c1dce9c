"""The base class every kerasloss loss derives from: a registered, serializable wrapper around one
pure loss function, and the declaration of what each loss takes (`INPUTS`).

A loss here is two things: a pure function returning one loss per sample, and a thin
`keras.losses.Loss` subclass that validates and stores the function's hyperparameters. Reduction,
`sample_weight`, masking and dtype conversion stay with Keras' own `Loss.__call__`.
"""

import inspect

import keras
from keras import ops

from kerasloss.core import keras_private
from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import default_of
from kerasloss.core.inputs import check_host_ids

__all__ = ["Loss"]

# What a loss takes, declared on its class as `inputs` (read by the callbacks, the sweep harness and the
# loss selector instead of lists of names):
INPUTS = {
    "targets": "y_true has y_pred's shape (regression targets, probabilities, one-hot or 0/1 labels)",
    "class_ids": "y_true holds integer class ids, y_pred one score per class",
    "embeddings": "y_true holds integer class ids, y_pred one embedding per example (batch, dim)",
    "views": "y_pred holds several views of each example (batch, views, dim); y_true is ignored or class ids",
    "pairs": "y_true says whether a pair is similar, y_pred holds its two embeddings (batch, 2, dim)",
    "predicted_views": "y_pred holds each of two views' predictor output and projection (batch, 2, 2, dim)",
    "teacher_logits": "y_true holds a teacher's logits, y_pred the student's, of the same shape",
    "cosines": "y_true holds integer class ids, y_pred the class cosines of kerasloss.CosineProxies",
}


class Loss(keras.losses.Loss):
    """Base class: a registered, serializable wrapper around one pure loss function.

    Subclasses set `function` (the per-sample loss, declared with `@hyperparameters`) and pass their
    hyperparameters to `__init__` as keywords, unchecked: the function's declared checks run here.
    `get_config()` is exactly the constructor's arguments.
    """

    function = None
    inputs = None  # what the loss takes: one of INPUTS' keys, declared by every registered loss
    labels_are_ids = False  # y_true holds integer class ids: never cast to the (float) loss dtype

    def __init__(self, *, name, reduction="sum_over_batch_size", dtype=None, **hyperparameters):
        _check_dtype(dtype)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        function = type(self).function
        for old, new in getattr(function, "renamed", {}).items():
            # The class passes the new name at its default along with the former one: the former is the
            # one given (a config saved before the rename). An explicit default is indistinguishable.
            if hyperparameters.get(old) is not None and hyperparameters.get(new) == default_of(function, new):
                del hyperparameters[new]
        self._set_checked(hyperparameters)

    def update_hyperparameters(self, **values):
        """Replace some hyperparameters, checked as at construction (`get_config()` follows).

        A compiled step (`model.fit`'s, under `tf.function`, `jax.jit` or `torch.compile`) has read the old
        values as constants when it was traced: rebuild the train and test steps
        (`model.make_train_function(force=True)`, `model.make_test_function(force=True)`), as
        `kerasloss.DeferredReweighting` does between epochs."""
        unknown = sorted(set(values) - set(self._hyperparameters))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no hyperparameter {unknown[0]!r}")
        self._set_checked({**self._hyperparameters, **values})

    def _set_checked(self, hyperparameters):
        """Run the function's declared checks and the dtype's range check, then keep the values (as
        attributes too); a refused value changes nothing."""
        check = getattr(type(self).function, "check", None)
        if check is not None:
            hyperparameters = check(**hyperparameters)
        _check_range(hyperparameters, self._dtype_policy.compute_dtype)
        self._hyperparameters = hyperparameters
        for key, value in hyperparameters.items():
            setattr(self, key, value)

    def call(self, y_true, y_pred, reference=None):
        function = type(self).function
        extra = {} if reference is None else {"reference": self._checked_reference(reference)}
        return getattr(function, "unchecked", function)(y_true, y_pred, **self._hyperparameters, **extra)

    @property
    def takes_reference(self) -> bool:
        """Whether this loss compares the batch with a reference set (`loss(y, x, reference=(emb, labels))`)."""
        return "reference" in getattr(type(self).function, "passed_through", ())

    def _checked_reference(self, reference):
        if not self.takes_reference:
            raise ValueError(f"{type(self).__name__} does not compare the batch with a reference set; received one.")
        return reference

    def __call__(self, y_true, y_pred, sample_weight=None, reference=None):
        """Keras' `Loss.__call__`, except that class ids keep their own dtype. Keras converts `y_true` to
        the loss dtype: in bfloat16 (8 significant bits) class 257 becomes 256, in float16 every id past
        2048 rounds. Masks, reduction and `sample_weight` are Keras' own (its `reduce_weighted_values`).

        The pairwise losses with class labels also take `reference=(embeddings, labels)` (optionally
        `(embeddings, labels, valid)`, a boolean mask of the entries to use): each anchor of the batch is
        then compared with the batch and the reference set (pytorch-metric-learning's `ref_emb` replaces the
        batch instead), as
        `kerasloss.CrossBatchMemory` does with its memory.

        Class ids are checked while still host values: JAX without `jax_enable_x64` converts int64 ids to
        int32, wrapping 2**32 to 0, so ids it cannot hold raise a ValueError instead (`inputs.check_host_ids`).
        In `model.fit` on JAX without x64, Keras converts `y` before the loss sees it: see `kerasloss.core.inputs`.

        A float16 or bfloat16 loss reduces in float32 and returns its dtype: the mean of per-example values
        that each fit float16 is finite, where Keras' float16 sum of them can overflow to inf."""
        half = keras.backend.standardize_dtype(self.dtype) in ("float16", "bfloat16")
        if not self.labels_are_ids and reference is None and not half:
            return super().__call__(y_true, y_pred, sample_weight)
        in_mask = keras_private.get_keras_mask(y_pred)
        with keras.name_scope(self.name):
            y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
            if self.labels_are_ids:
                check_host_ids(y_true, type(self).__name__)  # JAX without x64 would wrap 2**32 to 0 here
            y_true = ops.convert_to_tensor(y_true, dtype=None if self.labels_are_ids else self.dtype)
            losses = self.call(y_true, y_pred, reference=reference)
            out_mask = keras_private.get_keras_mask(losses)
            masks = [m for m in (in_mask, out_mask) if m is not None]
            mask = (masks[0] & masks[1]) if len(masks) == 2 else (masks[0] if masks else None)
            reduced = keras_private.reduce_weighted_values(
                ops.cast(losses, "float32") if half else losses,
                sample_weight=sample_weight,
                mask=mask,
                reduction=self.reduction,
                dtype="float32" if half else self.dtype,
            )
            return ops.cast(reduced, self.dtype) if half else reduced

    @classmethod
    def from_config(cls, config):
        """The constructor's arguments back; a key the class does not take is named (a `.keras` file edited
        by hand, or written by another version), not a bare TypeError."""
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        unknown = sorted(set(config) - accepted)
        if unknown:
            raise ValueError(
                f"{cls.__name__} config has the key(s) {unknown}, which it does not take. Its arguments: "
                f"{', '.join(sorted(accepted))}"
            )
        return cls(**config)

    def get_config(self):
        config = super().get_config()
        # Keras' Loss.get_config drops dtype; keep it so a float16 loss stays float16 after a round trip.
        config["dtype"] = self._dtype_policy.name
        config.update({key: _to_json(value) for key, value in self._hyperparameters.items()})
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters.items())
        return f"{type(self).__name__}({args})"


_LARGEST_FINITE = {
    "float16": 65504.0,
    "bfloat16": 3.3895313892515355e38,
    "float32": 3.4028234663852886e38,
    "float64": 1.7976931348623157e308,
}
# Divisors: the loss divides by them, so a tiny one overflows as surely as a huge multiplier.
_DIVISORS = ("temperature", "delta")
# Counted, not computed with: the losses use their logarithms (a million examples of a class is fine in float16).
_COUNTS = ("class_counts",)


def _check_dtype(dtype):
    """A loss computes in floating point: `dtype="int32"` is refused here, not when the loss is called."""
    if dtype is None:
        return
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", str(dtype))
    try:
        compute = keras.dtype_policies.get(name).compute_dtype
    except (ValueError, TypeError):
        compute = None
    if compute not in ("float16", "bfloat16", "float32", "float64"):
        raise invalid_argument(
            "dtype", "a floating dtype or policy (float32, float16, bfloat16, mixed_float16, ...)", dtype
        )


def _check_range(hyperparameters, compute_dtype):
    """Each number must keep the loss's arithmetic inside the compute dtype: |value| at most the square
    root of the dtype's largest finite number (a value times itself, as in T^2 or delta^2, still fits),
    and a divisor at least the reciprocal of that number (an O(1) value divided by it still fits).
    float32: 1.8e19 and 2.9e-39; float16: 255.9 and 1.5e-5."""
    largest = _LARGEST_FINITE[compute_dtype]
    limit = largest**0.5
    for argument, value in hyperparameters.items():
        if argument in _COUNTS:
            continue
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, float):
                continue
            if abs(v) > limit:
                raise invalid_argument(
                    argument, f"a value of magnitude at most {limit:.3g} ({compute_dtype} arithmetic)", value
                )
            if argument in _DIVISORS and 0 < v < 1 / largest:
                raise invalid_argument(
                    argument, f"a value of at least {1 / largest:.3g} ({compute_dtype} arithmetic)", value
                )


def _to_json(value):
    return list(value) if isinstance(value, tuple) else value
