"""Focal losses: torchvision's values, gamma = 0 is cross-entropy exactly, finite at every extreme,
alpha follows the hard label, and the hyperparameter errors Keras' own focal loss lacks."""

import numpy as np
import pytest

import kerasloss
from tests.backend import grad, numpy, value_and_grad
from tests.reference import formulas as ref

GAMMAS = [0.0, 0.5, 2.0, 5.0]


def _binary_data(seed=0, shape=(64, 4)):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) < 0.2).astype("float32"), (4 * rng.normal(size=shape)).astype("float32")


def _torchvision_sigmoid_focal_loss():
    """torchvision's own `ops/focal_loss.py`, executed from the installed wheel's source.

    Importing torchvision itself needs its compiled ops, which the PyTorch CPU build here lacks; the
    focal loss is pure PyTorch, so its file is run with only its logging hook stubbed out.
    """
    import importlib.util
    import pathlib

    pytest.importorskip("torch", reason="torch is installed by `make test-backends`")
    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        pytest.skip("torchvision is installed by `make test-backends`")
    source = (pathlib.Path(spec.origin).parent / "ops" / "focal_loss.py").read_text()
    source = source.replace("from ..utils import _log_api_usage_once", "_log_api_usage_once = lambda _: None")
    namespace = {}
    exec(compile(source, "torchvision/ops/focal_loss.py", "exec"), namespace)
    return namespace["sigmoid_focal_loss"]


def test_equals_torchvision_sigmoid_focal_loss():
    sigmoid_focal_loss = _torchvision_sigmoid_focal_loss()
    import torch

    y, x = _binary_data()
    for gamma, alpha in [(2.0, 0.25), (0.5, 0.9), (0.0, -1)]:
        theirs = sigmoid_focal_loss(torch.tensor(x), torch.tensor(y), alpha=alpha, gamma=gamma, reduction="mean")
        ours = kerasloss.FocalLoss(gamma=gamma, alpha=None if alpha < 0 else alpha, from_logits=True)(y, x)
        assert numpy(ours) == pytest.approx(float(theirs), rel=1e-6)


def test_equals_torchvision_formula_in_numpy():
    """torchvision's sigmoid_focal_loss, transcribed: p = sigmoid(x), ce = BCE-with-logits,
    p_t = p y + (1 - p)(1 - y), loss = alpha_t ce (1 - p_t)^gamma, mean over every element."""
    y, x = _binary_data(1)
    p = ref.sigmoid(x)
    ce = -(y * ref.log_sigmoid(x) + (1 - y) * ref.log_sigmoid(-x))
    p_t = p * y + (1 - p) * (1 - y)
    expected = ((0.25 * y + 0.75 * (1 - y)) * ce * (1 - p_t) ** 2).mean()
    assert numpy(kerasloss.FocalLoss(from_logits=True)(y, x)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
def test_gamma_zero_without_alpha_is_crossentropy_exactly(from_logits):
    y, x = _binary_data(2)
    pred = x if from_logits else ref.sigmoid(x).astype("float32")
    focal = kerasloss.FocalLoss(gamma=0.0, alpha=None, from_logits=from_logits, reduction=None)
    bce = kerasloss.BinaryCrossentropy(from_logits=from_logits, reduction=None)
    np.testing.assert_array_equal(numpy(focal(y, pred)), numpy(bce(y, pred)))

    rng = np.random.default_rng(3)
    ids, logits = rng.integers(0, 6, 32), (4 * rng.normal(size=(32, 6))).astype("float32")
    probs = np.exp(ref.log_softmax(logits)).astype("float32")
    scores = logits if from_logits else probs
    kw = {"gamma": 0.0, "from_logits": from_logits, "reduction": None}
    ce_kw = {"from_logits": from_logits, "reduction": None}
    np.testing.assert_array_equal(
        numpy(kerasloss.SparseCategoricalFocalLoss(**kw)(ids, scores)),
        numpy(kerasloss.SparseCategoricalCrossentropy(**ce_kw)(ids, scores)),
    )
    onehot = ref.one_hot(ids, 6).astype("float32")
    np.testing.assert_array_equal(
        numpy(kerasloss.CategoricalFocalLoss(**kw)(onehot, scores)),
        numpy(kerasloss.CategoricalCrossentropy(**ce_kw)(onehot, scores)),
    )


def test_sparse_equals_categorical_on_one_hot():
    rng = np.random.default_rng(4)
    ids, logits = rng.integers(0, 5, 40), (6 * rng.normal(size=(40, 5))).astype("float32")
    alpha = [0.1, 0.3, 0.2, 0.25, 0.15]
    for gamma in GAMMAS:
        sparse = kerasloss.SparseCategoricalFocalLoss(gamma=gamma, alpha=alpha, from_logits=True, reduction=None)
        dense = kerasloss.CategoricalFocalLoss(gamma=gamma, alpha=alpha, from_logits=True, reduction=None)
        np.testing.assert_allclose(
            numpy(sparse(ids, logits)), numpy(dense(ref.one_hot(ids, 5), logits)), rtol=1e-5, atol=1e-7
        )


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 2.5])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_logit_gradient_matches_float64_finite_differences(gamma, smoothing):
    """The closed-form gradient against central differences of the NumPy reference."""
    y, x = _binary_data(9, shape=(6, 3))
    alpha = [0.2, 0.5, 0.8]
    loss = kerasloss.FocalLoss(gamma, alpha, from_logits=True, label_smoothing=smoothing, reduction="sum")
    got = grad(lambda z: loss(y, z), x)

    def elementwise(z):  # each logit's own term of the sum (the loss averages over 3 labels)
        column_alpha = np.array(alpha)[:, None]
        return ref.binary_focal(y[..., None], z[..., None], gamma, column_alpha, True, smoothing) / 3

    h = 1e-5
    x64 = x.astype(np.float64)
    numeric = (elementwise(x64 + h) - elementwise(x64 - h)) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=2e-4, atol=1e-7)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_binary_extremes_finite(gamma):
    logits = np.array([[1e4, -1e4, 1e4, -1e4, 0.0, 90.0]], np.float32)
    y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]], np.float32)
    for smoothing in (0.0, 0.1):
        loss = kerasloss.FocalLoss(gamma=gamma, from_logits=True, label_smoothing=smoothing)
        value, g = value_and_grad(lambda x, loss=loss: loss(y, x), logits)
        assert np.isfinite(value) and np.all(np.isfinite(g)), (gamma, smoothing, value, g)
    probs = np.array([[1.0, 0.0, 0.0, 1.0, 0.5, 1.0]], np.float32)
    value, g = value_and_grad(lambda p: kerasloss.FocalLoss(gamma=gamma)(y, p), probs)
    assert np.isfinite(value) and np.all(np.isfinite(g))


@pytest.mark.parametrize("gamma", GAMMAS)
def test_categorical_and_sparse_extremes_finite(gamma):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 0.0]], np.float32)
    ids = np.array([0, 0, 2])
    for loss, target in [
        (kerasloss.SparseCategoricalFocalLoss(gamma=gamma, from_logits=True), ids),
        (kerasloss.CategoricalFocalLoss(gamma=gamma, from_logits=True, label_smoothing=0.1), ref.one_hot(ids, 3)),
    ]:
        value, g = value_and_grad(lambda x, loss=loss, target=target: loss(target, x), logits)
        assert np.isfinite(value) and np.all(np.isfinite(g))
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], np.float32)
    value, g = value_and_grad(lambda p: kerasloss.SparseCategoricalFocalLoss(gamma=gamma)(ids, p), probs)
    assert np.isfinite(value) and np.all(np.isfinite(g))


def test_confident_correct_logits_are_exact_in_the_tail():
    """At logit 40 the true-class term is exp(-40)^2 * exp(-40): naive 1 - sigmoid(40) gives exactly 0."""
    loss = kerasloss.FocalLoss(alpha=None, from_logits=True, reduction=None)
    got = numpy(loss(np.ones((1, 1)), np.full((1, 1), 40.0)))
    assert got[0] == pytest.approx(np.exp(-40.0) ** 3, rel=1e-5)


def test_alpha_follows_the_hard_label_under_smoothing():
    y, x = _binary_data(5)
    smoothed = kerasloss.FocalLoss(gamma=0.0, alpha=0.25, label_smoothing=0.2, from_logits=True, reduction=None)
    bce = numpy(kerasloss.BinaryCrossentropy(label_smoothing=0.2, from_logits=True, reduction=None)(y[:, :1], x[:, :1]))
    got = numpy(smoothed(y[:, :1], x[:, :1]))
    np.testing.assert_allclose(got, np.where(y[:, 0] == 1, 0.25, 0.75) * bce, rtol=1e-6)


def test_per_label_alpha_weights_each_column():
    y, x = _binary_data(6, shape=(16, 3))
    got = numpy(kerasloss.FocalLoss(alpha=[0.1, 0.5, 0.9], from_logits=True, reduction=None)(y, x))
    np.testing.assert_allclose(got, ref.binary_focal(y, x, 2.0, [0.1, 0.5, 0.9], True), rtol=1e-5)


def test_easy_examples_are_down_weighted_as_the_lesson_says():
    """p_t = 0.9 gives weight 0.01, p_t = 0.1 gives 0.81 relative to cross-entropy."""
    focal = kerasloss.FocalLoss(alpha=None, reduction=None)
    bce = kerasloss.BinaryCrossentropy(reduction=None)
    y, p = np.ones((2, 1), np.float32), np.array([[0.9], [0.1]], np.float32)
    np.testing.assert_allclose(numpy(focal(y, p)) / numpy(bce(y, p)), [0.01, 0.81], rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"gamma": -0.5}, "gamma"),
        ({"gamma": float("nan")}, "gamma"),
        ({"alpha": 10}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": [0.2, -1.5]}, "alpha"),
        ({"alpha": []}, "alpha"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
    ],
)
@pytest.mark.parametrize(
    "cls", [kerasloss.FocalLoss, kerasloss.CategoricalFocalLoss, kerasloss.SparseCategoricalFocalLoss]
)
def test_invalid_hyperparameters_raise_at_construction(cls, kwargs, argument):
    if cls is kerasloss.SparseCategoricalFocalLoss and argument == "label_smoothing":
        pytest.skip("the sparse focal loss has no label_smoothing argument")
    with pytest.raises(ValueError, match=rf"argument `{argument}`.*Received: {argument}="):
        cls(**kwargs)


def test_per_class_weights_above_one_are_taken_by_the_softmax_focal_losses_only():
    """Class-balanced weights sum to the number of classes; the sigmoid focal loss's alpha weighs a label's
    positives against its negatives (1 - alpha), so it stays in [0, 1]."""
    weights = kerasloss.class_balanced_weights([50, 10, 2], 0.99)
    assert max(weights) > 1
    with pytest.raises(ValueError, match="argument `alpha`"):
        kerasloss.FocalLoss(alpha=weights)
    rng = np.random.default_rng(8)
    ids, logits = rng.integers(0, 3, 12), rng.normal(size=(12, 3)).astype("float32")
    plain = kerasloss.SparseCategoricalFocalLoss(from_logits=True, reduction=None)(ids, logits)
    weighted = kerasloss.SparseCategoricalFocalLoss(alpha=weights, from_logits=True, reduction=None)(ids, logits)
    np.testing.assert_allclose(numpy(weighted), numpy(plain) * weights[ids], rtol=1e-6)
    categorical = kerasloss.CategoricalFocalLoss(alpha=weights, from_logits=True, reduction=None)
    np.testing.assert_allclose(numpy(categorical(np.eye(3, dtype="float32")[ids], logits)), numpy(weighted), rtol=1e-5)


def test_alpha_of_the_wrong_length_raises_at_call():
    y, x = _binary_data(7, shape=(8, 3))
    with pytest.raises(ValueError, match=r"`alpha` has 2 entries but y_pred has 3"):
        kerasloss.FocalLoss(alpha=[0.2, 0.3], from_logits=True)(y, x)
    with pytest.raises(ValueError, match=r"`alpha` has 2 entries but y_pred has 3"):
        kerasloss.SparseCategoricalFocalLoss(alpha=[0.2, 0.3], from_logits=True)(np.array([0] * 8), x)


def test_loss_is_never_negative():
    """Keras' BinaryFocalCrossentropy(alpha=10) returns negative losses; ours cannot be built so, and
    every valid alpha gives a non-negative loss."""
    y, x = _binary_data(8)
    for alpha in (0.0, 0.25, 1.0, None):
        assert numpy(kerasloss.FocalLoss(alpha=alpha, from_logits=True, reduction=None)(y, x)).min() >= 0
