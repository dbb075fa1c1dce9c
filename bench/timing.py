"""Timing and peak-memory helpers: forward + backward of a loss, median over repeats, in one process."""

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


def paired_median_seconds(run_a, run_b, repeats, warmup=3):
    """Median seconds of two steps timed in alternation (a, b, a, b, ...), so that drift in the
    machine's speed falls on both alike; returns (median_a, median_b)."""
    for _ in range(warmup):
        wait_for(run_a())
        wait_for(run_b())
    samples_a, samples_b = [], []
    for _ in range(repeats):
        for run, samples in ((run_a, samples_a), (run_b, samples_b)):
            start = time.perf_counter()
            wait_for(run())
            samples.append(time.perf_counter() - start)
    return statistics.median(samples_a), statistics.median(samples_b)


def peak_bytes(run):
    """Peak bytes held by TensorFlow's CPU allocator during one (already compiled) run, above what
    was held before it: the step's own temporaries and outputs, not its inputs."""
    wait_for(run())  # compile outside the measurement
    tf.config.experimental.reset_memory_stats("CPU:0")
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    wait_for(run())
    return tf.config.experimental.get_memory_info("CPU:0")["peak"] - before


def wait_for(result):
    """Wait for the values: take a scalar of each result to the host."""
    return [tf.reduce_sum(t).numpy() for t in tf.nest.flatten(result)]
