"""A sweep spec's top-level fields: each one's type (as TOML reads into Python) and help, in the help's order.

One table for three readers: `sweeps.spec` checks a spec's fields and their types against it, `python -m sweeps
run --help` prints it (`help_text`), and the site's field reference is generated from it (docs/generate/hooks.py). It
imports nothing, so the command line's help answers without TensorFlow.
"""

import textwrap

FIELDS = {
    "description": (str, "one line shown by `python -m sweeps list`"),
    "dataset": (
        str,
        "a built-in dataset (python -m sweeps list), a .npz file (arrays x, y or x_train, y_train, x_test, y_test; "
        'x_val, y_val optional), a .csv file, or "module:function" returning (x, y), ((x_train, y_train), '
        "(x_test, y_test)), a dict of those arrays, or tf.data.Datasets",
    ),
    "task": (str, "binary | multiclass | regression | embedding (required with your own data)"),
    "target": (str, "a CSV's label or target column; every other column is a feature unless dropped"),
    "drop": (list, 'a table\'s columns to leave out, e.g. ["customer_id"]'),
    "categorical": (list, 'a table\'s columns to one-hot encode (in the saved model too), e.g. ["plan"]'),
    "missing": (str, 'a missing table value: "error" (default; names the columns), "drop" (the row), "mean"'),
    "test_fraction": (float, "held out for testing when the data has no test part: seeded, stratified (default 0.2)"),
    "validation_fraction": (
        float,
        "held out of the training part when the data has no validation part (default 0.2): the objective, f1 / "
        "balanced_accuracy thresholds and patience use it; test only reports",
    ),
    "min_precision": (float, "the precision floor of recall_at_precision (default 0.8)"),
    "model": (
        (dict, str),
        '{ hidden = [32, 32], embedding_dim = 16, normalize = true } (the built-in MLP), or "module:function": '
        "function(input_shape=(...), outputs=n) -> an uncompiled keras.Model whose outputs are logits (no sigmoid "
        "or softmax), estimates or embeddings; checked once before the first trial",
    ),
    "loss": (
        str,
        "a fixed loss (a kerasloss.get name); or search `space.loss`. Embedding losses train as each needs; the "
        "metrics measure the model's embeddings: NTXent, BarlowTwins, VICReg (and SupCon, shuffled) on two "
        "augmented views of each example; ArcFace, CosFace, ProxyAnchor, ProxyNCA through kerasloss.CosineProxies "
        "(one trainable proxy per class) after the model, left out of the measured embeddings. LogitAdjusted, "
        "BalancedSoftmax and LDAM get the training part's class counts; `beta` (searched or fixed) gives "
        "SparseCategoricalFocalLoss class-balanced weights as alpha",
    ),
    "loss_args": (dict, "the fixed loss's fixed arguments, e.g. { gamma = 2.0, from_logits = true }"),
    "space": (
        dict,
        "one table per searched hyperparameter, [space.NAME]: { choice = [...] } or { min = a, max = b, log = true }, "
        'optionally when = { loss = "..." }',
    ),
    "objective": (
        dict,
        'name = a metric of the task (measured on validation: "pr_auc" is val_pr_auc), direction = "max" | "min". '
        "binary: pr_auc, roc_auc, recall_at_precision, f1, balanced_accuracy, minority_recall, precision, accuracy; "
        "multiclass: accuracy, macro_recall, calibration_error, nll; regression: mse, mae; embedding: recall_at_1, "
        "map_at_r, embedding_spread",
    ),
    "metrics": (list, "the metrics logged, each as val_NAME and test_NAME (default: all of the task's)"),
    "tuner": (str, "random | bayesian | hyperband (epochs is its max_epochs) | grid (default random)"),
    "trials": (int, "the trial budget (default 10; a space of choices runs at most its combinations)"),
    "executions": (
        int,
        "seeded trainings per trial (default 1): mean and _std of each metric, and paired intervals between trials "
        "(the summary names those within seed noise of the best)",
    ),
    "epochs": (int, "per execution (default 10)"),
    "patience": (
        int,
        "stop when the validation objective has not improved for this many epochs and score the best epoch",
    ),
    "seed": (int, "the sweep's seed (default 0)"),
    "batch_size": (int, "default 64 (may be searched in [space])"),
    "learning_rate": (float, "Adam's, default 0.01 (may be searched in [space])"),
    "batches": (
        str,
        '"shuffled" (default) or "class-balanced" (embedding tasks): every batch holds classes_per_batch (P) '
        "distinct classes x examples_per_class (K) examples of each (kerasloss.ClassBalancedBatches; both required, "
        "either may be searched; no batch_size: a batch is P x K). Each loss then sees one view per example",
    ),
    "classes_per_batch": (int, 'P of batches = "class-balanced": distinct classes per batch'),
    "examples_per_class": (int, 'K of batches = "class-balanced": examples of each class per batch'),
}
NAME_WIDTH = 20  # the help's name column


def help_text(width=112):
    """The fields as `--help` prints them: a name column, the help wrapped beside it."""
    lines = ["spec fields (TOML; paths relative to the spec file):"]
    for name, (_, text) in FIELDS.items():
        wrapped = textwrap.wrap(text, width - NAME_WIDTH - 2, break_long_words=False) or [""]
        lines.append(f"  {name:<{NAME_WIDTH - 1}} {wrapped[0]}")
        lines += [" " * (NAME_WIDTH + 2) + line for line in wrapped[1:]]
    lines.append("  (sweeps.run also takes a dict spec; its `name` field names the sweep)")
    return "\n".join(lines) + "\n"
