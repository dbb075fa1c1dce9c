"""CrossBatchMemory: a ring buffer of past embeddings updated inside `fit` on every backend, handed to the
loss as its reference set; evaluation leaves it alone; a `.keras` file keeps it."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import numpy


def _model(memory_size=12, seed=0):
    keras.utils.set_random_seed(seed)
    encoder = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(3)])
    return kerasloss.CrossBatchMemory(encoder, memory_size=memory_size)


def _data(n=20, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype("float32"), (np.arange(n) % 3).astype("int32")


@pytest.mark.slow
def test_the_memory_is_a_ring_buffer_of_the_last_embeddings():
    """Learning rate 0: the network is fixed, so the memory must hold exactly encoder(x) of the last M
    examples seen, in ring order, with their labels."""
    model = _model(memory_size=12)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=kerasloss.MultiSimilarity())
    x, y = _data(20)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # 5 batches: 20 examples into 12 slots
    assert int(numpy(model.memory_filled)) == 12 and int(numpy(model.memory_next)) == 20 % 12
    slot = np.arange(20) % 12  # example i went to slot i mod 12; the last 12 (8..19) remain
    expected = np.zeros((12, 3), "float32")
    expected[slot[8:]] = numpy(model.encoder(x[8:]))
    np.testing.assert_allclose(numpy(model.memory_embeddings), expected, rtol=1e-5, atol=1e-6)
    labels = np.zeros(12, "int32")
    labels[slot[8:]] = y[8:]
    np.testing.assert_array_equal(numpy(model.memory_labels), labels)


@pytest.mark.slow
def test_a_training_step_is_the_loss_against_the_memory():
    model = _model(memory_size=8)
    loss = kerasloss.SupervisedContrastive(temperature=0.5)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    x, y = _data(12)
    model.train_on_batch(x[:4], y[:4])  # fills slots 0..3
    memory = numpy(model.memory_embeddings), numpy(model.memory_labels), np.arange(8) < 4
    value = float(numpy(model.train_on_batch(x[4:8], y[4:8])))
    expected = float(numpy(loss(y[4:8], model.encoder(x[4:8]), reference=memory)))
    assert value == pytest.approx(expected, rel=1e-5)
    without = float(numpy(loss(y[4:8], model.encoder(x[4:8]))))
    assert abs(value - without) > 1e-3  # the memory changed the loss


@pytest.mark.parametrize(
    "loss",
    [
        kerasloss.MultiSimilarity(),
        kerasloss.SupervisedContrastive(temperature=0.5),
        kerasloss.TripletLoss(),
        kerasloss.SoftNearestNeighbor(),
    ],
    ids=lambda loss: type(loss).__name__,
)
@pytest.mark.slow
def test_fit_trains_with_each_loss_that_takes_a_reference(loss):
    model = _model(memory_size=16)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    x, y = _data(48)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x, y))
    assert np.all(np.isfinite(history.history["loss"])) and np.all(np.isfinite(history.history["val_loss"]))
    assert int(numpy(model.memory_filled)) == 16


@pytest.mark.slow
def test_evaluation_neither_uses_nor_changes_the_memory():
    model = _model(memory_size=8)
    loss = kerasloss.MultiSimilarity()
    model.compile(optimizer="adam", loss=loss)
    x, y = _data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    before = numpy(model.memory_embeddings).copy(), int(numpy(model.memory_next))
    evaluated = model.evaluate(x, y, batch_size=16, verbose=0)
    assert evaluated == pytest.approx(float(numpy(loss(y, model.encoder(x)))), rel=1e-5)
    np.testing.assert_array_equal(numpy(model.memory_embeddings), before[0])
    assert int(numpy(model.memory_next)) == before[1]


@pytest.mark.slow
def test_reset_memory_empties_it():
    model = _model(memory_size=8)
    model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
    x, y = _data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.reset_memory()
    assert int(numpy(model.memory_filled)) == 0 and int(numpy(model.memory_next)) == 0


def test_a_loss_without_a_reference_set_is_refused():
    model = _model()
    model.compile(optimizer="adam", loss=kerasloss.LiftedStructure())
    x, y = _data(8)
    with pytest.raises(ValueError, match="CrossBatchMemory trains with a kerasloss pairwise loss"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)


def test_a_batch_larger_than_the_memory_is_refused():
    model = _model(memory_size=4)
    model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
    x, y = _data(16)
    with pytest.raises(ValueError, match="a batch of 8 does not fit a memory of 4"):
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="a batch of 32 does not fit a memory of 4"):
        model.fit(x, y, epochs=1, verbose=0)  # Keras' default batch size for arrays


def test_a_dataset_whose_batches_exceed_the_memory_is_refused_before_training():
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("a tf.data.Dataset feeds fit on the TensorFlow backend")
    model = _model(memory_size=4)
    model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
    x, y = _data(16)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(8, drop_remainder=True)
    with pytest.raises(ValueError, match="a batch of 8 does not fit a memory of 4"):
        model.fit(batches, epochs=1, verbose=0)  # TensorFlow traces the step with an unknown batch size


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_memory_size_is_checked(size):
    with pytest.raises(ValueError, match="memory_size"):
        kerasloss.CrossBatchMemory(keras.Sequential([keras.layers.Dense(2)]), memory_size=size)


@pytest.mark.slow
def test_a_saved_model_reloads_in_a_fresh_process_with_its_memory(tmp_path):
    model = _model(memory_size=8)
    model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity(base=0.3))
    x, y = _data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "xbm.keras"
    model.save(path)
    np.save(tmp_path / "memory.npy", numpy(model.memory_embeddings))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    script = textwrap.dedent(
        f"""
        import keras, numpy as np
        import kerasloss
        model = keras.models.load_model({str(path)!r})
        assert type(model) is kerasloss.CrossBatchMemory and model.memory_size == 8
        assert model.loss.get_config()["base"] == 0.3
        memory = np.load({str(tmp_path / "memory.npy")!r})
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model.memory_embeddings), memory)
        x, y = np.load({str(tmp_path / "x.npy")!r}), np.load({str(tmp_path / "y.npy")!r})
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        print("reloaded")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "reloaded" in result.stdout, result.stderr[-3000:]


@pytest.mark.slow
def test_loss_weights_scale_the_loss_and_must_be_one_number():
    x, y = _data(8)
    losses = {}
    for weight in (None, 0.5):
        model = _model(memory_size=8)
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss=kerasloss.MultiSimilarity(), loss_weights=weight)
        model.train_on_batch(x[:4], y[:4])
        losses[weight] = float(numpy(model.train_on_batch(x[4:], y[4:])))
    assert losses[0.5] == pytest.approx(0.5 * losses[None], rel=1e-5)
    with pytest.raises(ValueError, match="loss_weights must be one number"):
        _model().compile(optimizer="adam", loss=kerasloss.MultiSimilarity(), loss_weights=[1.0])


MIRRORED = """
import numpy as np, tensorflow as tf
(cpu,) = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, kerasloss
with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
    encoder = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(3)])
    model = kerasloss.CrossBatchMemory(encoder, memory_size=16)
    model.compile(optimizer="adam", loss=kerasloss.MultiSimilarity())
try:
    model.fit(np.zeros((16, 5), "float32"), np.arange(16) % 4, batch_size=8, epochs=1, verbose=0)
except ValueError as error:
    print("refused:", error)
"""


@pytest.mark.slow
def test_several_replicas_are_refused_rather_than_corrupting_the_memory():
    """Each replica would write its share of the batch over the same slots (found in review)."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute strategies are TensorFlow's")
    result = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=300)
    assert "refused: CrossBatchMemory keeps one memory on one device; this strategy has 2 replicas" in result.stdout, (
        result.stderr[-3000:]
    )
