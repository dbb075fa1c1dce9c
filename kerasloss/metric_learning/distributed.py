"""The global batch under data parallelism: negatives drawn from every replica, as SimCLR does on TPU.

Under `tf.distribute` (MirroredStrategy, MultiWorkerMirroredStrategy, TPUStrategy) each replica computes
the loss on its share of the batch. `global_batch` concatenates every replica's share in replica order,
so each local anchor is compared with the global batch. `ReplicaContext.all_gather` differentiates as an
all-reduce (sum) of the incoming gradients followed by this replica's slice, so the gradient reaching
each replica's embeddings carries every replica's loss terms: after Keras sums the replicas' gradients,
the step equals one on the whole batch on one device.

Elsewhere (not asked for, no strategy, one replica, a cross-replica context, or the JAX and PyTorch
backends) this is the identity: Keras' JAX data parallelism already computes the loss on the global
(sharded) batch. TensorFlow is imported only when the TensorFlow backend is in use.
"""

from dataclasses import dataclass

import keras
from keras import ops


@dataclass(frozen=True)
class GlobalBatch:
    """What a replica sees of the global batch.

    Attributes:
        values: each given tensor with every replica's share concatenated on axis 0, in replica order.
        offset: where this replica's share starts (0 without replicas).
        replicas: the number of replicas in sync (1 without a strategy).
    """

    values: tuple
    offset: object
    replicas: int


def _replica_context():
    """The active `tf.distribute` replica context with more than one replica, or None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf  # replica contexts are tf.distribute's own

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def global_batch(*tensors, across_replicas=True):
    """`GlobalBatch` of `tensors` (batch axis 0) across the replicas in sync; the identity without them
    or with `across_replicas=False`. Local batches may differ in size (a last, partial global batch):
    the offset comes from the gathered sizes."""
    context = _replica_context() if across_replicas else None
    if context is None:
        return GlobalBatch(tensors, 0, 1)
    sizes = context.all_gather(ops.reshape(ops.cast(ops.shape(tensors[0])[0], "int32"), (1,)), axis=0)
    offset = ops.sum(sizes[: context.replica_id_in_sync_group])
    # One gather per tensor: a batched gather cannot mix host-side integers with device floats.
    gathered = tuple(context.all_gather(t, axis=0) for t in tensors)
    return GlobalBatch(gathered, offset, context.num_replicas_in_sync)


def sum_across_replicas(x):
    """The sum of `x` over the replicas in sync (no gradient is needed through it); `x` without them."""
    context = _replica_context()
    return x if context is None else context.all_reduce("SUM", ops.stop_gradient(x))
