"""The exercise datasets: generated from fixed seeds (or shipped inside scikit-learn), split into train
and held-out test sets, built once per process and cached in memory. Nothing is downloaded.

Each dataset has a task, which decides the model head, the metrics and the picture:
- "binary": integer labels in {0, 1}; class 1 is the minority where there is one.
- "regression": float targets; the test targets are clean.
- "multiclass": integer labels; `teacher` holds a teacher's logits for distillation.
- "embedding": integer labels, learned as an embedding (triplet / contrastive losses).
"""

import functools
from dataclasses import dataclass, field

import numpy as np

TASKS = ("binary", "regression", "multiclass", "embedding")


@dataclass(frozen=True)
class Dataset:
    """Arrays of one exercise dataset. `x_*` float32 (n, features); `y_*` int32 labels or float32 targets."""

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str
    classes: int = 0
    image_shape: tuple = ()  # for augmentations (digits: 8 x 8)
    teacher: np.ndarray = field(default=None, repr=False)  # teacher logits for x_train (multiclass)
    x_val: np.ndarray = field(default=None, repr=False)  # the validation part: what chooses, never the test
    y_val: np.ndarray = field(default=None, repr=False)
    encoder: object = field(default=None, repr=False)  # a table's `sweeps.tables.TableEncoder`: raw columns in
    table_rows: dict = field(default=None, repr=False)  # a table's rows in each part ("train", "validation", "test")


def _split(x, y, test_fraction, rng):
    order = rng.permutation(len(x))
    cut = round(len(x) * (1 - test_fraction))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def circle():
    """The lesson's circle data: points uniform on [-2, 2]^2, label 1 inside x^2 + y^2 < 1.5 (29% of them)."""
    rng = np.random.default_rng(42)
    x = rng.uniform(-2, 2, size=(1200, 2)).astype("float32")
    y = (np.sum(x**2, axis=1) < 1.5).astype("int32")
    return Dataset("circle", "binary", *_split(x, y, 1 / 3, rng), "x^2 + y^2 < 1.5 on [-2, 2]^2, 800 / 400")


def sin_outliers():
    """y = sin(x) + noise on [-pi, pi]; 5% of the training targets are replaced by outliers (offsets of
    3 to 6 with random sign). The test targets are clean sin(x) on a grid, and so are those of its own
    validation part (150 other points): the question is which loss recovers the clean curve, so trials are
    chosen by how well they fit it, not by how well they fit the outliers."""
    rng = np.random.default_rng(7)
    x_train = rng.uniform(-np.pi, np.pi, size=(600, 1)).astype("float32")
    y_train = np.sin(x_train[:, 0]) + 0.05 * rng.normal(size=600)
    corrupted = rng.choice(600, size=30, replace=False)
    y_train[corrupted] += rng.choice([-1.0, 1.0], size=30) * rng.uniform(3, 6, size=30)
    x_test = np.linspace(-np.pi, np.pi, 300, dtype="float32")[:, None]
    x_val = rng.uniform(-np.pi, np.pi, size=(150, 1)).astype("float32")
    return Dataset(
        "sin_outliers",
        "regression",
        x_train,
        y_train.astype("float32"),
        x_test,
        np.sin(x_test[:, 0]).astype("float32"),
        "y = sin(x), 5% of 600 training targets corrupted; 150 clean validation and 300 clean test points",
        x_val=x_val,
        y_val=np.sin(x_val[:, 0]).astype("float32"),
    )


def imbalanced(minority_percent):
    """Two overlapping 2-D Gaussian classes, (100 - m) : m, with exactly that ratio in train and test."""

    def build():
        rng = np.random.default_rng(100 + minority_percent)

        def draw(n):
            minority = round(n * minority_percent / 100)
            majority = rng.normal(0.0, 1.0, size=(n - minority, 2))
            rare = rng.normal(1.6, 0.7, size=(minority, 2))
            x = np.concatenate([majority, rare]).astype("float32")
            y = np.concatenate([np.zeros(n - minority), np.ones(minority)]).astype("int32")
            order = rng.permutation(n)
            return x[order], y[order]

        x_train, y_train = draw(2000)
        x_test, y_test = draw(2000)
        ratio = f"{100 - minority_percent}/{minority_percent}"
        return Dataset(
            f"imbalanced_{100 - minority_percent}_{minority_percent}",
            "binary",
            x_train,
            y_train,
            x_test,
            y_test,
            f"2-D Gaussians at {ratio}, class 1 the minority; 2000 / 2000",
        )

    return build


def blobs5():
    """The lesson's five-class 2-D embedding data, hidden in a 2-D subspace of 20 noisy dimensions, so
    that an untrained network's embedding sees mostly noise and a trained one must find the subspace."""
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 5, 1500).astype("int32")
    centres = np.array([[0, 0], [3, 0], [0, 3], [3, 3], [1.5, 1.5]])
    points = centres[labels] + 0.6 * rng.normal(size=(1500, 2))
    basis = np.linalg.qr(np.random.default_rng(99).normal(size=(20, 2)))[0]
    x = (points @ basis.T + 1.2 * rng.normal(size=(1500, 20))).astype("float32")
    return Dataset("blobs5", "embedding", *_split(x, labels, 1 / 3, rng), "5 classes, 2-D in 20-D noise; 1000 / 500", 5)


def multiclass():
    """Eight overlapping Gaussian classes in 10-D (the Bayes error is well above zero, so overconfidence
    shows). `teacher` holds each training point's exact log-posterior over the classes (up to a
    constant): the logits of a perfect teacher, whose soft targets distillation can use."""
    rng = np.random.default_rng(8)
    classes, dim = 8, 10
    means = 1.2 * rng.normal(size=(classes, dim))
    labels = rng.integers(0, classes, 3000).astype("int32")
    x = (means[labels] + rng.normal(size=(3000, dim))).astype("float32")
    logits = x @ means.T - 0.5 * np.sum(means**2, axis=1)  # log N(x; mean_k, I) up to a constant
    order = rng.permutation(3000)
    train, test = order[:2000], order[2000:]
    return Dataset(
        "multiclass",
        "multiclass",
        x[train],
        labels[train],
        x[test],
        labels[test],
        "8 overlapping Gaussian classes in 10-D, Bayes-posterior teacher; 2000 / 1000",
        classes,
        teacher=logits[train].astype("float32"),
    )


def digits():
    """scikit-learn's bundled 8 x 8 digits (1,797 images shipped in the package: no download), /16."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x, y = (bunch.data / 16.0).astype("float32"), bunch.target.astype("int32")
    return Dataset(
        "digits", "embedding", *_split(x, y, 1 / 3, np.random.default_rng(10)), "sklearn digits; 1198 / 599", 10, (8, 8)
    )


# The long-tailed mixture (experiment 9 and the `long_tail_*` sweeps): 10 classes in 10-D, each an equal mixture
# of two unit Gaussians whose means are drawn once, at a spread where the classes overlap and the prior matters.
CLASSES, DIM, SPREAD, PROBLEM_SEED = 10, 10, 1.0, 2019
N_MAX, VAL_PER_CLASS, TEST_PER_CLASS = 500, 200, 1000


def class_counts(ratio, n_max=N_MAX, classes=CLASSES):
    """n_j = int(n_max * (1 / ratio) ** (j / (C - 1))), as the official LDAM-DRW code computes CIFAR-10-LT's
    profile (`imbalance_cifar.py`, imb_type "exp"); class 0 the largest."""
    return np.array([int(n_max * (1.0 / ratio) ** (j / (classes - 1.0))) for j in range(classes)])


def mixture_means():
    """The class means, (classes, 2 modes, dim): one problem for every seed."""
    return np.random.default_rng(PROBLEM_SEED).normal(size=(CLASSES, 2, DIM)) * SPREAD


def _draw(means, per_class, rng):
    labels = np.repeat(np.arange(CLASSES), per_class)
    modes = rng.integers(0, 2, size=len(labels))
    x = means[labels, modes] + rng.normal(size=(len(labels), DIM))
    return x.astype("float32"), labels.astype("int32")


def bayes_scores(x, means):
    """log p(x | y) up to a constant: the balanced-error Bayes classifier is its argmax."""
    squared = ((x[:, None, None, :] - means[None]) ** 2).sum(-1)
    return np.logaddexp(-squared[..., 0] / 2, -squared[..., 1] / 2)


def long_tailed_mixture(seed, ratios=(10, 100)):
    """One seed's data: {ratio: (x_train, y_train, counts)}, then the balanced validation (200 per class) and
    test (1,000 per class) sets and the means. Each seed draws a pool of `N_MAX` examples per class and keeps
    the first n_j of class j, so a larger ratio's training set is a subset of a smaller one's."""
    means = mixture_means()
    rng = np.random.default_rng(seed)
    pool_x, pool_y = _draw(means, N_MAX, rng)  # class by class, N_MAX each
    train = {}
    for ratio in ratios:
        counts = class_counts(ratio)
        keep = np.concatenate([np.flatnonzero(pool_y == c)[: counts[c]] for c in range(CLASSES)])
        train[ratio] = (pool_x[keep], pool_y[keep], counts)
    return train, _draw(means, VAL_PER_CLASS, rng), _draw(means, TEST_PER_CLASS, rng), means


def long_tail(ratio):
    """The long-tailed mixture at one imbalance ratio (seed 0): exponentially decaying training classes
    (500 ... 5 at ratio 100), balanced validation and test sets, as CIFAR-10-LT is judged: so a trial is chosen
    and reported on every class alike."""

    def build():
        train, (x_val, y_val), (x_test, y_test), _ = long_tailed_mixture(0, (ratio,))
        x_train, y_train, counts = train[ratio]
        return Dataset(
            f"long_tail_{ratio}",
            "multiclass",
            x_train,
            y_train,
            x_test,
            y_test,
            f"10 overlapping classes in 10-D, {counts[0]} ... {counts[-1]} training examples per class (ratio "
            f"{ratio}, {len(y_train)} in all); balanced validation {len(y_val)} / test {len(y_test)}",
            CLASSES,
            x_val=x_val,
            y_val=y_val,
        )

    return build


BUILDERS = {
    "circle": circle,
    "sin_outliers": sin_outliers,
    "imbalanced_90_10": imbalanced(10),
    "imbalanced_95_5": imbalanced(5),
    "blobs5": blobs5,
    "multiclass": multiclass,
    "digits": digits,
    "long_tail_10": long_tail(10),
    "long_tail_100": long_tail(100),
}


@functools.cache
def load(name):
    """The named dataset, built on first use and kept for the process."""
    if name not in BUILDERS:
        raise ValueError(f"Unknown dataset {name!r}. Known: {', '.join(sorted(BUILDERS))}")
    return BUILDERS[name]()
