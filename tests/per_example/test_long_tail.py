"""The long-tail losses: the official code's values (stored in tests/literals/imbalance.py), the NumPy
reference's gradient, balanced softmax equal to the logit-adjusted loss at tau = 1, exact class-balanced
weights, finite values at the extremes, and every refused argument named."""

import decimal

import keras
import numpy as np
import pytest

import kerasloss
from tests.backend import BACKEND, value_and_grad
from tests.literals import imbalance as official
from tests.reference import imbalance as ref
from tests.reference.formulas import finite_differences

FLOAT64 = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="float64 end to end: Keras computes 64-bit inputs in 32 bits on JAX and PyTorch"
)


def _case(name):
    case = official.CASES[name]
    return np.asarray(case["labels"]), np.asarray(case["logits"], np.float64), case["counts"]


def _per_example(loss, labels, logits):
    loss = type(loss).from_config({**loss.get_config(), "reduction": None, "dtype": "float64"})
    return np.asarray(keras.ops.convert_to_numpy(loss(labels, logits)))


@FLOAT64
@pytest.mark.parametrize("row", official.BALANCED_SOFTMAX, ids=lambda row: row["case"])
def test_balanced_softmax_equals_the_official_code(row):
    labels, logits, counts = _case(row["case"])
    values = _per_example(kerasloss.BalancedSoftmax(counts), labels, logits)
    np.testing.assert_allclose(values, row["per_example"], rtol=1e-12, atol=1e-13)


@FLOAT64
@pytest.mark.parametrize("row", official.LOGIT_ADJUSTED, ids=lambda row: f"{row['case']}-tau{row['tau']}")
def test_logit_adjusted_equals_the_exact_reference_and_the_official_code_up_to_its_epsilon(row):
    labels, logits, counts = _case(row["case"])
    values = _per_example(kerasloss.LogitAdjusted(counts, tau=row["tau"]), labels, logits)
    np.testing.assert_allclose(
        values, ref.logit_adjusted_ce(labels, logits, counts, row["tau"]), rtol=1e-12, atol=1e-13
    )
    # The official log(prior ** tau + 1e-12) moves a logit by at most 1e-12 / prior ** tau.
    slack = 1e-12 / np.min(ref.prior(counts)) ** row["tau"]
    np.testing.assert_allclose(values, row["per_example"], rtol=0, atol=2 * slack + 1e-13)


@FLOAT64
@pytest.mark.parametrize("row", official.LDAM, ids=lambda row: f"{row['case']}-{row['max_margin']}-{row['scale']}")
def test_ldam_equals_the_official_code(row):
    labels, logits, counts = _case(row["case"])
    np.testing.assert_allclose(kerasloss.ldam_margins(counts, row["max_margin"]), row["margins"], rtol=1e-15)
    values = _per_example(kerasloss.LDAM(counts, row["max_margin"], row["scale"]), labels, logits)
    np.testing.assert_allclose(values, row["per_example"], rtol=1e-12, atol=1e-13)


@FLOAT64
@pytest.mark.parametrize("row", official.DRW, ids=lambda row: f"{row['case']}-epoch{row['epoch']}")
def test_ldam_with_the_official_drw_weights_sums_to_the_official_weighted_loss(row):
    """The official mean divides by the batch's summed weights: sum(w_y l) / sum(w_y) = Keras' "sum" over
    the batch, divided by the weights' sum."""
    labels, logits, counts = _case(row["case"])
    loss = kerasloss.LDAM(counts, class_weights=row["weights"], reduction="sum", dtype="float64")
    total = float(keras.ops.convert_to_numpy(loss(labels, logits)))
    np.testing.assert_allclose(total / np.sum(np.asarray(row["weights"])[labels]), row["loss"], rtol=1e-12)


def test_drw_weights_are_the_class_balanced_ones_from_epoch_160():
    counts = official.CASES["c10_exp100"]["counts"]
    before = [row["weights"] for row in official.DRW if row["case"] == "c10_exp100" and row["epoch"] < 160]
    after = [row["weights"] for row in official.DRW if row["case"] == "c10_exp100" and row["epoch"] >= 160]
    assert before and after
    for weights in before:
        np.testing.assert_array_equal(weights, np.ones(len(counts)))
    for weights in after:
        np.testing.assert_allclose(kerasloss.class_balanced_weights(counts, 0.9999), weights, rtol=1e-12)


@pytest.mark.parametrize("row", official.CLASS_BALANCED, ids=lambda row: f"{row['case']}-beta{row['beta']}")
def test_class_balanced_weights_equal_the_official_code(row):
    counts = official.CASES[row["case"]]["counts"]
    weights = kerasloss.class_balanced_weights(counts, row["beta"])
    # The official 1 - np.power(beta, n) cancels digits as beta -> 1; ours is exact (next test).
    np.testing.assert_allclose(weights, row["weights"], rtol=1e-12)
    assert weights.sum() == pytest.approx(len(counts), rel=1e-15)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.999, 0.9999, 0.999999])
def test_class_balanced_weights_are_exact_to_a_few_ulps(beta):
    counts = [1, 2, 3, 7, 100, 5000]
    with decimal.localcontext(decimal.Context(prec=60)):
        b = decimal.Decimal(beta)  # the float64 beta, exactly
        raw = [(1 - b) / (1 - b**n) for n in counts]
        exact = [float(w * len(counts) / sum(raw)) for w in raw]
    np.testing.assert_allclose(kerasloss.class_balanced_weights(counts, beta), exact, rtol=1e-15)


def test_class_balanced_weights_run_from_equal_to_inverse_frequency():
    counts = np.array([400, 100, 20, 5])
    np.testing.assert_array_equal(kerasloss.class_balanced_weights(counts, 0.0), np.ones(4))
    inverse = (1 / counts) * 4 / np.sum(1 / counts)
    np.testing.assert_allclose(kerasloss.class_balanced_weights(counts, 1 - 1e-12), inverse, rtol=1e-6)


def test_logit_adjustment_is_tau_times_the_log_prior():
    counts = [900, 90, 10]
    np.testing.assert_allclose(kerasloss.logit_adjustment(counts, tau=1.5), 1.5 * np.log(np.array(counts) / 1000))
    np.testing.assert_allclose(kerasloss.logit_adjustment(counts, 1.0), ref.logit_adjustment(counts, 1.0), rtol=1e-15)


def test_post_hoc_adjustment_of_a_plain_model_is_the_logit_adjusted_loss_at_prediction():
    """Subtracting the adjustment from logits z gives the logits that LogitAdjusted's softmax saw as z: the
    plain cross-entropy of (z - adjustment) equals LogitAdjusted's loss of (z - adjustment)... shifted back."""
    labels, logits, counts = _case("c10_exp100")
    adjusted = logits - kerasloss.logit_adjustment(counts, 1.0)
    plain = kerasloss.SparseCategoricalCrossentropy(from_logits=True, reduction=None, dtype="float64")
    la = kerasloss.LogitAdjusted(counts, reduction=None, dtype="float64")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(la(labels, adjusted)), keras.ops.convert_to_numpy(plain(labels, logits)), rtol=1e-5
    )


def test_balanced_softmax_is_logit_adjusted_at_tau_one_per_example():
    rng = np.random.default_rng(1)
    counts = [5000, 700, 60, 9, 1]
    labels, logits = rng.integers(0, 5, 32), (4 * rng.normal(size=(32, 5))).astype("float32")
    bs = kerasloss.BalancedSoftmax(counts, reduction=None)(labels, logits)
    la = kerasloss.LogitAdjusted(counts, tau=1.0, reduction=None)(labels, logits)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bs), keras.ops.convert_to_numpy(la), rtol=2e-6, atol=1e-6)


def test_tau_zero_and_equal_counts_are_the_plain_cross_entropy():
    rng = np.random.default_rng(2)
    labels, logits = rng.integers(0, 4, 16), rng.normal(size=(16, 4)).astype("float32")
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    for loss in (kerasloss.LogitAdjusted([9, 3, 2, 1], tau=0.0), kerasloss.BalancedSoftmax([7, 7, 7, 7])):
        np.testing.assert_allclose(float(loss(labels, logits)), float(plain), rtol=1e-6)


REFERENCES = [
    (
        "logit_adjusted",
        lambda c: kerasloss.LogitAdjusted(c, tau=1.5, dtype="float64"),
        lambda y, x, c: ref.logit_adjusted_ce(y, x, c, 1.5),
    ),
    ("balanced_softmax", lambda c: kerasloss.BalancedSoftmax(c, dtype="float64"), ref.balanced_softmax_ce),
    ("ldam", lambda c: kerasloss.LDAM(c, 0.5, 10.0, dtype="float64"), lambda y, x, c: ref.ldam(y, x, c, 0.5, 10.0)),
]


@FLOAT64
@pytest.mark.parametrize(("name", "make", "reference"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_gradient_matches_float64_finite_differences(name, make, reference):
    rng = np.random.default_rng(3)
    counts = [300, 40, 9, 2]
    labels, logits = rng.integers(0, 4, 6), rng.normal(size=(6, 4))
    _, gradient = value_and_grad(lambda x: make(counts)(labels, x), logits)
    expected = finite_differences(lambda x: reference(labels, x, counts).mean(), logits)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "loss",
    [
        kerasloss.LogitAdjusted([5000, 500, 50, 5, 1], tau=2.0),
        kerasloss.BalancedSoftmax([5000, 500, 50, 5, 1]),
        kerasloss.LDAM([5000, 500, 50, 5, 1], class_weights=kerasloss.class_balanced_weights([5000, 500, 50, 5, 1])),
    ],
    ids=lambda loss: type(loss).__name__,
)
@pytest.mark.parametrize("logits", [50.0, -50.0, 1e4, -1e4])
def test_finite_at_extreme_logits_and_counts_from_1_to_5000(loss, logits):
    labels = np.array([0, 1, 2, 3, 4, 4])
    x = np.full((6, 5), logits, np.float32)
    x[:, 0] = -logits
    value, gradient = value_and_grad(lambda x: loss(labels, x), x)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_counts_past_a_million_stay_finite(dtype):
    counts = [2_000_000, 1000, 1]
    loss = kerasloss.LogitAdjusted(counts, dtype=dtype)
    value = float(keras.ops.convert_to_numpy(keras.ops.cast(loss(np.array([0, 2]), np.zeros((2, 3))), "float32")))
    expected = float(kerasloss.LogitAdjusted(counts)(np.array([0, 2]), np.zeros((2, 3))))
    assert np.isfinite(value) and value == pytest.approx(expected, rel=2e-2)


@pytest.mark.parametrize(
    ("make", "argument", "value"),
    [
        (lambda v: kerasloss.LogitAdjusted(v), "class_counts", [10, 0, 3]),
        (lambda v: kerasloss.LogitAdjusted(v), "class_counts", [10, -1]),
        (lambda v: kerasloss.LogitAdjusted(v), "class_counts", []),
        (lambda v: kerasloss.LogitAdjusted(v), "class_counts", 10),
        (lambda v: kerasloss.BalancedSoftmax(v), "class_counts", [3, float("nan")]),
        (lambda v: kerasloss.LogitAdjusted([3, 1], tau=v), "tau", -0.5),
        (lambda v: kerasloss.LDAM([3, 1], max_margin=v), "max_margin", 0.0),
        (lambda v: kerasloss.LDAM([3, 1], scale=v), "scale", -1.0),
        (lambda v: kerasloss.LDAM([3, 1], class_weights=v), "class_weights", [1.0, -2.0]),
        (lambda v: kerasloss.class_balanced_weights([3, 1], beta=v), "beta", 1.0),
        (lambda v: kerasloss.class_balanced_weights([3, 1], beta=v), "beta", -0.1),
        (lambda v: kerasloss.class_balanced_weights(v), "class_counts", [0, 1]),
        (lambda v: kerasloss.logit_adjustment([3, 1], tau=v), "tau", -1.0),
        (lambda v: kerasloss.ldam_margins([3, 1], max_margin=v), "max_margin", -0.2),
    ],
)
def test_invalid_arguments_are_named(make, argument, value):
    with pytest.raises(ValueError, match=f"argument `{argument}`"):
        make(value)


@pytest.mark.parametrize(
    "loss",
    [kerasloss.LogitAdjusted([3, 2, 1]), kerasloss.BalancedSoftmax([3, 2, 1]), kerasloss.LDAM([3, 2, 1])],
    ids=lambda loss: type(loss).__name__,
)
def test_ids_out_of_range_and_a_wrong_number_of_counts_raise(loss):
    logits = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 2\]"):
        loss(np.array([0, 3]), logits)
    with pytest.raises(ValueError, match="`class_counts` has 3 entries but y_pred has 4"):
        loss(np.array([0, 1]), np.zeros((2, 4), np.float32))


def test_ldam_class_weights_multiply_each_example_and_must_match_the_classes():
    labels, logits = np.array([0, 1, 2]), np.random.default_rng(4).normal(size=(3, 3)).astype("float32")
    plain = kerasloss.LDAM([30, 10, 2], reduction=None)(labels, logits)
    weighted = kerasloss.LDAM([30, 10, 2], class_weights=[0.5, 1.0, 4.0], reduction=None)(labels, logits)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(weighted), keras.ops.convert_to_numpy(plain) * [0.5, 1.0, 4.0], rtol=1e-6
    )
    with pytest.raises(ValueError, match="`class_weights` has 2 entries"):
        kerasloss.LDAM([30, 10, 2], class_weights=[1.0, 2.0])(labels, logits)


def test_counts_as_numpy_integers_are_stored_as_plain_floats():
    loss = kerasloss.LogitAdjusted(np.array([900, 90, 10]), tau=np.float32(0.5))
    assert loss.get_config()["class_counts"] == [900.0, 90.0, 10.0]
    assert loss.get_config()["tau"] == 0.5


def test_class_balanced_weights_as_keras_class_weight_and_as_focal_alpha_give_one_loss():
    """The docstring's two uses: `fit(class_weight=dict(enumerate(w)))` on plain cross-entropy and the sparse focal
    loss's `alpha=w` at gamma = 0 both weigh each example by its class's weight and divide by the batch size."""
    counts = [24, 6, 2]
    weights = kerasloss.class_balanced_weights(counts, 0.99)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(32, 4)).astype("float32"), np.repeat([0, 1, 2], counts)

    def first_epoch_loss(loss, **fit_arguments):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
        return model.fit(x, y, batch_size=32, epochs=1, verbose=0, **fit_arguments).history["loss"][0]

    by_class_weight = first_epoch_loss(
        kerasloss.SparseCategoricalCrossentropy(from_logits=True), class_weight=dict(enumerate(weights))
    )
    by_alpha = first_epoch_loss(kerasloss.SparseCategoricalFocalLoss(gamma=0.0, alpha=weights, from_logits=True))
    assert by_class_weight == pytest.approx(by_alpha, rel=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "make",
    [
        lambda counts, dtype: kerasloss.LogitAdjusted(counts, dtype=dtype, reduction=None),
        lambda counts, dtype: kerasloss.BalancedSoftmax(counts, dtype=dtype, reduction=None),
        lambda counts, dtype: kerasloss.LDAM(counts, scale=4.0, dtype=dtype, reduction=None),
    ],
    ids=["logit_adjusted", "balanced_softmax", "ldam"],
)
def test_half_precision_is_as_close_as_its_output_can_be(make, dtype):
    """The per-class constants and the sum are taken in float32: each loss is its dtype's rounding of the
    float32 value (in bfloat16 a 0.001 loss used to come out 0, the log-prior added in 8 bits)."""
    rng = np.random.default_rng(6)
    counts = [5000, 700, 60, 9, 1]
    labels, logits = rng.integers(0, 5, 256), (3 * rng.normal(size=(256, 5))).astype("float32")
    rounded = keras.ops.convert_to_numpy(keras.ops.cast(keras.ops.cast(logits, dtype), "float32"))
    expected = keras.ops.convert_to_numpy(make(counts, "float32")(labels, rounded))
    values = keras.ops.convert_to_numpy(keras.ops.cast(make(counts, dtype)(labels, logits), "float32"))
    precision = {"float16": 2**-11, "bfloat16": 2**-8}[dtype]
    np.testing.assert_allclose(values, expected, rtol=2 * precision, atol=1e-6)
