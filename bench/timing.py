"""Timing and peak-memory helpers: forward + backward of a loss, median over repeats, in one process."""

import resource
import statistics
import time

import tensorflow as tf


def forward_backward(loss, y_true, logits, jit_compile):
    """A compiled step computing the loss and its gradient with respect to the logits."""

    @tf.function(jit_compile=jit_compile)
    def step(y_true, logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            value = loss(y_true, logits)
        return value, tape.gradient(value, logits)

    return lambda: step(y_true, logits)


def median_seconds(run, repeats=20, warmup=3):
    for _ in range(warmup):
        _block(run())
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        _block(run())
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _block(result):
    """Wait for the values: take them to the host."""
    return [t.numpy() for t in tf.nest.flatten(result)]


def peak_rss_bytes():
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
