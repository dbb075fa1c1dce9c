"""Cross-entropies, hinge and cost-sensitive BCE: the lesson's numbers and closed-form gradients,
extremes, and the errors for bad labels."""

import math

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, compiled, grad, graph, numpy, value_and_grad
from tests.reference import formulas as ref


def test_lesson_numbers():
    bce = kerasloss.BinaryCrossentropy()
    one = np.ones((1, 1), np.float32)
    assert numpy(bce(one, 0.99 * one)) == pytest.approx(-math.log(0.99), rel=1e-5)  # 0.01
    assert numpy(bce(one, 0.01 * one)) == pytest.approx(-math.log(0.01), rel=1e-5)  # 4.6
    # A constant 0.5 predictor: MSE 0.25, BCE ln 2, whatever the labels.
    labels = np.array([[0.0], [1.0], [1.0], [0.0]])
    assert numpy(kerasloss.MeanSquaredError()(labels, np.full((4, 1), 0.5))) == pytest.approx(0.25)
    assert numpy(bce(labels, np.full((4, 1), 0.5))) == pytest.approx(math.log(2), rel=1e-6)
    # Ten classes, uniform prediction: -log(0.1) = 2.303.
    uniform = kerasloss.SparseCategoricalCrossentropy(from_logits=True)(np.array([3]), np.zeros((1, 10)))
    assert numpy(uniform) == pytest.approx(math.log(10), rel=1e-6)


def test_label_smoothing_targets_are_091_and_001():
    """The lesson's example: alpha = 0.1 over 10 classes gives targets 0.91 / 0.01."""
    logits = np.random.default_rng(0).normal(size=(1, 10)).astype("float32")
    log_p = ref.log_softmax(logits)[0]
    expected = -(0.91 * log_p[3] + 0.01 * (log_p.sum() - log_p[3]))
    got = kerasloss.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(np.array([3]), logits)
    assert numpy(got) == pytest.approx(expected, rel=1e-5)


def test_softmax_crossentropy_gradient_is_p_minus_onehot():
    rng = np.random.default_rng(1)
    logits, ids = rng.normal(size=(6, 4)).astype("float32"), rng.integers(0, 4, 6)
    expected = np.exp(ref.log_softmax(logits)) - ref.one_hot(ids, 4)
    sparse = kerasloss.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    dense = kerasloss.CategoricalCrossentropy(from_logits=True, reduction="sum")
    np.testing.assert_allclose(grad(lambda x: sparse(ids, x), logits), expected, atol=1e-6)
    np.testing.assert_allclose(grad(lambda x: dense(ref.one_hot(ids, 4), x), logits), expected, atol=1e-6)


def test_sigmoid_crossentropy_gradient_is_p_minus_y_including_at_zero():
    """At logit 0 exactly the gradient is 0.5 - y; an abs()-based form returns -y there."""
    logits = np.array([[-3.0, 0.0, 0.0, 2.0]], np.float32)
    y = np.array([[1.0, 1.0, 0.0, 0.0]], np.float32)
    g = grad(lambda x: kerasloss.BinaryCrossentropy(from_logits=True, reduction="sum")(y, x), logits)
    np.testing.assert_allclose(g, (ref.sigmoid(logits) - y) / 4, atol=1e-7)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_extreme_logits_are_exact_and_finite(label_smoothing):
    logits = np.array([[1e4, -1e4, 1e4, -1e4]], np.float32)
    y = np.array([[1.0, 0.0, 0.0, 1.0]], np.float32)
    loss = kerasloss.BinaryCrossentropy(from_logits=True, label_smoothing=label_smoothing, reduction=None)
    value, g = value_and_grad(lambda x: loss(y, x)[0], logits)
    np.testing.assert_allclose(value, ref.bce(y, logits, True, label_smoothing), rtol=1e-6)
    assert np.all(np.isfinite(g))
    scce = kerasloss.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)
    extreme = np.array([[1e4, -1e4, 0], [1e4, -1e4, 0]], np.float32)
    value, g = value_and_grad(lambda x: scce(np.array([0, 1]), x), extreme)
    assert np.isfinite(value) and np.all(np.isfinite(g))


@pytest.mark.parametrize("cls", [kerasloss.BinaryCrossentropy, kerasloss.CostSensitiveBinaryCrossentropy])
def test_probabilities_exactly_zero_and_one_stay_finite(cls):
    p = np.array([[0.0, 1.0, 0.0, 1.0]], np.float32)
    y = np.array([[0.0, 1.0, 1.0, 0.0]], np.float32)
    value, g = value_and_grad(lambda q: cls()(y, q), p)
    assert np.isfinite(value) and np.all(np.isfinite(g))
    onehot, p = np.eye(2, dtype="float32")[[0]], np.array([[0.0, 1.0]], np.float32)
    value, g = value_and_grad(lambda q: kerasloss.CategoricalCrossentropy()(onehot, q), p)
    assert np.isfinite(value) and np.all(np.isfinite(g))


def test_sparse_smoothing_equals_dense_smoothing():
    rng = np.random.default_rng(3)
    logits, ids = (5 * rng.normal(size=(32, 7))).astype("float32"), rng.integers(0, 7, 32)
    sparse = kerasloss.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.15, reduction=None)
    dense = kerasloss.CategoricalCrossentropy(from_logits=True, label_smoothing=0.15, reduction=None)
    np.testing.assert_allclose(numpy(sparse(ids, logits)), numpy(dense(ref.one_hot(ids, 7), logits)), rtol=1e-5)


def test_sparse_smoothing_gradient_equals_dense_autodiff():
    """The closed-form gradient of the smoothed sparse loss against autodiff of the one-hot form."""
    rng = np.random.default_rng(8)
    logits, ids = (4 * rng.normal(size=(12, 6))).astype("float32"), rng.integers(0, 6, 12)
    weights = rng.random(12).astype("float32")
    sparse = kerasloss.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    dense = kerasloss.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    onehot = ref.one_hot(ids, 6).astype("float32")
    g_sparse = grad(lambda x: sparse(ids, x, sample_weight=weights), logits)
    g_dense = grad(lambda x: dense(onehot, x, sample_weight=weights), logits)
    np.testing.assert_allclose(g_sparse, g_dense, atol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_sparse_losses_accept_sequence_outputs(smoothing):
    """(batch, time, classes) logits with (batch, time) ids, as a sequence model produces."""
    rng = np.random.default_rng(9)
    logits, ids = rng.normal(size=(3, 5, 4)).astype("float32"), rng.integers(0, 4, (3, 5))
    onehot = ref.one_hot(ids, 4).astype("float32")
    sparse = kerasloss.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=None)
    dense = kerasloss.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=None)
    np.testing.assert_allclose(numpy(sparse(ids, logits)), numpy(dense(onehot, logits)), rtol=1e-5)
    g_sparse = grad(lambda x: keras.ops.sum(sparse(ids, x)), logits)
    np.testing.assert_allclose(g_sparse, grad(lambda x: keras.ops.sum(dense(onehot, x)), logits), atol=1e-6)
    focal = kerasloss.SparseCategoricalFocalLoss(from_logits=True, reduction=None)
    dense_focal = kerasloss.CategoricalFocalLoss(from_logits=True, reduction=None)
    np.testing.assert_allclose(numpy(focal(ids, logits)), numpy(dense_focal(onehot, logits)), rtol=1e-5)


def test_sparse_accepts_trailing_unit_axis_labels():
    loss = kerasloss.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    logits = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")
    ids = np.array([0, 2, 1, 1, 0])
    np.testing.assert_array_equal(numpy(loss(ids[:, None], logits)), numpy(loss(ids, logits)))


SPARSE = [kerasloss.SparseCategoricalCrossentropy, kerasloss.SparseCategoricalFocalLoss]


@pytest.mark.parametrize("cls", SPARSE)
@pytest.mark.parametrize("bad", [3, -1])
def test_out_of_range_ids_raise_eagerly(cls, bad):
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\].*\[" + str(bad) + r"\]"):
        cls(from_logits=True)(np.array([0, bad]), np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("cls", SPARSE)
def test_out_of_range_ids_raise_in_tf_function(cls):
    loss = graph(cls(from_logits=True))  # skips off the TensorFlow backend
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError, match="class ids must lie in"):
        loss(tf.constant([0, 7]), tf.zeros((2, 3)))


@pytest.mark.parametrize("cls", SPARSE)
def test_out_of_range_ids_give_nan_under_xla_not_a_plausible_value(cls):
    loss = compiled(cls(from_logits=True, reduction=None))
    values = numpy(loss(np.array([0, 7]), np.zeros((2, 3), np.float32)))
    assert np.isfinite(values[0]) and np.isnan(values[1])


@pytest.mark.parametrize("cls", SPARSE)
def test_sparse_label_shape_mismatch_explains_layout(cls):
    with pytest.raises(ValueError, match=r"one integer class id per row.*\(4, 3\).*\(4, 3\)"):
        cls()(np.zeros((4, 3)), np.full((4, 3), 1 / 3))


def test_hinge_maps_zero_one_labels_to_signed():
    rng = np.random.default_rng(5)
    y01, pred = (rng.random((6, 2)) < 0.5).astype("float32"), rng.normal(size=(6, 2)).astype("float32")
    np.testing.assert_allclose(numpy(kerasloss.Hinge()(y01, pred)), numpy(kerasloss.Hinge()(2 * y01 - 1, pred)))


def test_cost_sensitive_positive_weight_matches_tf_weighted_crossentropy():
    if BACKEND != "tensorflow":
        pytest.skip("tf.nn.weighted_cross_entropy_with_logits is TensorFlow's")
    import tensorflow as tf

    rng = np.random.default_rng(6)
    y, x = (rng.random((8, 3)) < 0.3).astype("float32"), (3 * rng.normal(size=(8, 3))).astype("float32")
    ours = kerasloss.CostSensitiveBinaryCrossentropy(positive_weight=4.0, from_logits=True, reduction=None)(y, x)
    theirs = tf.reduce_mean(tf.nn.weighted_cross_entropy_with_logits(y, x, pos_weight=4.0), axis=-1)
    np.testing.assert_allclose(numpy(ours), theirs.numpy(), rtol=1e-5)


def test_false_negatives_cost_more_than_false_positives():
    loss = kerasloss.CostSensitiveBinaryCrossentropy(false_negative_weight=5.0, from_logits=True)
    one = np.ones((1, 1), np.float32)
    missed_positive = numpy(loss(one, -2 * one))
    false_alarm = numpy(loss(0 * one, 2 * one))
    assert missed_positive == pytest.approx(5 * false_alarm, rel=1e-6)
    # A positive predicted above the threshold is charged as plain cross-entropy.
    caught = numpy(loss(one, 0.5 * one))
    assert caught == pytest.approx(numpy(kerasloss.BinaryCrossentropy(from_logits=True)(one, 0.5 * one)))


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: kerasloss.BinaryCrossentropy(label_smoothing=1.0), "label_smoothing"),
        (lambda: kerasloss.CategoricalCrossentropy(label_smoothing=-0.1), "label_smoothing"),
        (lambda: kerasloss.SparseCategoricalCrossentropy(label_smoothing=1.5), "label_smoothing"),
        (lambda: kerasloss.BinaryCrossentropy(from_logits="yes"), "from_logits"),
        (lambda: kerasloss.CostSensitiveBinaryCrossentropy(positive_weight=0), "positive_weight"),
        (lambda: kerasloss.CostSensitiveBinaryCrossentropy(false_negative_weight=-2), "false_negative_weight"),
        (lambda: kerasloss.CostSensitiveBinaryCrossentropy(threshold=1.0), "threshold"),
    ],
)
def test_invalid_hyperparameters_name_argument_and_value(make, argument):
    with pytest.raises(ValueError, match=rf"Invalid value for argument `{argument}`.*Received: {argument}="):
        make()


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="same shape"):
        kerasloss.BinaryCrossentropy()(np.zeros((4, 2)), np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="same shape"):
        kerasloss.CategoricalCrossentropy()(np.eye(3)[:2], np.full((2, 4), 0.25))


@pytest.mark.slow
def test_keras_model_fit_reduces_loss():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=kerasloss.BinaryCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=20, batch_size=64, verbose=0).history["loss"]
    assert history[-1] < 0.4 * history[0]
