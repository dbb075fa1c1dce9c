"""`ignore_class` on the sparse losses and `axis` on the cross-entropies and focal losses, with Keras'
semantics: ignored entries contribute nothing and are left out of the mean as Keras leaves them out;
values equal Keras' built-ins (Keras' own published cases included) eagerly, in a graph and under XLA."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, compiled, graph, numpy, value_and_grad

VOID = 255
CLASSES = 4


def segmentation(seed, from_logits=True):
    """A (batch, h, w) label map with void pixels, and (batch, h, w, classes) scores."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, (3, 5, 6)).astype("int32")
    labels[rng.random(labels.shape) < 0.3] = VOID
    labels[0, 0, :] = VOID  # a row with no valid pixel at all
    logits = (2 * rng.normal(size=(*labels.shape, CLASSES))).astype("float32")
    if from_logits:
        return labels, logits
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return labels, (e / e.sum(-1, keepdims=True)).astype("float32")


SPARSE = [
    ("scce", lambda **kw: kerasloss.SparseCategoricalCrossentropy(**kw)),
    ("sparse_focal_gamma0", lambda **kw: kerasloss.SparseCategoricalFocalLoss(gamma=0.0, alpha=None, **kw)),
]
MODES = {"eager": lambda f: f, "graph": graph, "compiled": compiled}


def test_keras_published_ignore_class_cases():
    logits = np.array([[[0.854, 0.698, 0.598], [0.088, 0.86, 0.018]]], np.float32)
    for labels in (np.array([[-1, 2]]), np.array([[[-1], [2]]])):
        for _, make in SPARSE:
            loss = make(from_logits=True, ignore_class=-1, reduction=None)
            np.testing.assert_allclose(numpy(loss(labels, logits)), [[0.0, 1.480129]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, make", SPARSE, ids=[name for name, _ in SPARSE])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
@pytest.mark.parametrize("weights", ["none", "per_example", "per_pixel"])
@pytest.mark.parametrize("from_logits", [True, False])
def test_ignore_class_equals_keras_builtin(name, make, mode, reduction, weights, from_logits):
    if weights == "per_example" and BACKEND == "torch":
        pytest.skip("Keras' apply_mask multiplies in place on PyTorch: (batch, 1, 1) weights fail there in Keras too")
    labels, scores = segmentation(0, from_logits)
    sample_weight = {
        "none": None,
        "per_example": np.array([0.5, 2.0, 1.0], np.float32).reshape(3, 1, 1),
        "per_pixel": np.random.default_rng(1).random(labels.shape).astype("float32"),
    }[weights]
    ours = make(from_logits=from_logits, ignore_class=VOID, reduction=reduction)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=VOID, reduction=reduction)
    run = MODES[mode](lambda y, p, w: ours(y, p, sample_weight=w))
    got = numpy(run(labels, scores, sample_weight))
    want = numpy(theirs(labels, scores, sample_weight=sample_weight))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name, make", SPARSE, ids=[name for name, _ in SPARSE])
def test_ignored_pixels_change_nothing_and_get_no_gradient(name, make):
    labels, logits = segmentation(2)
    loss = make(from_logits=True, ignore_class=VOID)
    value, gradient = value_and_grad(lambda x: loss(labels, x), logits)
    void = labels == VOID
    assert np.all(gradient[void] == 0) and np.any(gradient[~void] != 0)
    scrambled = logits.copy()
    scrambled[void] = 1e4 * np.random.default_rng(3).normal(size=scrambled[void].shape)
    assert numpy(loss(labels, scrambled)) == pytest.approx(float(value), rel=1e-6)
    # The mean runs over the kept pixels only: the same pixels without the void ones.
    kept = make(from_logits=True, reduction=None)(labels[~void], logits[~void])
    assert float(value) == pytest.approx(float(np.mean(numpy(kept))), rel=1e-5)


def test_every_pixel_ignored_gives_zero_not_nan():
    labels = np.full((2, 3), VOID, np.int32)
    logits = np.zeros((2, 3, CLASSES), np.float32)
    for _, make in SPARSE:
        assert float(numpy(make(from_logits=True, ignore_class=VOID)(labels, logits))) == 0.0


def test_ignore_class_under_xla_is_not_nan():
    """Without ignore_class a 255 label is out of range (NaN under XLA); with it, the pixel is dropped."""
    labels, logits = segmentation(4)
    for _, make in SPARSE:
        plain, ignoring = make(from_logits=True), make(from_logits=True, ignore_class=VOID)
        assert np.isnan(numpy(compiled(lambda y, p, f=plain: f(y, p))(labels, logits)))
        assert np.isfinite(numpy(compiled(lambda y, p, f=ignoring: f(y, p))(labels, logits)))


def test_smoothing_and_alpha_combine_with_ignore_class():
    labels, logits = segmentation(5)
    void = labels == VOID
    for loss in (
        kerasloss.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1, ignore_class=VOID),
        kerasloss.SparseCategoricalFocalLoss(from_logits=True, alpha=[0.1, 0.2, 0.3, 0.4], ignore_class=VOID),
    ):
        plain = type(loss)(**{**loss.get_config(), "ignore_class": None, "reduction": None})
        expected = float(np.mean(numpy(plain(labels[~void], logits[~void]))))
        assert float(numpy(loss(labels, logits))) == pytest.approx(expected, rel=1e-5)


def test_keras_published_segmentation_cases_on_every_axis():
    """Keras' binary segmentation case; its axis=0 variant runs on the PyTorch backend only in Keras."""
    labels = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
    probabilities = np.array(
        [
            [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.2, 0.8]],
            [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
            [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
            [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.4]],
        ],
        np.float32,
    )
    expected = -(np.log(0.2) + np.log(0.4)) / 16
    loss = kerasloss.SparseCategoricalCrossentropy()
    assert float(numpy(loss(labels, probabilities))) == pytest.approx(expected, rel=1e-5)
    moved = np.moveaxis(probabilities, 2, 0)
    assert float(numpy(kerasloss.SparseCategoricalCrossentropy(axis=0)(labels, moved))) == pytest.approx(
        expected, rel=1e-5
    )


def _channels_first(seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, CLASSES, (3, 5))
    onehot = np.eye(CLASSES, dtype="float32")[ids]  # (3, 5, C)
    multilabel = (rng.random((3, 5, CLASSES)) < 0.3).astype("float32")
    logits = rng.normal(size=(3, 5, CLASSES)).astype("float32")
    return ids, onehot, multilabel, logits


DENSE = [
    ("bce", lambda **kw: kerasloss.BinaryCrossentropy(from_logits=True, **kw), "multilabel"),
    ("cce", lambda **kw: kerasloss.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, **kw), "onehot"),
    ("focal", lambda **kw: kerasloss.FocalLoss(from_logits=True, alpha=[0.2, 0.4, 0.6, 0.8], **kw), "multilabel"),
    ("categorical_focal", lambda **kw: kerasloss.CategoricalFocalLoss(from_logits=True, **kw), "onehot"),
    ("scce", lambda **kw: kerasloss.SparseCategoricalCrossentropy(from_logits=True, **kw), "ids"),
    ("sparse_focal", lambda **kw: kerasloss.SparseCategoricalFocalLoss(from_logits=True, gamma=1.5, **kw), "ids"),
]


@pytest.mark.parametrize("name, make, targets", DENSE, ids=[name for name, _, _ in DENSE])
@pytest.mark.parametrize("axis", [0, 1, -2])
def test_axis_moves_the_class_axis(name, make, targets, axis):
    ids, onehot, multilabel, logits = _channels_first(6)
    y_true = {"ids": ids, "onehot": onehot, "multilabel": multilabel}[targets]
    expected = numpy(make(reduction=None)(y_true, logits))
    moved_pred = np.moveaxis(logits, -1, axis)
    moved_true = y_true if targets == "ids" else np.moveaxis(y_true, -1, axis)
    got = numpy(make(axis=axis, reduction=None)(moved_true, moved_pred))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert make(axis=axis).get_config()["axis"] == axis


@pytest.mark.parametrize("cls", [keras.losses.BinaryCrossentropy, keras.losses.CategoricalCrossentropy])
def test_axis_equals_keras_builtin(cls):
    _, onehot, multilabel, logits = _channels_first(7)
    y_true = multilabel if cls is keras.losses.BinaryCrossentropy else onehot
    ours = getattr(kerasloss, cls.__name__)(from_logits=True, axis=1, reduction=None)
    theirs = cls(from_logits=True, axis=1, reduction=None)
    np.testing.assert_allclose(numpy(ours(y_true, logits)), numpy(theirs(y_true, logits)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda: kerasloss.SparseCategoricalCrossentropy(ignore_class=2.5), "ignore_class"),
        (lambda: kerasloss.SparseCategoricalFocalLoss(ignore_class="void"), "ignore_class"),
        (lambda: kerasloss.SparseCategoricalFocalLoss(ignore_class=True), "ignore_class"),
        (lambda: kerasloss.BinaryCrossentropy(axis=1.0), "axis"),
        (lambda: kerasloss.FocalLoss(axis=None), "axis"),
    ],
)
def test_bad_ignore_class_or_axis_is_named(make, argument):
    with pytest.raises(ValueError, match=f"Invalid value for argument `{argument}`"):
        make()


def test_axis_out_of_range_names_the_shape():
    with pytest.raises(ValueError, match=r"axis=3 is out of range for y_pred of shape \(3, 5, 4\)"):
        kerasloss.CategoricalCrossentropy(axis=3)(np.zeros((3, 5, 4)), np.zeros((3, 5, 4), np.float32))


def test_numpy_ignore_class_is_plain_in_the_config():
    config = kerasloss.SparseCategoricalCrossentropy(ignore_class=np.int64(VOID)).get_config()
    assert config["ignore_class"] == VOID and type(config["ignore_class"]) is int


def test_a_fractional_label_is_not_taken_for_ignore_class_minus_one():
    """Under XLA a float label with a fractional part becomes id -1 internally; with ignore_class=-1 it
    must still give NaN (an error where one can be raised), not vanish as an ignored entry."""
    labels = np.array([1.5, 0.0, 2.0, -1.0], np.float32)
    logits = np.random.default_rng(8).normal(size=(4, 3)).astype("float32")
    for _, make in SPARSE:
        loss = make(from_logits=True, ignore_class=-1, reduction=None)
        values = numpy(compiled(lambda y, p, f=loss: f(y, p))(labels, logits))
        assert np.isnan(values[0]) and np.all(np.isfinite(values[1:])) and values[3] == 0.0
        with pytest.raises(ValueError, match="whole numbers"):
            loss(labels, logits)
