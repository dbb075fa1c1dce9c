"""Global negatives under tf.distribute.MirroredStrategy on two logical CPUs: a `model.fit` step with
NT-Xent / SupCon drawing negatives from both replicas equals the step on one device; with each replica's
own share it does not (so the comparison can fail). Uneven shares (8 and 7) give the single-device loss
and input gradient exactly. Outside a strategy the option changes nothing."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import numpy

SCRIPT = textwrap.dedent(
    """
    import json, os
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    import kerasloss

    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(5, 4)).astype("float32")

    def step(strategy, name, global_negatives, batch):
        x = np.random.default_rng(1).normal(size=(batch, 2, 5)).astype("float32")
        y = np.arange(batch) % 3  # SupCon's labels; NT-Xent ignores them
        with strategy.scope():
            inputs = keras.Input((2, 5))
            dense = keras.layers.Dense(4, use_bias=False, kernel_initializer=keras.initializers.Constant(kernel))
            model = keras.Model(inputs, dense(inputs))
            loss = kerasloss.get(name, temperature=0.5, global_negatives=global_negatives)
            model.compile(optimizer=keras.optimizers.SGD(1.0), loss=loss, jit_compile=False)
        history = model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        return (model.get_weights()[0] - kernel).tolist(), history.history["loss"][0]

    def uneven(strategy, name):
        # Loss and input gradient with shares of 8 and 7 (Keras' fit itself fails to split 15 unevenly
        # across logical CPUs, so the replicas are driven directly).
        x = np.random.default_rng(1).normal(size=(15, 2, 5)).astype("float32")
        y = np.arange(15) % 3
        loss = kerasloss.get(name, temperature=0.5, global_negatives=True)
        shares = [slice(0, 8), slice(8, 15)]
        x_shares = strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(x[shares[context.replica_id_in_sync_group]])
        )
        y_shares = strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(y[shares[context.replica_id_in_sync_group]])
        )

        @tf.function
        def replica_step(x_share, y_share):
            with tf.GradientTape() as tape:
                tape.watch(x_share)
                value = loss(y_share, x_share)
            return value, tape.gradient(value, x_share)

        values, grads = strategy.run(replica_step, args=(x_shares, y_shares))
        total = sum(float(v) for v in strategy.experimental_local_results(values))
        grad = np.concatenate([g.numpy() for g in strategy.experimental_local_results(grads)])
        x_all = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_all)
            single = loss(y, x_all)
        return total, float(single), float(np.abs(grad - tape.gradient(single, x_all).numpy()).max())

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for name in ("ntxent", "supcon"):
        results[name] = {
            "single": step(tf.distribute.get_strategy(), name, False, 16),
            "global": step(mirrored, name, True, 16),
            "local": step(mirrored, name, False, 16),
            "uneven": uneven(mirrored, name),
        }
    print("RESULT " + json.dumps(results))
    """
)


@pytest.mark.slow
def test_global_negatives_match_a_single_device_step():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute strategies are a TensorFlow backend feature")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, result.stderr[-4000:]
    results = json.loads(lines[0][len("RESULT ") :])
    assert set(results) == {"ntxent", "supcon"}
    for name, runs in results.items():
        (single_update, single_loss), (global_update, global_loss) = runs["single"], runs["global"]
        np.testing.assert_allclose(global_update, single_update, rtol=1e-4, atol=1e-6, err_msg=name)
        assert global_loss == pytest.approx(single_loss, rel=1e-5), name
        local_update = np.array(runs["local"][0])
        assert not np.allclose(local_update, single_update, rtol=1e-3, atol=1e-5), name  # the test can fail
        replicas_total, single_value, gradient_error = runs["uneven"]
        assert replicas_total == pytest.approx(single_value, rel=1e-5), name
        assert gradient_error < 1e-6, name


@pytest.mark.parametrize("name", ["ntxent", "supcon"])
def test_global_negatives_without_a_strategy_change_nothing(name):
    rng = np.random.default_rng(2)
    x, labels = rng.normal(size=(10, 2, 6)).astype("float32"), np.arange(10) % 4
    local = numpy(kerasloss.get(name)(labels, x))
    assert numpy(kerasloss.get(name, global_negatives=True)(labels, x)) == pytest.approx(local, rel=1e-6)


def test_global_negatives_is_validated_and_serialized():
    with pytest.raises(ValueError, match=r"argument `global_negatives`.*Received: global_negatives='yes'"):
        kerasloss.NTXent(global_negatives="yes")
    loss = kerasloss.SupervisedContrastive(0.2, global_negatives=True)
    assert type(loss).from_config(loss.get_config()).get_config()["global_negatives"] is True
