"""tests/reference/imbalance.py reproduces the official values stored in tests/literals/imbalance.py.

The literals come from the official implementations (LDAM-DRW, class-balanced-loss, ASL, BalancedMetaSoftmax,
google-research logit_adjustment) and the PolyLoss paper's listings, run in float64 by
tests/generators/gen_imbalance_literals.py; that script needs torch and tensorflow, but its inputs, settings,
versions and docstring need NumPy alone, so a script edited without regenerating the module fails here.
"""

import ast
import pathlib

import numpy as np
import pytest

from tests.generators import gen_imbalance_literals as gen
from tests.literals import imbalance as lit
from tests.reference import imbalance as ref

SCRIPT = pathlib.Path(__file__).parent / "generators" / "gen_imbalance_literals.py"

# Float64 against float64: the reference and the official code round differently (log-softmax order, sums), by
# a few ulps of the values and of the logits (up to 50, times LDAM's scale of 30). The worst seen is 2.2e-14
# relative (a 0.01 loss formed from adjusted logits near -14) and 1.2e-13 absolute (a DRW loss near 730).
RTOL, ATOL = 1e-12, 1e-13


def _same(stored, built):
    """Equal, and equal as repr(): floats stay floats, ints ints, 0.0 is not -0.0."""
    return stored == built and repr(stored) == repr(built)


def _close(got, want, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=rtol, atol=atol)


def _one_hot(labels, num_classes):
    return np.eye(num_classes)[np.asarray(labels)]


# The stored module is current with the script


def test_script_imports_only_numpy_and_sys_at_top_level():
    tree = ast.parse(SCRIPT.read_text())
    names = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert sorted(names) == ["numpy", "sys"], names


def test_versions_and_docstring_match_the_script():
    assert lit.TORCH_VERSION == gen.TORCH_VERSION
    assert lit.TF_VERSION == gen.TF_VERSION
    assert lit.KERAS_VERSION == gen.KERAS_VERSION
    assert _same(lit.OFFICIAL, gen.OFFICIAL)
    assert lit.__doc__ == gen.DOC
    assert "tests/generators/gen_imbalance_literals.py" in lit.__doc__
    for url, commit in gen.OFFICIAL.values():
        assert url in lit.__doc__ and commit in lit.__doc__


def test_inputs_are_the_scripts():
    cases, multi = gen.inputs()
    assert _same(lit.CASES, cases)
    assert _same(lit.MULTI_CASES, multi)


@pytest.mark.parametrize(
    ("table", "keys", "inputs", "settings"),
    [
        ("LOGIT_ADJUSTED", ("tau",), "CASES", "TAUS"),
        ("BALANCED_SOFTMAX", (), "CASES", None),
        ("CLASS_BALANCED", ("beta",), "CASES", "BETAS"),
        ("LDAM", ("max_margin", "scale"), "CASES", "LDAM"),
        ("DRW", ("epoch",), "CASES", "DRW_EPOCHS"),
        ("ASYMMETRIC", ("gamma_positive", "gamma_negative", "clip"), "MULTI_CASES", "ASL"),
        ("POLY1", ("epsilon", "label_smoothing"), "CASES", "POLY"),
    ],
)
def test_rows_cover_the_scripts_settings(table, keys, inputs, settings):
    stored = [(r["case"], *(r[k] for k in keys)) for r in getattr(lit, table)]
    grid = getattr(gen, settings) if settings else [()]
    built = [
        (name, *(setting if isinstance(setting, tuple) else (setting,)))
        for name in getattr(lit, inputs)
        for setting in grid
    ]
    assert _same(stored, built)


# The reference reproduces the official values


@pytest.mark.parametrize("row", lit.LOGIT_ADJUSTED, ids=lambda r: f"{r['case']}-tau{r['tau']}")
def test_logit_adjusted(row):
    case = lit.CASES[row["case"]]
    labels, logits, counts, tau = case["labels"], case["logits"], case["counts"], row["tau"]
    _close(ref.logit_adjustment_official(counts, tau), row["adjustment"])
    each = ref.logit_adjusted_ce(labels, logits, counts, tau, official_epsilon=True)
    _close(each, row["per_example"])
    _close(np.mean(each), row["loss"])
    _close(
        ref.posthoc_adjusted_logits(logits, counts, tau, official_epsilon=True),
        np.asarray(logits) - np.asarray(row["adjustment"]),
    )
    # The official float32 cast: the same adjustment to float32 rounding of the argument and of the log.
    official64 = ref.logit_adjustment_official(counts, tau)
    f32 = np.finfo(np.float32).eps
    assert np.all(np.abs(np.asarray(row["adjustment_float32"]) - official64) <= f32 * (np.abs(official64) + 1))


@pytest.mark.parametrize("row", lit.LOGIT_ADJUSTED, ids=lambda r: f"{r['case']}-tau{r['tau']}")
def test_exact_and_official_adjustments_differ_by_the_1e12_term_only(row):
    counts, tau = lit.CASES[row["case"]]["counts"], row["tau"]
    exact, official = ref.logit_adjustment(counts, tau), ref.logit_adjustment_official(counts, tau)
    np.testing.assert_array_equal(exact, tau * np.log(ref.prior(counts)))
    # exp(official) = pi ** tau + 1e-12 and exp(exact) = pi ** tau, each to a few ulps of pi ** tau <= 1.
    gap = np.exp(official) - np.exp(exact)
    assert np.all(np.abs(gap - 1e-12) <= 8 * np.finfo(np.float64).eps * np.exp(official)), gap - 1e-12
    # and the official form is what the exact one plus that term gives (to the rounding of exp and log)
    _close(official, np.log(np.exp(exact) + 1e-12), rtol=1e-15, atol=4 * np.finfo(np.float64).eps)


@pytest.mark.parametrize("row", lit.BALANCED_SOFTMAX, ids=lambda r: r["case"])
def test_balanced_softmax(row):
    case = lit.CASES[row["case"]]
    each = ref.balanced_softmax_ce(case["labels"], case["logits"], case["counts"])
    _close(each, row["per_example"])
    _close(np.mean(each), row["loss"])


@pytest.mark.parametrize("name", list(lit.CASES))
def test_balanced_softmax_is_logit_adjusted_at_tau_one(name):
    case = lit.CASES[name]
    bs = ref.balanced_softmax_ce(case["labels"], case["logits"], case["counts"])
    la = ref.logit_adjusted_ce(case["labels"], case["logits"], case["counts"], 1.0)
    _close(bs, la)


@pytest.mark.parametrize("row", lit.CLASS_BALANCED, ids=lambda r: f"{r['case']}-beta{r['beta']}")
def test_class_balanced(row):
    case = lit.CASES[row["case"]]
    labels, logits, counts, beta = case["labels"], case["logits"], case["counts"], row["beta"]
    weights = ref.class_balanced_weights(counts, beta)
    _close(weights, row["weights"])
    _close(np.sum(weights), len(counts), rtol=1e-15, atol=0)
    if beta == 0.0:
        np.testing.assert_array_equal(weights, np.ones(len(counts)))
    # The official loss goes through tf.compat.v1.losses.compute_weighted_loss, which casts the losses and the
    # weights to float32 before weighting and reducing: float32 accuracy (seen: 1.1e-7 relative).
    _close(ref.class_balanced_ce(labels, logits, counts, beta), row["per_example"], rtol=4e-7, atol=1e-10)
    _close(ref.class_balanced_ce_official_mean(labels, logits, counts, beta), row["loss"], rtol=4e-7, atol=1e-10)


@pytest.mark.parametrize("row", lit.LDAM, ids=lambda r: f"{r['case']}-m{r['max_margin']}-s{r['scale']}")
def test_ldam(row):
    case = lit.CASES[row["case"]]
    labels, logits, counts = case["labels"], case["logits"], case["counts"]
    m, s = row["max_margin"], row["scale"]
    margins = ref.ldam_margins(counts, m)
    _close(margins, row["margins"])
    assert max(margins) == pytest.approx(m, rel=1e-15)
    _close(ref.ldam(labels, logits, counts, m, s), row["per_example"])
    _close(ref.ldam_weighted_mean(labels, logits, counts, None, m, s), row["loss"])


@pytest.mark.parametrize("row", lit.DRW, ids=lambda r: f"{r['case']}-epoch{r['epoch']}")
def test_drw(row):
    case = lit.CASES[row["case"]]
    labels, logits, counts = case["labels"], case["logits"], case["counts"]
    weights = ref.drw_weights(counts, row["epoch"])
    _close(weights, row["weights"])
    if row["epoch"] < 160:
        np.testing.assert_array_equal(weights, np.ones(len(counts)))
    else:
        _close(weights, ref.class_balanced_weights(counts, 0.9999), rtol=0, atol=0)
    _close(ref.ldam_weighted_mean(labels, logits, counts, weights), row["loss"])


def test_ldam_weighted_mean_divides_by_the_sum_of_the_batchs_weights():
    case = lit.CASES["c10_exp100"]
    labels, logits, counts = case["labels"], case["logits"], case["counts"]
    weights = ref.drw_weights(counts, 160)
    each = ref.ldam(labels, logits, counts)
    w = weights[np.asarray(labels)]
    _close(ref.ldam_weighted_mean(labels, logits, counts, weights), np.sum(w * each) / np.sum(w))
    # a batch of one gives its loss whatever its weight (what F.cross_entropy(weight=...) does)
    _close(ref.ldam_weighted_mean(labels[:1], logits[:1], counts, weights), each[0])


@pytest.mark.parametrize(
    "row",
    lit.ASYMMETRIC,
    ids=lambda r: f"{r['case']}-gp{r['gamma_positive']}-gn{r['gamma_negative']}-clip{r['clip']}",
)
def test_asymmetric(row):
    case = lit.MULTI_CASES[row["case"]]
    each = ref.asymmetric(case["targets"], case["logits"], row["gamma_positive"], row["gamma_negative"], row["clip"])
    _close(each, row["per_example"])
    _close(np.sum(each), row["loss"])  # the official value is the sum over the batch, not a mean


@pytest.mark.parametrize("row", lit.POLY1, ids=lambda r: f"{r['case']}-eps{r['epsilon']}-ls{r['label_smoothing']}")
def test_poly1(row):
    case = lit.CASES[row["case"]]
    labels, logits = case["labels"], case["logits"]
    eps, ls = row["epsilon"], row["label_smoothing"]
    one_hot = _one_hot(labels, len(case["counts"]))
    _close(ref.poly1(one_hot, logits, eps, ls), row["per_example"])
    if ls == 0.0:
        _close(ref.sparse_poly1(labels, logits, eps), row["per_example"])
    # From probabilities: the softmax's rounding enters the log (seen: 1.5e-14 relative).
    z = np.asarray(logits)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    _close(ref.poly1_from_probabilities(one_hot, p, eps, ls), row["per_example"], rtol=1e-12, atol=1e-12)
