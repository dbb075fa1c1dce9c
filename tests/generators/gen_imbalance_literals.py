"""Generates tests/literals/imbalance.py: inputs, then the official implementations' values of six class-imbalance
losses (logit adjustment, balanced softmax, class-balanced weights, LDAM-DRW, asymmetric loss, PolyLoss).

Run from the repository root, with the official repositories checked out under one folder (here /tmp/official; the
folder names are the keys of OFFICIAL):

    mkdir -p /tmp/official && cd /tmp/official
    git clone https://github.com/kaidic/LDAM-DRW
    git -C LDAM-DRW checkout 2536330f2afdaa65618323cb5a5850efccce762a
    git clone https://github.com/richardaecn/class-balanced-loss
    git -C class-balanced-loss checkout 1d7857208a2abc03d84e35a9d5383af8225d4b4d
    git clone https://github.com/Alibaba-MIIL/ASL
    git -C ASL checkout 8c9e0bd8d5d450cf19093363fc08aa7244ad4408
    git clone https://github.com/jiawei-ren/BalancedMetaSoftmax-Classification
    git -C BalancedMetaSoftmax-Classification checkout 34a61e432881816c2da14d577d6ed63501288f5f
    git clone --filter=blob:none --sparse https://github.com/google-research/google-research
    git -C google-research sparse-checkout set logit_adjustment
    git -C google-research checkout 1d4d2f1aa6f2883a790d2ae46a6ee8ab150d8f31
    cd -  # back to the repository root
    .venv/bin/python tests/generators/gen_imbalance_literals.py /tmp/official > tests/literals/imbalance.py
    .venv/bin/ruff format tests/literals/imbalance.py

inputs() and the settings lists need NumPy alone (tests/test_imbalance_reference.py imports them and checks the
stored CASES, MULTI_CASES, rows and versions against them); main() imports torch, tensorflow, keras and the official
code, which it loads from the checkouts by file path (nothing of it is copied here). Everything runs in float64.
"""

import sys

import numpy as np

TORCH_VERSION = "2.13.0+cpu"  # the versions the stored values come from (numpy 2.4.6); main() warns on others
TF_VERSION = "2.21.0"
KERAS_VERSION = "3.15.1"

OFFICIAL = {  # folder name under the checkout root: (repository, commit)
    "LDAM-DRW": ("https://github.com/kaidic/LDAM-DRW", "2536330f2afdaa65618323cb5a5850efccce762a"),
    "class-balanced-loss": (
        "https://github.com/richardaecn/class-balanced-loss",
        "1d7857208a2abc03d84e35a9d5383af8225d4b4d",
    ),
    "ASL": ("https://github.com/Alibaba-MIIL/ASL", "8c9e0bd8d5d450cf19093363fc08aa7244ad4408"),
    "BalancedMetaSoftmax-Classification": (
        "https://github.com/jiawei-ren/BalancedMetaSoftmax-Classification",
        "34a61e432881816c2da14d577d6ed63501288f5f",
    ),
    "google-research": (
        "https://github.com/google-research/google-research",
        "1d4d2f1aa6f2883a790d2ae46a6ee8ab150d8f31",
    ),
}

TAUS = [0.0, 0.5, 1.0, 2.0]  # logit adjustment
BETAS = [0.0, 0.9, 0.999, 0.9999]  # class-balanced weights
LDAM = [(0.5, 30.0), (0.3, 1.0), (1.0, 10.0)]  # (max_m, s)
DRW_EPOCHS = [0, 159, 160, 199]  # 0-based epochs of the official cifar_train.py loop
ASL = [(0.0, 4.0, 0.05), (1.0, 4.0, 0.05), (0.0, 0.0, 0.0), (2.0, 1.0, 0.2)]  # (gamma_pos, gamma_neg, clip)
POLY = [(eps, ls) for ls in (0.0, 0.1) for eps in (-1.0, 0.0, 1.0, 2.0)]  # (epsilon, label_smoothing)

_SOURCES = "\n".join(f"    {url} at {commit}" for url, commit in OFFICIAL.values())

DOC = f"""Values from the official implementations of six class-imbalance losses, computed once in float64 and
stored as literals (no torch, no tensorflow).

Official code (loaded by file path from checkouts of these commits, each in a folder named after its
repository; nothing of it is copied):
{_SOURCES}
PolyLoss (Leng et al., ICLR 2022) has no official repository: its rows come from the paper's TensorFlow
listings (Poly-1, and the label-smoothing variant of the appendix), transcribed in
tests/generators/gen_imbalance_literals.py (checked against public copies of the listings, not against the
paper itself; see tests/reference/imbalance.py::poly1).

CASES holds softmax-loss inputs: labels (B,), logits (B, C), counts (C,) (training examples per class).
c10_exp100 has counts 5000 .. 50 (ratio 100); c10_ratio1000_wide 5000 .. 5 (ratio 1000) with logits in
[-50, 50]; c5_saturated counts 1 .. 1000 with logits at exactly +-50 and 0 (confident right, confident wrong,
ties); c2_ratio1000 has C = 2, counts 4000 and 4; batch_of_one has B = 1 and counts 1000 .. 1; c4_balanced
equal counts. MULTI_CASES holds multi-label inputs for the asymmetric loss: targets (B, C) of 0 / 1 and logits
(B, C); edge_c5 has all-zero and all-one rows and logits at +-50, +-40, +-20 and 37.

Rows (float64 throughout; floats are repr()s):
LOGIT_ADJUSTED (google-research logit_adjustment/utils.py build_loss_fn(True, base_probs, tau) with
base_probs = counts / sum(counts), the empirical prior): per_example (each row alone) and loss (the batch; it
returns tf.reduce_mean); adjustment = log(base_probs ** tau + 1e-12) as main.py's post-hoc line computes it
(negated output on zero logits); adjustment_float32 the same line with the official float32 cast (real
tf.float32, stored as the float32 values). BALANCED_SOFTMAX (loss/BalancedSoftmaxLoss.py
balanced_softmax_loss(labels, logits, counts, reduction)): per_example ('none') and loss ('mean').
CLASS_BALANCED (src/cifar_main.py): weights from its effective-number lines (hparams beta, data_version = C),
loss from its _tower_fn softmax branch (weights gathered per example, tf.losses.softmax_cross_entropy with the
default SUM_BY_NONZERO_WEIGHTS reduction, then tf.reduce_mean), per_example the same on each row alone (w_y *
CE). LDAM (losses.py LDAMLoss(counts, max_m, s)): margins (its m_list), per_example (each row alone) and loss
(mean). DRW (cifar_train.py's DRW lines at a 0-based epoch): weights, and loss = LDAMLoss(counts, max_m=0.5,
s=30, weight=weights) on the batch (the weighted mean sum w_y l / sum w_y). ASYMMETRIC (src/loss_functions/
losses.py AsymmetricLoss(gamma_neg, gamma_pos, clip, eps=1e-8, disable_torch_grad_focal_loss=True)):
per_example (each row alone) and loss (the batch: -loss.sum(), a sum over examples and labels). POLY1 (paper
listings, logits and one-hot labels in tf.float64, keras.losses.CategoricalCrossentropy(from_logits=True,
label_smoothing, reduction=None, dtype="float64")): per_example only (the listings return per-example values).

Running the official code in float64 needs three shims, set on the loaded modules only: LDAMLoss builds its
margins and one-hot mask with torch.cuda.FloatTensor, which its module sees as a callable str
"torch.DoubleTensor" (CPU, float64); google-research's and class-balanced-loss's tf.float32 casts see
tf.float64 (and class-balanced-loss's TF1 tf.losses is tf.compat.v1.losses); LDAMLoss's uint8 torch.where mask
only warns in this torch. The official float32 casts of the DRW / class-balanced weights (torch.FloatTensor,
tf.cast) are skipped: weights stay float64.

tests/reference/imbalance.py, run in float64 on the stored inputs, reproduces every value (checked by
tests/test_imbalance_reference.py to |reference - official| <= 1e-12 |official| + 1e-13 unless stated; relative
errors below are over values >= 1e-3): LOGIT_ADJUSTED adjustment (logit_adjustment_official) to <= 1.8e-15
absolute, per_example and loss (logit_adjusted_ce with official_epsilon=True) to <= 1.5e-14 absolute and 2.2e-14
relative (the worst a 0.01 loss formed from adjusted logits near -14); BALANCED_SOFTMAX to <= 1.8e-15 absolute, 2.8e-16
relative; CLASS_BALANCED weights to <= 8.9e-16 absolute, 2.1e-16 relative; LDAM margins exactly, per_example to
<= 2.3e-16 absolute, loss to <= 2.9e-14 absolute, 2.0e-16 relative (values up to 3.0e3); DRW weights exactly,
loss to <= 1.2e-13 absolute, 1.8e-16 relative; ASYMMETRIC per_example to <= 7.2e-15 absolute, 2.1e-16
relative, loss to <= 2.9e-14 absolute; POLY1 (poly1, and sparse_poly1 at no smoothing) to <= 1.5e-14 absolute,
4.6e-15 relative, and poly1_from_probabilities on the softmax probabilities to 1.5e-14 relative. Two
official values are float32 on float64 inputs: CLASS_BALANCED per_example and loss, because
tf.compat.v1.losses.compute_weighted_loss (tensorflow/python/ops/losses/losses_impl.py) casts the losses and
the weights to float32 before weighting and reducing and casts the result back -- the reference agrees to
<= 1.1e-7 relative (1.9e-5 absolute at 243), checked at rtol 4e-7; and adjustment_float32 (the official cast),
within float32 rounding of logit_adjustment_official (<= 7.8e-7 absolute at values up to 15.1). The exact
logit_adjustment (tau * log(pi)) is off the official one by log(1 + 1e-12 / pi ** tau): with it the per-example
losses miss the official ones by up to 3.6e-6 (batch_of_one, tau = 2, pi = 1 / 1888). No other mismatch. The
class-balanced weights take beta ** n with np.power over the array, as officially: NumPy squares for n = 2
where a scalar pow() is one ulp off, which 1 - beta ** n turns into 4e-13 relative (beta = 0.9999). Generated
where torch.backends.cpu.get_cpu_capability() is "AVX512".

Generated by tests/generators/gen_imbalance_literals.py (its inputs() builds CASES and MULTI_CASES with NumPy
alone; TAUS, BETAS, LDAM, DRW_EPOCHS, ASL and POLY list the settings; tests/test_imbalance_reference.py checks the
inputs, the rows' settings, the versions and this docstring against the script). To regenerate, from the
repository root, with the five repositories checked out at those commits under /tmp/official (folder names as
above; google-research needs only logit_adjustment/), torch {TORCH_VERSION}, tensorflow {TF_VERSION}, keras
{KERAS_VERSION} and numpy 2.4.6:

    .venv/bin/python tests/generators/gen_imbalance_literals.py /tmp/official > tests/literals/imbalance.py
    .venv/bin/ruff format tests/literals/imbalance.py
"""


def r2(a):
    return [[float(round(v, 2)) + 0.0 for v in row] for row in np.asarray(a, np.float64)]


def _ints(a):
    return [int(v) for v in np.asarray(a).reshape(-1)]


def inputs():
    """(CASES, MULTI_CASES) as stored, NumPy alone: one random stream, drawn in this order.

    CASES: name -> {"labels" (B,), "logits" (B, C), "counts" (C,)}; MULTI_CASES: name -> {"targets" (B, C) of
    0 / 1, "logits" (B, C)}; all nested lists.
    """
    rng = np.random.default_rng(20250301)
    cases = {}
    exp100 = [round(5000 * 0.01 ** (i / 9)) for i in range(10)]  # 5000 .. 50
    every_class = rng.permutation(np.r_[np.arange(10), rng.integers(0, 10, 6)])  # each class, rare ones too
    cases["c10_exp100"] = (_ints(every_class), r2(3.0 * rng.normal(size=(16, 10))), exp100)
    exp1000 = [round(5000 * 0.001 ** (i / 9)) for i in range(10)]  # 5000 .. 5
    every_class = rng.permutation(np.r_[np.arange(10), rng.integers(0, 10, 2)])
    cases["c10_ratio1000_wide"] = (_ints(every_class), r2(rng.uniform(-50, 50, size=(12, 10))), exp1000)
    cases["c5_saturated"] = (
        [0, 1, 2, 3, 4, 4, 2],
        [
            [50.0, -50.0, 0.0, 0.0, 0.0],  # confident, right
            [50.0, -50.0, 0.0, 0.0, 0.0],  # confident, wrong
            [-50.0, -50.0, 50.0, -50.0, -50.0],
            [0.0, 0.0, 0.0, 0.0, 0.0],  # uniform
            [-50.0, 50.0, 50.0, -50.0, 50.0],  # a three-way tie
            [50.0, 50.0, 50.0, 50.0, -50.0],
            [1.5, -2.25, 49.99, -50.0, 0.0],
        ],
        [1, 10, 100, 1000, 3],
    )
    cases["c2_ratio1000"] = (_ints(rng.integers(0, 2, 8)), r2(5.0 * rng.normal(size=(8, 2))), [4000, 4])
    cases["batch_of_one"] = ([9], r2(2.0 * rng.normal(size=(1, 10))), [1000, 500, 200, 100, 50, 20, 10, 5, 2, 1])
    cases["c4_balanced"] = (_ints(rng.integers(0, 4, 6)), r2(2.0 * rng.normal(size=(6, 4))), [250, 250, 250, 250])

    multi = {}
    multi["b8_c6"] = ([_ints(row) for row in rng.random((8, 6)) < 0.35], r2(2.5 * rng.normal(size=(8, 6))))
    multi["edge_c5"] = (
        [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 0, 0], [0, 1, 0, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]],
        [
            [50.0, -50.0, 0.0, 20.0, -20.0],
            [50.0, -50.0, 0.0, 20.0, -20.0],
            [-50.0, 50.0, 50.0, -50.0, 0.5],
            [40.0, -40.0, 2.94, -2.94, 37.0],
            *r2(3.0 * rng.normal(size=(1, 5))),
            [-3.0, 3.0, 18.0, -18.0, 0.05],
        ],
    )
    multi["one_c4"] = ([[0, 1, 1, 0]], r2(2.0 * rng.normal(size=(1, 4))))

    cases = {name: {"labels": y, "logits": z, "counts": n} for name, (y, z, n) in cases.items()}
    multi = {name: {"targets": t, "logits": z} for name, (t, z) in multi.items()}
    return cases, multi


# main() only: the official code


def _block(path, first, last):
    """The official source lines from the one starting with ``first`` to the next starting with ``last``
    (both stripped, inclusive), dedented: run with exec() rather than copied."""
    import textwrap

    with open(path, encoding="utf-8") as src:
        lines = src.read().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(first)]
    assert len(starts) == 1, (path, first, starts)
    end = next(i for i in range(starts[0], len(lines)) if lines[i].strip().startswith(last))
    src = textwrap.dedent("\n".join(lines[starts[0] : end + 1]))
    print(f"# exec from {path}, lines {starts[0] + 1}-{end + 1}:\n{src}", file=sys.stderr)
    return src


def _load(path, name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official_rows(cases, multi, root):
    """The official values: {"LOGIT_ADJUSTED": [...], "BALANCED_SOFTMAX", "CLASS_BALANCED", "LDAM", "DRW",
    "ASYMMETRIC", "POLY1"}."""
    import os
    import types
    import warnings

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf
    import torch

    warnings.filterwarnings("ignore", message="where received a uint8 condition tensor")
    torch.set_num_threads(1)

    class _Proxy(types.ModuleType):
        """A module that forwards every attribute to ``base`` except the overrides."""

        def __init__(self, base, **overrides):
            super().__init__(base.__name__)
            self.__dict__["_base"] = base
            self.__dict__.update(overrides)

        def __getattr__(self, name):
            return getattr(self.__dict__["_base"], name)

    class _DoubleTensorType(str):
        """Stands for torch.cuda.FloatTensor: ``.type(it)`` casts to float64 on the CPU, ``it(array)`` builds one."""

        def __call__(self, data):
            return torch.tensor(np.asarray(data), dtype=torch.float64)

    tf64 = _Proxy(tf, float32=tf.float64, losses=tf.compat.v1.losses)
    torch64 = _Proxy(torch, cuda=types.SimpleNamespace(FloatTensor=_DoubleTensorType("torch.DoubleTensor")))

    path = {name: os.path.join(root, name) for name in OFFICIAL}
    ldam = _load(os.path.join(path["LDAM-DRW"], "losses.py"), "ldam_drw_losses")
    ldam.torch = torch64
    asl = _load(os.path.join(path["ASL"], "src", "loss_functions", "losses.py"), "asl_losses")
    bals = _load(
        os.path.join(path["BalancedMetaSoftmax-Classification"], "loss", "BalancedSoftmaxLoss.py"), "bals_loss"
    )
    la_utils = _load(os.path.join(path["google-research"], "logit_adjustment", "utils.py"), "la_utils")
    la_utils.tf = tf64
    posthoc = _block(
        os.path.join(path["google-research"], "logit_adjustment", "main.py"),
        "adjusted_logits = logits - tf.math.log(",
        "tf.cast(base_probs**FLAGS.tau + 1e-12, dtype=tf.float32))",
    )
    cb_main = os.path.join(path["class-balanced-loss"], "src", "cifar_main.py")
    cb_weights = _block(
        cb_main,
        "effective_num = 1.0 - np.power(hparams['beta'], img_num_per_cls)",
        "weights = weights / np.sum(weights) * int(hparams['data_version'])",
    )
    cb_loss = _block(cb_main, "weights = tf.cast(weights, dtype=tf.float32)", "tower_loss = tf.reduce_mean(tower_loss)")
    drw = _block(
        os.path.join(path["LDAM-DRW"], "cifar_train.py"),
        "idx = epoch // 160",
        "per_cls_weights = per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)",
    )

    def f(v):
        return float(v) + 0.0

    def fl(t):
        return [f(v) for v in np.asarray(t).reshape(-1)]

    def t64(a):
        return torch.tensor(a, dtype=torch.float64)

    rows = {k: [] for k in ("LOGIT_ADJUSTED", "BALANCED_SOFTMAX", "CLASS_BALANCED", "LDAM", "DRW", "ASYMMETRIC")}
    rows["POLY1"] = []
    for name, case in cases.items():
        labels, logits, counts = case["labels"], case["logits"], case["counts"]
        b, c = len(labels), len(counts)
        zt, yt = t64(logits), torch.tensor(labels, dtype=torch.long)
        zf, yf = tf.constant(logits, tf.float64), tf.constant(labels, tf.int64)
        rows_of = [(zf[i : i + 1], yf[i : i + 1]) for i in range(b)]

        # logit adjustment
        base_probs = np.asarray(counts, np.float64) / np.sum(np.asarray(counts, np.float64))
        for tau in TAUS:
            loss_fn = la_utils.build_loss_fn(True, base_probs, tau)
            ns = {"tf": tf64, "logits": tf.zeros((1, c), tf.float64), "base_probs": base_probs}
            ns["FLAGS"] = types.SimpleNamespace(tau=tau)
            exec(posthoc, ns)
            ns32 = dict(ns, tf=tf, logits=tf.zeros((1, c), tf.float32))
            exec(posthoc, ns32)
            rows["LOGIT_ADJUSTED"].append(
                dict(
                    case=name,
                    tau=tau,
                    adjustment=fl(-ns["adjusted_logits"]),
                    adjustment_float32=fl(-ns32["adjusted_logits"]),
                    per_example=[f(loss_fn(y, z)) for z, y in rows_of],
                    loss=f(loss_fn(yf, zf)),
                )
            )

        # balanced softmax
        spc = torch.tensor(counts)
        rows["BALANCED_SOFTMAX"].append(
            dict(
                case=name,
                per_example=fl(bals.balanced_softmax_loss(yt, zt, spc, "none")),
                loss=f(bals.balanced_softmax_loss(yt, zt, spc, "mean")),
            )
        )

        # class-balanced weights and the official reduced softmax loss
        one_hot = tf.one_hot(yf, c, dtype=tf.float64)
        for beta in BETAS:
            ns = {"np": np, "hparams": {"beta": beta, "data_version": str(c)}, "img_num_per_cls": counts}
            exec(cb_weights, ns)
            weights = np.asarray(ns["weights"], np.float64)

            def tower(one_hot_labels, z, weights=weights, num_classes=c):
                ns = {"tf": tf64, "weights": weights, "one_hot_labels": one_hot_labels, "logits": z}
                ns.update(num_classes=num_classes, loss_type="softmax")
                exec(cb_loss, ns)
                return f(ns["tower_loss"])

            rows["CLASS_BALANCED"].append(
                dict(
                    case=name,
                    beta=beta,
                    weights=fl(weights),
                    per_example=[tower(one_hot[i : i + 1], zf[i : i + 1]) for i in range(b)],
                    loss=tower(one_hot, zf),
                )
            )

        # LDAM
        for max_m, s in LDAM:
            fn = ldam.LDAMLoss(cls_num_list=counts, max_m=max_m, s=s)
            rows["LDAM"].append(
                dict(
                    case=name,
                    max_margin=max_m,
                    scale=s,
                    margins=fl(fn.m_list),
                    per_example=[f(fn(zt[i : i + 1], yt[i : i + 1])) for i in range(b)],
                    loss=f(fn(zt, yt)),
                )
            )

        # DRW weights at an epoch, with the official LDAM pairing (max_m=0.5, s=30)
        for epoch in DRW_EPOCHS:
            ns = {"np": np, "epoch": epoch, "cls_num_list": counts}
            exec(drw, ns)
            weights = np.asarray(ns["per_cls_weights"], np.float64)
            fn = ldam.LDAMLoss(cls_num_list=counts, max_m=0.5, weight=t64(weights), s=30)
            rows["DRW"].append(dict(case=name, epoch=epoch, weights=fl(weights), loss=f(fn(zt, yt))))

        # Poly-1, the paper's listings in float64
        labels_1h = tf.one_hot(yf, c, dtype=tf.float64)
        for epsilon, alpha in POLY:
            if alpha == 0.0:  # Poly-1 listing
                pt = tf.reduce_sum(labels_1h * tf.nn.softmax(zf), axis=-1)
                ce = tf.nn.softmax_cross_entropy_with_logits(labels_1h, zf)
                poly = ce + epsilon * (1 - pt)
            else:  # the label-smoothing listing
                num_classes = labels_1h.get_shape().as_list()[-1]
                smooth_labels = labels_1h * (1 - alpha) + alpha / num_classes
                one_minus_pt = tf.reduce_sum(smooth_labels * (1 - tf.nn.softmax(zf)), axis=-1)
                ce_loss = keras.losses.CategoricalCrossentropy(
                    from_logits=True, label_smoothing=alpha, reduction=None, dtype="float64"
                )
                ce = ce_loss(labels_1h, zf)
                poly = ce + epsilon * one_minus_pt
            rows["POLY1"].append(dict(case=name, epsilon=epsilon, label_smoothing=alpha, per_example=fl(poly)))

    for name, case in multi.items():
        x, y = t64(case["logits"]), t64(case["targets"])
        for gamma_pos, gamma_neg, clip in ASL:
            fn = asl.AsymmetricLoss(
                gamma_neg=gamma_neg, gamma_pos=gamma_pos, clip=clip, eps=1e-8, disable_torch_grad_focal_loss=True
            )
            rows["ASYMMETRIC"].append(
                dict(
                    case=name,
                    gamma_positive=gamma_pos,
                    gamma_negative=gamma_neg,
                    clip=clip,
                    per_example=[f(fn(x[i : i + 1], y[i : i + 1])) for i in range(x.shape[0])],
                    loss=f(fn(x, y)),
                )
            )
    return rows


def main():
    import os
    import subprocess

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    import torch

    if len(sys.argv) != 2:
        sys.exit("usage: gen_imbalance_literals.py OFFICIAL_CHECKOUTS_DIR > tests/literals/imbalance.py")
    root = sys.argv[1]
    for name, (_url, commit) in OFFICIAL.items():
        try:
            head = subprocess.run(
                ["git", "-C", os.path.join(root, name), "rev-parse", "HEAD"], capture_output=True, text=True
            ).stdout.strip()
        except OSError:
            head = ""
        if head != commit:
            print(
                f"warning: {name} is at {head or 'an unknown commit'}, the stored values came from {commit}",
                file=sys.stderr,
            )
    for have, want, what in (
        (torch.__version__, TORCH_VERSION, "torch"),
        (tf.__version__, TF_VERSION, "tensorflow"),
        (keras.__version__, KERAS_VERSION, "keras"),
    ):
        if have != want:
            print(f"warning: {what} {have}, the stored values came from {want}", file=sys.stderr)
    cases, multi = inputs()
    rows = official_rows(cases, multi, root)

    print('"""' + DOC + '"""')
    print()
    print("TORCH_VERSION = " + repr(torch.__version__))
    print("TF_VERSION = " + repr(tf.__version__))
    print("KERAS_VERSION = " + repr(keras.__version__))
    print("OFFICIAL = " + repr(OFFICIAL))
    for key, table in (("CASES", cases), ("MULTI_CASES", multi)):
        print()
        print(key + " = {")
        for name, val in table.items():
            print(repr(name) + ": " + repr(val) + ",")
        print("}")
    for key, table in rows.items():
        print()
        print(key + " = [")
        for row in table:
            print(repr(row) + ",")
        print("]")


if __name__ == "__main__":
    main()
