"""Sweep specs: every shipped spec loads; invalid ones fail before training, naming the field."""

import re

import pytest

from sweeps import spec as specs


def _base(**changes):
    table = {
        "dataset": "imbalanced_90_10",
        "space": {
            "loss": {"choice": ["BinaryCrossentropy", "FocalLoss"]},
            "gamma": {"choice": [0.5, 2.0], "when": {"loss": "FocalLoss"}},
        },
        "objective": {"name": "minority_recall"},
    }
    table.update(changes)
    return table


@pytest.mark.parametrize("name", specs.available())
def test_every_shipped_spec_loads(name):
    spec = specs.load(name)
    assert spec.space and spec.objective in spec.metrics
    assert spec.direction in ("max", "min")


def test_the_default_suite_covers_the_issue():
    names = set(specs.available())
    assert {
        "focal_imbalance",
        "huber_sin",
        "label_smoothing",
        "triplet_blobs5",
        "triplet_digits",
        "contrastive_digits",
        "class_balanced_digits",
        "arcface_cosface_digits",
        "self_supervised_digits",
        "long_tail",
    } <= names


def test_a_valid_table_parses_with_conditions_and_direction():
    spec = specs.parse(_base(), "ok")
    assert spec.losses() == ("BinaryCrossentropy", "FocalLoss")
    assert spec.param("gamma").when == (("loss", ("FocalLoss",)),)
    assert spec.direction == "max" and spec.task == "binary"


def test_unknown_sweep_lists_the_valid_ones():
    with pytest.raises(specs.SpecError, match=r"Unknown sweep 'nope'. Known: .*focal_imbalance"):
        specs.load("nope")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epocs": 3}, r"`epocs`: unknown field. Known: description, dataset"),
        ({"space": {}}, r"`space`: the search space is empty"),
        ({"space": {"loss": {"choice": []}}}, r"`space.loss.choice`: expected a non-empty list"),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "gamma": {"choice": [-1.0, 2.0]}}},
            r"`space.gamma`: FocalLoss: .*gamma.*-1",
        ),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "alpha": {"min": 0.5, "max": 1.5}}},
            r"`space.alpha`: FocalLoss: .*alpha.*1.5",
        ),
        (
            {"space": {"loss": {"choice": ["NotALoss"]}}},
            r"`space.loss.choice`: Unknown kerasloss loss 'NotALoss'. Valid names \(case",
        ),
        (
            {"space": {"loss": {"choice": ["BinaryCrossentropy"]}, "margin": {"choice": [1.0]}}},
            r"`space.margin`: BinaryCrossentropy takes no argument 'margin'",
        ),
        (
            {"space": {"loss": {"choice": ["BinaryCrossentropy"]}, "beta": {"choice": [0.9]}}},
            r"`space.beta`: BinaryCrossentropy takes no argument 'beta'",
        ),
        (
            {
                "dataset": "long_tail_100",
                "objective": {"name": "macro_recall"},
                "space": {"loss": {"choice": ["LogitAdjusted"]}, "tau": {"choice": [-1.0]}},
            },
            r"`space.tau`: LogitAdjusted: .*tau.*-1",
        ),
        (
            {"objective": {"name": "recall_at_1"}},
            r"`objective.name`: 'recall_at_1' is not logged for a binary task. Logged: pr_auc, roc_auc",
        ),
        ({"objective": {"name": "pr_auc", "direction": "up"}}, r"`objective.direction`: expected 'max' or 'min'"),
        ({"dataset": "mnist"}, r"`dataset`: unknown dataset 'mnist'. Known: blobs5"),
        ({"learning_rate": float("nan")}, r"`learning_rate`: expected a number in \(0, inf\), got nan"),
        ({"learning_rate": -0.1}, r"`learning_rate`: expected a number in \(0, inf\)"),
        ({"model": {"hidden": ["a"]}}, r"`model.hidden`: expected a list of positive integer widths"),
        ({"model": {"hidden": [0]}}, r"`model.hidden`: expected a list of positive integer widths"),
        ({"tuner": "annealing"}, r"`tuner`: unknown tuner 'annealing'"),
        ({"trials": 0}, r"`trials`: expected at least 1"),
        ({"loss": "FocalLoss"}, r"`loss`: give the loss either"),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "gamma": {"choice": [1.0], "when": {"mode": "x"}}}},
            r"`space.gamma.when`: refers to 'mode'",
        ),
        (
            {"space": {"loss": {"choice": ["FocalLoss"]}, "gamma": {"min": 0.0, "max": 2.0, "log": True}}},
            r"`space.gamma.log`: a log range needs min > 0",
        ),
    ],
)
def test_invalid_specs_name_the_field(changes, message):
    with pytest.raises(specs.SpecError, match=r"sweep spec 'bad': " + message):
        specs.parse(_base(**changes), "bad")


@pytest.mark.parametrize("name", ["..", ".", "a/b", "", "x" * 101, "-x", "a\nb"])
def test_sweep_names_are_one_plain_path_component(name):
    with pytest.raises(specs.SpecError, match=r"invalid sweep name"):
        specs.parse(_base(), name)


def test_a_spec_file_named_dots_cannot_escape_its_folders(tmp_path):
    path = tmp_path / "...toml"
    path.write_text("")
    with pytest.raises(specs.SpecError, match=r"invalid sweep name '\.\.'"):
        specs.load(str(path))


def test_invalid_toml_is_reported(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("dataset = \n")
    with pytest.raises(specs.SpecError, match=r"sweep spec '.*broken.toml': not valid TOML"):
        specs.load(str(path))


@pytest.mark.parametrize("name", ["experiments", "Experiments.md", "report.md", "focal-objective.png"])
def test_names_the_harness_writes_at_the_log_root_are_no_sweep_names(name):
    """Refused as the spec loads, before any run could delete or mix into LOGDIR/experiments/."""
    with pytest.raises(specs.SpecError, match=rf"the sweep name '{re.escape(name)}' is reserved"):
        specs.check_name(name)


def test_a_dict_spec_needs_a_name():
    with pytest.raises(specs.SpecError, match="a dict spec needs a `name`"):
        specs.from_dict({"task": "binary", "objective": {"name": "pr_auc"}, "loss": "FocalLoss", "space": {}})


@pytest.mark.parametrize(("given", "chosen"), [("pr_auc", "val_pr_auc"), ("val_pr_auc", "val_pr_auc")])
def test_the_objective_is_measured_on_validation(given, chosen):
    spec = specs.from_dict({"name": "o", "dataset": "circle", "objective": {"name": given}, "loss": "FocalLoss",
                            "space": {"gamma": {"choice": [1.0]}}})  # fmt: skip
    assert spec.tuner_objective == chosen


def test_an_objective_on_the_test_part_is_refused():
    with pytest.raises(specs.SpecError, match="would choose on the test part"):
        specs.from_dict({"name": "o", "dataset": "circle", "objective": {"name": "test_pr_auc"}, "loss": "FocalLoss",
                         "space": {"gamma": {"choice": [1.0]}}})  # fmt: skip


def _multiclass(space):
    return {"dataset": "long_tail_100", "objective": {"name": "macro_recall"}, "space": space}


def test_a_searched_beta_is_checked_as_the_class_balanced_weights_are():
    space = {"loss": {"choice": ["SparseCategoricalFocalLoss"]}, "beta": {"choice": [0.99, 1.0]}}
    with pytest.raises(specs.SpecError, match=r"`space.beta`: SparseCategoricalFocalLoss: .*beta.*\[0, 1\).*1.0"):
        specs.parse(_multiclass(space), "bad")
    space["beta"]["choice"] = [0.99, 0.9999]
    assert specs.parse(_multiclass(space), "ok").param("beta").choice == (0.99, 0.9999)


def test_a_loss_built_from_the_class_counts_needs_every_class_in_the_training_part():
    import types

    import numpy as np

    spec = specs.parse(_multiclass({"loss": {"choice": ["SparseCategoricalCrossentropy", "BalancedSoftmax"]}}), "lt")
    y = np.array([0, 0, 2, 2], "int32")
    data = types.SimpleNamespace(y_train=y, classes=3, y_val=y, y_test=y)
    refused = r"sweep spec 'lt': `dataset`: its training part: class id\(s\) 1 have no training examples"
    with pytest.raises(specs.SpecError, match=refused):
        specs.check_data(spec, data)
    specs.check_data(spec, types.SimpleNamespace(y_train=np.array([0, 1, 2]), classes=3, y_val=y, y_test=y))


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ({"dataset": "sin_outliers", "loss": "BalancedSoftmax", "objective": {"name": "mse"},
          "space": {"learning_rate": {"choice": [0.01]}}}, "loss", "a regression task"),
        ({"dataset": "circle", "objective": {"name": "pr_auc"},
          "space": {"loss": {"choice": ["BinaryCrossentropy", "LogitAdjusted"]}}}, "space.loss.choice",
         "a binary task"),
        ({"dataset": "circle", "loss": "SparseCategoricalFocalLoss", "objective": {"name": "pr_auc"},
          "space": {"beta": {"choice": [0.9]}}}, "loss", "a binary task"),
        ({"dataset": "long_tail_100", "loss": "SparseCategoricalFocalLoss", "objective": {"name": "macro_recall"},
          "space": {"beta": {"choice": [0.9]}, "alpha": {"choice": [0.25]}}}, "space.beta", "not both"),
        ({"dataset": "long_tail_100", "loss": "SparseCategoricalCrossentropy", "loss_args": {"beta": 0.9},
          "objective": {"name": "macro_recall"}, "space": {"learning_rate": {"choice": [0.01]}}}, "loss",
         "SparseCategoricalCrossentropy takes no argument 'beta'"),
    ],
)  # fmt: skip
def test_class_count_losses_outside_a_multiclass_task_and_beta_with_alpha_are_refused(table, field, message):
    with pytest.raises(specs.SpecError, match=rf"sweep spec 'bad': `{re.escape(field)}`: .*{re.escape(message)}"):
        specs.parse(table, "bad")


def test_given_class_counts_must_have_one_count_per_class():
    import types

    import numpy as np

    table = {"dataset": "long_tail_100", "loss": "LogitAdjusted", "loss_args": {"class_counts": [5, 1]},
             "objective": {"name": "macro_recall"}, "space": {"tau": {"choice": [1.0]}}}  # fmt: skip
    spec = specs.parse(table, "lt")
    y = np.arange(10, dtype="int32")
    data = types.SimpleNamespace(y_train=y, classes=10, y_val=y, y_test=y)
    with pytest.raises(specs.SpecError, match=r"`loss_args.class_counts`: 2 counts, but the data has 10 classes"):
        specs.check_data(spec, data)
