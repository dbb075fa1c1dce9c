"""Pinball (quantile regression) against an independent NumPy transcription of TensorFlow Addons' PinballLoss
(tests/reference/quantile_ordinal.py), TFA's own published values, errors, and learning: the pinball loss's
minimizer is the quantile."""

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import numpy
from tests.reference import quantile_ordinal as ref


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9, 0.0, 1.0])
@pytest.mark.parametrize("shape", [(7, 1), (7, 3)])
def test_pinball_matches_tfa(tau, shape):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=shape), rng.normal(size=shape)
    got = numpy(kerasloss.Pinball(tau, reduction=None)(y_true, y_pred))
    np.testing.assert_allclose(got, ref.pinball(y_true, y_pred, tau), rtol=1e-6, atol=1e-7)


def test_pinball_with_several_quantiles_scores_each_column_against_its_own():
    rng = np.random.default_rng(1)
    targets, estimates = rng.normal(size=(9,)), rng.normal(size=(9, 3))
    quantiles = [0.1, 0.5, 0.9]
    got = numpy(kerasloss.Pinball(quantiles, reduction=None)(targets, estimates))
    np.testing.assert_allclose(got, ref.pinball(targets[:, None], estimates, quantiles), rtol=1e-6)
    expected = np.mean(
        [ref.pinball(targets[:, None], estimates[:, [q]], tau) for q, tau in enumerate(quantiles)], axis=0
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(numpy(kerasloss.Pinball(quantiles, reduction=None)(targets[:, None], estimates)), got)


Y_TRUE = np.array([1, 9, 2, -5, -2, 6], "float32").reshape(2, 3)


Y_PRED = np.array([4, 8, 12, 8, 1, 3], "float32").reshape(2, 3)


@pytest.mark.parametrize(
    ("make", "weights", "expected"),
    [
        (lambda: kerasloss.Pinball(), None, 2.75),
        (lambda: kerasloss.Pinball(), 2.3, 6.325),
        (lambda: kerasloss.Pinball(), np.array([[1.2], [3.4]], "float32"), 40.7 / 6),
        (lambda: kerasloss.Pinball(), 0.0, 0.0),
        (lambda: kerasloss.Pinball(0.0), None, 4.8333),
        (lambda: kerasloss.Pinball(0.1), None, 4.4166),
        (lambda: kerasloss.Pinball(0.9), None, 1.0833),
        (lambda: kerasloss.Pinball(1.0), None, 0.6666),
        (lambda: kerasloss.Pinball(reduction=None), 2.3, [5.3666, 7.28333]),
        (lambda: kerasloss.Pinball(reduction="sum"), 2.3, 12.65),
    ],
)
def test_pinball_published_tfa_values(make, weights, expected):
    """TensorFlow Addons' own PinballLoss tests (tensorflow_addons/losses/tests/quantiles_test.py), ported."""
    loss = make()
    assert np.all(numpy(loss(Y_TRUE, Y_TRUE)) == 0)  # test_all_correct_unweighted
    kwargs = {} if weights is None else {"sample_weight": weights}
    np.testing.assert_allclose(numpy(loss(Y_TRUE, Y_PRED, **kwargs)), expected, atol=1e-3)


def test_pinball_published_tfa_timestep_weights():
    """TFA's test_timestep_weighted: (2, 3, 1) targets, (2, 3) weights: 41.5 / 6."""
    weights = np.array([3, 6, 5, 0, 4, 2], "float32").reshape(2, 3)
    got = kerasloss.Pinball()(Y_TRUE[..., None], Y_PRED[..., None], sample_weight=weights)
    assert float(numpy(got)) == pytest.approx(41.5 / 6, abs=1e-3)


@pytest.mark.slow
def test_pinball_minimizer_is_the_quantile():
    """A constant trained with the pinball loss at tau converges to the tau-quantile of the targets."""
    rng = np.random.default_rng(2)
    targets = rng.exponential(size=(2000, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=kerasloss.Pinball([0.1, 0.5, 0.9]))
    model.fit(np.zeros_like(targets), targets, batch_size=2000, epochs=400, verbose=0)
    estimates = numpy(model(np.zeros((1, 1), "float32")))[0]
    np.testing.assert_allclose(estimates, np.quantile(targets, [0.1, 0.5, 0.9]), atol=0.05)


def test_pinball_errors():
    with pytest.raises(ValueError, match="argument `quantiles`"):
        kerasloss.Pinball(1.5)
    with pytest.raises(ValueError, match="argument `quantiles`"):
        kerasloss.Pinball([])
    with pytest.raises(ValueError, match=r"2 quantiles expects y_pred of shape \(batch, 2\)"):
        kerasloss.Pinball([0.1, 0.9])(np.zeros(4), np.zeros((4, 3), "float32"))
