"""WeightedKappa (ordinal classification) against an independent NumPy transcription of TensorFlow Addons'
WeightedKappaLoss (tests/reference/quantile_ordinal.py), a zero denominator, errors, and ids out of range under
XLA."""

import numpy as np
import pytest

import kerasloss
from tests.backend import numpy
from tests.reference import quantile_ordinal as ref


@pytest.mark.parametrize("weightage", ["quadratic", "linear"])
@pytest.mark.parametrize(("batch", "classes"), [(4, 2), (16, 4), (40, 6)])
def test_weighted_kappa_matches_tfa(weightage, batch, classes):
    rng = np.random.default_rng(3)
    ids = rng.integers(0, classes, batch)
    logits = rng.normal(size=(batch, classes))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    one_hot = np.eye(classes)[ids]
    expected = ref.weighted_kappa(one_hot, probs, classes, weightage)
    loss = kerasloss.WeightedKappa(classes, weightage)
    assert float(numpy(loss(one_hot, probs))) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert float(numpy(loss(ids, probs))) == pytest.approx(expected, rel=1e-5, abs=1e-6)  # ids work too


def test_weighted_kappa_with_a_zero_denominator_is_log_epsilon():
    """Labels and predictions all in class 0: TFA's divide_no_nan gives 0 and the loss log(1e-6)."""
    one_hot = np.tile([1.0, 0.0, 0.0], (4, 1))
    got = float(numpy(kerasloss.WeightedKappa(3)(one_hot, one_hot)))
    assert got == pytest.approx(np.log(1e-6), rel=1e-5)
    assert got == pytest.approx(ref.weighted_kappa(one_hot, one_hot, 3), rel=1e-5)


def test_weighted_kappa_errors():
    with pytest.raises(TypeError, match="num_classes"):
        kerasloss.WeightedKappa()
    with pytest.raises(ValueError, match="argument `num_classes`"):
        kerasloss.WeightedKappa(1)
    with pytest.raises(ValueError, match="argument `weightage`"):
        kerasloss.WeightedKappa(3, weightage="cubic")
    with pytest.raises(ValueError, match=r"expects y_pred of shape \(batch, 3\)"):
        kerasloss.WeightedKappa(3)(np.array([0, 1]), np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\]"):
        kerasloss.WeightedKappa(3)(np.array([0, 3]), np.full((2, 3), 1 / 3, "float32"))


def test_weighted_kappa_with_an_id_out_of_range_is_nan_under_xla():
    """Nothing can raise under XLA; the loss of the batch is NaN rather than a zero label row's value
    (found in review: 1-based grades trained silently on a wrong loss)."""
    from tests.backend import compiled

    probs = np.full((4, 3), 1 / 3, "float32")
    run = compiled(lambda y, p: kerasloss.WeightedKappa(3)(y, p))
    assert np.isnan(float(numpy(run(np.array([0, 1, 2, 3]), probs))))
    assert np.isfinite(float(numpy(run(np.array([0, 1, 2, 2]), probs))))
