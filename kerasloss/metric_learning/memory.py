"""Cross-batch memory (Wang et al. 2020, "XBM"): the embeddings and labels of the last M training
examples, kept as non-trainable variables of a model so that `fit` updates them on every backend, and
handed to a pairwise loss as its reference set: each anchor of a batch of B sees B + M candidates, at
O(B (B + M)) memory on one device.

A `keras.losses.Loss` cannot hold this state (`fit` neither trains nor updates a loss's variables, and
on JAX a training step is a pure function of the model's variables), so it lives in `CrossBatchMemory`,
a `keras.Model` around the embedding network whose `compute_loss` passes the memory to the compiled
loss and then enqueues the batch. Keras' JAX trainer carries a non-trainable variable assigned inside
`compute_loss` out of the step (`stateless_compute_loss`); TensorFlow and PyTorch assign in place.
"""

import keras
from keras import ops

from kerasloss.core.errors import invalid_argument
from kerasloss.core.hyperparameters import integer
from kerasloss.core.inputs import check_host_ids, example_labels, label_dtype
from kerasloss.core.registry import PACKAGE

__all__ = ["CrossBatchMemory"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class CrossBatchMemory(keras.Model):
    """Trains an embedding network with a memory of past batches (XBM, Wang et al. 2020).

    Wraps `encoder` (inputs -> embeddings `(batch, dim)`) and keeps the last `memory_size` training
    embeddings and their labels, without gradient. In training, the compiled loss compares each anchor
    of the batch with the batch and with the filled part of the memory (its `reference=`), then the
    batch replaces the oldest entries (a ring buffer). Embeddings drift while a network trains, so the
    memory holds slightly stale ones; XBM's observation is that this drift is slow enough after the
    first epochs for the extra, harder pairs to help, most at small batches. Evaluation (`evaluate`,
    `validation_data`) computes the loss on the batch alone, without the memory, and leaves it as is.

    The loss must be a kerasloss pairwise loss that takes a reference set: `MultiSimilarity`,
    `SupervisedContrastive` (one view), `TripletLoss` or `SoftNearestNeighbor`; `compile(loss=...)`
    with anything else raises on the first training step, and `loss_weights` must be one number (or
    None). The wrapped encoder's own `losses` (e.g. regularizers) are added. At inference use the encoder
    (or this model: its output is the encoder's).

    One device: under a `tf.distribute` strategy with several replicas each replica would write its
    share of the batch over the same slots, so training there raises instead. A batch larger than the
    memory is refused: by `fit` when it knows the batch size (arrays with `batch_size`, 32 by default, or
    a dataset whose batch axis has a static size), else when the training step sees it (JAX and PyTorch
    always do). Where neither knows it (TensorFlow, a dataset batched without `drop_remainder`), a larger
    batch keeps its last `memory_size` rows.

    Args:
        encoder: A Keras model or layer from inputs to embeddings of shape `(batch, dim)`.
        memory_size: M, the number of past embeddings kept, an integer >= 1, at least the batch size.
            Defaults to `1024`.
        **kwargs: Other `keras.Model` arguments, e.g. `name`.

    Call arguments:
        inputs: The encoder's inputs; the output is the encoder's.

    Training data: `y` holds one integer class id per example, shape `(batch,)`. The memory keeps the
    labels as the pairwise losses compare them, as int64 (`memory_labels`), so any integer id, 2**32 or a
    64-bit hash, stays itself. JAX without `jax_enable_x64` has no int64: there the memory is int32, and
    `fit` refuses ids int32 cannot hold (JAX would wrap 2**32 to 0 as it converts them); map the ids to
    0..n-1 or enable 64-bit JAX.

    References:
        Wang, Zhang, Huang & Scott, "Cross-Batch Memory for Embedding Learning", CVPR 2020.
        https://arxiv.org/abs/1912.06798

    Example:

    >>> encoder = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4)])
    >>> model = kerasloss.CrossBatchMemory(encoder, memory_size=32)
    >>> model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
    >>> x, y = np.random.default_rng(0).normal(size=(64, 8)), np.arange(64) % 4
    >>> history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    >>> int(keras.ops.convert_to_numpy(model.memory_filled))  # 8 steps of 8 fill the 32 slots
    32
    """

    def __init__(self, encoder, memory_size=1024, **kwargs):
        super().__init__(**kwargs)
        memory_size = integer("memory_size", memory_size)
        if memory_size < 1:
            raise invalid_argument("memory_size", "an integer >= 1", memory_size)
        self.encoder = encoder
        self.memory_size = memory_size

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        dim = self.encoder.compute_output_shape(input_shape)[-1]
        if dim is None:
            raise ValueError("CrossBatchMemory needs the encoder's embedding dimension; build the encoder first.")
        size = self.memory_size
        self.memory_embeddings = self.add_weight(
            shape=(size, dim), initializer="zeros", dtype="float32", trainable=False, name="memory_embeddings"
        )
        self.memory_labels = self.add_weight(
            shape=(size,), initializer="zeros", dtype=label_dtype(), trainable=False, name="memory_labels"
        )
        self.memory_filled = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="filled"
        )
        self.memory_next = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="next")
        self.built = True

    def call(self, inputs, training=None):
        return self.encoder(inputs, training=training)

    def compile(self, *args, loss_weights=None, **kwargs):
        """Keras' `compile`; `loss_weights`, if given, is one number scaling the loss (the memory's loss
        is computed here, not by Keras' compiled loss, so a per-output structure has nothing to weigh)."""
        if loss_weights is not None and (isinstance(loss_weights, bool) or not isinstance(loss_weights, (int, float))):
            raise ValueError(
                f"CrossBatchMemory: loss_weights must be one number or None. Received: loss_weights={loss_weights!r}"
            )
        self._loss_weight = 1.0 if loss_weights is None else float(loss_weights)
        super().compile(*args, loss_weights=loss_weights, **kwargs)

    def compile_from_config(self, config):
        """Keras' own `compile_from_config` (which skips a model whose `compile` is overridden): a loaded
        `.keras` file comes back compiled, optimizer state included."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def fit(self, x=None, y=None, batch_size=None, *args, **kwargs):
        """`keras.Model.fit`, refusing first a batch size it knows to be larger than the memory (TensorFlow
        traces the training step with an unknown batch size, which the step itself cannot check), and ids
        JAX without x64 would wrap as it converts `y` (see `kerasloss.core.inputs.check_host_ids`)."""
        self._check_batch(_batch_size(x, batch_size))
        check_host_ids(y, "CrossBatchMemory")
        return super().fit(x, y, batch_size, *args, **kwargs)

    def _check_batch(self, batch):
        if batch is not None and batch > self.memory_size:
            raise ValueError(
                f"CrossBatchMemory: a batch of {batch} does not fit a memory of {self.memory_size}; "
                "use memory_size >= the batch size."
            )

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training or y is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        loss = self._pairwise_loss()
        _refuse_several_replicas()
        labels = example_labels(ops.reshape(y, (-1,)), y_pred, "CrossBatchMemory")
        self._check_batch(y_pred.shape[0])
        valid = ops.arange(self.memory_size) < self.memory_filled
        total = loss(
            y, y_pred, sample_weight=sample_weight, reference=(self.memory_embeddings, self.memory_labels, valid)
        )
        total = total * getattr(self, "_loss_weight", 1.0)
        for extra in self.losses:
            total = total + self._aggregate_additional_loss(extra)
        self._enqueue(ops.stop_gradient(y_pred), labels)
        return total

    def _pairwise_loss(self):
        loss = self.loss
        if not getattr(loss, "takes_reference", False):
            raise ValueError(
                "CrossBatchMemory trains with a kerasloss pairwise loss that takes a reference set "
                "(MultiSimilarity, SupervisedContrastive, TripletLoss, SoftNearestNeighbor). "
                f"Received: loss={loss!r}"
            )
        return loss

    def _enqueue(self, embeddings, labels):
        """Write the batch over the oldest entries: slots next, next + 1, ... modulo M (at most the batch's
        last M rows: distinct slots)."""
        embeddings, labels = embeddings[-self.memory_size :], labels[-self.memory_size :]
        batch = ops.shape(embeddings)[0]
        slots = ops.mod(self.memory_next + ops.arange(batch, dtype="int32"), self.memory_size)
        slots = ops.expand_dims(slots, 1)
        self.memory_embeddings.assign(
            ops.scatter_update(self.memory_embeddings, slots, ops.cast(embeddings, "float32"))
        )
        self.memory_labels.assign(ops.scatter_update(self.memory_labels, slots, labels))
        batch = ops.cast(batch, "int32")
        self.memory_filled.assign(ops.minimum(self.memory_filled + batch, self.memory_size))
        self.memory_next.assign(ops.mod(self.memory_next + batch, self.memory_size))

    def reset_memory(self):
        """Empty the memory (e.g. between training phases): no entry is used until new batches arrive."""
        self.memory_filled.assign(0)
        self.memory_next.assign(0)

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "memory_size": self.memory_size,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        return cls(encoder, **config)


def _refuse_several_replicas():
    """Under a TensorFlow strategy with several replicas, each would enqueue its share into the same slots."""
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf  # the distribution context; Keras has no public form of it

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        raise ValueError(
            f"CrossBatchMemory keeps one memory on one device; this strategy has {replicas} replicas. "
            "Train it without a multi-replica tf.distribute strategy."
        )


def _batch_size(x, batch_size):
    """The batch size `fit` will use, where it is known before training: `batch_size` (Keras' 32 for arrays
    given without one), or the static batch axis of a dataset's `element_spec` (None otherwise)."""
    if batch_size is not None:
        return batch_size
    spec = getattr(x, "element_spec", None)  # a tf.data.Dataset, without importing TensorFlow
    if spec is not None:
        first = spec[0] if isinstance(spec, tuple) else spec
        shape = getattr(first, "shape", None)
        return shape[0] if shape is not None and shape.rank else None
    if x is not None and hasattr(x, "shape") and not isinstance(x, keras.utils.PyDataset):
        return 32  # Keras' default for arrays
    return None
