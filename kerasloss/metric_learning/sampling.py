"""Class-balanced batches for the pairwise losses: P classes x K examples in every batch.

With random batches a pairwise loss sees few positives when classes are many: at 300 classes and batches
of 64, about 16% of anchors have another example of their class in the batch, and the rest contribute
nothing to a triplet, SupCon or multi-similarity loss. A P x K batch gives every anchor K - 1 positives
and (P - 1) K negatives (Hermans et al. 2017, "In Defense of the Triplet Loss", section 3).

`ClassBalancedBatches` is a `keras.utils.PyDataset`, so it feeds `model.fit` on every backend;
`ClassBalancedBatches.as_tf_dataset()` gives the same batches as a `tf.data.Dataset` (TensorFlow only).
"""

import keras
import numpy as np  # the sampler indexes host arrays; no loss math here

from kerasloss.core.errors import invalid_argument

__all__ = ["ClassBalancedBatches"]


class ClassBalancedBatches(keras.utils.PyDataset):
    """Batches of exactly `classes_per_batch` (P) distinct classes x `examples_per_class` (K) examples.

    Each batch draws P distinct classes uniformly at random from the classes present in `y`, then K
    examples of each: without replacement where the class has at least K examples, with replacement
    where it has fewer (so a small class still fills its K slots, repeating examples; a loss then sees
    some zero-distance positive pairs, which kerasloss's pairwise losses handle). Within a batch the
    examples come class by class (P groups of K). The draw is a pure function of (seed, epoch, batch
    index): the same seed gives the same epochs, and each epoch differs.

    Args:
        x: features: an array, or a list/tuple/dict of arrays, indexed along axis 0.
        y: integer class labels, shape `(n,)` or `(n, 1)`.
        classes_per_batch: P >= 2 (a batch of one class has no negatives); at most the number of classes.
        examples_per_class: K >= 2 (K = 1 gives no positive pairs).
        seed: the random seed. Defaults to 0.
        batches_per_epoch: batches per epoch. Defaults to n // (P K), at least 1: about one pass over
            the data.
        **kwargs: `keras.utils.PyDataset`'s (`workers`, `use_multiprocessing`, `max_queue_size`).

    Example:

    >>> x = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
    >>> y = np.repeat(np.arange(6), 10)
    >>> batches = kerasloss.ClassBalancedBatches(x, y, classes_per_batch=3, examples_per_class=4)
    >>> features, labels = batches[0]
    >>> features.shape, np.unique(labels, return_counts=True)[1].tolist()
    ((12, 4), [4, 4, 4])
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)])
    >>> model.compile(optimizer="adam", loss=kerasloss.TripletLoss())
    >>> history = model.fit(batches, epochs=1, verbose=0)
    """

    def __init__(self, x, y, classes_per_batch, examples_per_class, seed=0, batches_per_epoch=None, **kwargs):
        super().__init__(**kwargs)
        labels = np.asarray(y)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or _whole(labels)):
            raise ValueError(
                f"ClassBalancedBatches: y must hold integer class labels of shape (n,). Received: y.shape="
                f"{np.shape(y)}, dtype={labels.dtype}"
            )
        lengths = {len(a) for a in _leaves(x)}
        if lengths != {len(labels)}:
            raise ValueError(
                f"ClassBalancedBatches: x and y must have the same number of examples. Received: x has "
                f"{sorted(lengths)}, y has {len(labels)}"
            )
        classes, inverse = np.unique(labels, return_inverse=True)
        self.classes_per_batch = _count("classes_per_batch", classes_per_batch, 2, len(classes))
        self.examples_per_class = _count("examples_per_class", examples_per_class, 2, None)
        self.x, self.y, self.seed = x, labels, int(seed)
        self.members = [np.flatnonzero(inverse == c) for c in range(len(classes))]  # example indices per class
        batch = self.classes_per_batch * self.examples_per_class
        default = max(1, len(labels) // batch)
        self.batches_per_epoch = (
            default if batches_per_epoch is None else _count("batches_per_epoch", batches_per_epoch, 1, None)
        )
        self.epoch = 0

    def __len__(self):
        return self.batches_per_epoch

    def indices(self, index, epoch=None):
        """The example indices of batch `index` in `epoch` (default: the current one), P groups of K."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range: the epoch has {len(self)} batches")
        rng = np.random.default_rng([self.seed, self.epoch if epoch is None else epoch, index])
        chosen = rng.choice(len(self.members), size=self.classes_per_batch, replace=False)
        k = self.examples_per_class
        return np.concatenate([rng.choice(self.members[c], size=k, replace=len(self.members[c]) < k) for c in chosen])

    def __getitem__(self, index):
        picked = self.indices(index)
        return _take(self.x, picked), self.y[picked]

    def on_epoch_end(self):
        self.epoch += 1

    def as_tf_dataset(self):
        """The same batches as a `tf.data.Dataset` (TensorFlow only): each pass over it is one epoch,
        the next pass the next epoch, as `model.fit` iterates it."""
        import tensorflow as tf  # tf.data is TensorFlow's own (this method only)

        first_x, first_y = self[0]

        def epochs():
            for index in range(len(self)):
                yield self[index]
            self.on_epoch_end()

        signature = (
            tf.nest.map_structure(lambda a: tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)), first_x),
            tf.TensorSpec((None,), tf.as_dtype(first_y.dtype)),
        )
        dataset = tf.data.Dataset.from_generator(epochs, output_signature=signature)
        # A known length: fit counts its steps instead of running into the end of the data.
        return dataset.apply(tf.data.experimental.assert_cardinality(len(self)))


def _whole(values):
    return (
        np.issubdtype(values.dtype, np.floating) and np.all(np.isfinite(values)) and np.all(values == np.round(values))
    )


def _count(argument, value, minimum, maximum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise invalid_argument(argument, f"an integer >= {minimum}", value)
    if maximum is not None and value > maximum:
        raise invalid_argument(argument, f"at most the number of classes in y, {maximum}", value)
    return int(value)


def _leaves(x):
    if isinstance(x, dict):
        return [np.asarray(v) for v in x.values()]
    if isinstance(x, (list, tuple)):
        return [np.asarray(v) for v in x]
    return [np.asarray(x)]


def _take(x, picked):
    if isinstance(x, dict):
        return {key: np.asarray(value)[picked] for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(np.asarray(value)[picked] for value in x)
    return np.asarray(x)[picked]
