"""kerasloss.search_space: a loss's search space declared on a keras-tuner HyperParameters in one line,
checked against what the loss accepts; kerasloss itself never imports keras-tuner."""

import subprocess
import sys

import pytest

import kerasloss
from kerasloss.tools.search import choice, fixed

keras_tuner = pytest.importorskip("keras_tuner")


def test_choices_ranges_and_fixed_values_are_declared_and_built():
    hp = keras_tuner.HyperParameters()
    loss = kerasloss.search_space(hp, "focal", gamma=(0.5, 5.0), alpha=choice(0.25, 0.5, 0.75), from_logits=True)
    assert isinstance(loss, kerasloss.FocalLoss)
    spaces = {p.name: p for p in hp.space}
    assert type(spaces["gamma"]).__name__ == "Float" and (spaces["gamma"].min_value, spaces["gamma"].max_value) == (
        0.5,
        5.0,
    )
    assert type(spaces["alpha"]).__name__ == "Choice" and list(spaces["alpha"].values) == [0.25, 0.5, 0.75]
    assert type(spaces["from_logits"]).__name__ == "Fixed"
    assert loss.get_config()["gamma"] == hp.values["gamma"] and loss.get_config()["from_logits"] is True


def test_integer_and_log_ranges():
    hp = keras_tuner.HyperParameters()
    kerasloss.search_space(hp, "triplet", margin=(0.01, 1.0, "log"))
    assert hp.space[0].sampling == "log"
    hp = keras_tuner.HyperParameters()
    kerasloss.search_space(hp, "focal", alpha=(0, 1))  # a float argument: the interval, not {0, 1}
    assert type(hp.space[0]).__name__ == "Float" and (hp.space[0].min_value, hp.space[0].max_value) == (0.0, 1.0)


def test_the_values_a_tuner_picks_reach_the_loss():
    """A tuner's trial holds the whole space with its values set, then calls build(hp) with it."""
    hp = keras_tuner.HyperParameters()
    kerasloss.search_space(hp, "huber", delta=[1.0, 0.1])
    hp.values["delta"] = 0.1
    assert kerasloss.search_space(hp, "huber", delta=[1.0, 0.1]).get_config()["delta"] == 0.1


@pytest.mark.parametrize(
    ("loss", "space", "message"),
    [
        ("focal", {"gamma": (-1.0, 2.0)}, r"`gamma`=-1.0 is outside what 'focal' accepts: .*gamma=-1.0"),
        ("focal", {"alpha": choice(0.5, 1.5)}, r"`alpha`=1.5 is outside"),
        ("focal", {"gamma": [1.0, -1.0], "from_logits": True}, r"`gamma`=-1.0 is outside"),
        ("huber", {"delta": (1.0, 1000.0), "dtype": "float16"}, r"`delta`=1000.0 with `dtype`='float16' is outside"),
        (
            "huber",
            {"delta": (1.0, 1000.0), "dtype": ["float32", "float16"]},
            r"`delta`=1000.0, `dtype`='float16' together are outside",
        ),
        ("weighted_kappa", {}, r"'weighted_kappa' needs `num_classes`"),
        ("focal", {"margin": [1.0]}, r"'focal' takes no argument `margin`"),
        ("focal", {"gamma": (2.0, 1.0)}, r"a range needs low < high"),
        ("focal", {"gamma": (0.0, 1.0, "log")}, r"a log range needs low > 0"),
        ("focal", {"gamma": (0.0, 1.0, "cubic")}, r"a range is \(low, high\) or \(low, high, 'log'\)"),
        ("focal", {"gamma": []}, r"a choice needs at least one value"),
        ("nope", {}, r"Unknown kerasloss loss 'nope'"),
    ],
)
def test_spaces_outside_what_the_loss_accepts_are_refused(loss, space, message):
    with pytest.raises(ValueError, match=message):
        kerasloss.search_space(keras_tuner.HyperParameters(), loss, **space)


def test_a_required_argument_may_be_searched():
    hp = keras_tuner.HyperParameters()
    kerasloss.search_space(hp, "weighted_kappa", num_classes=[3, 5], weightage=["linear", "quadratic"])
    hp = keras_tuner.HyperParameters()
    loss = kerasloss.search_space(hp, "weighted_kappa", num_classes=(3, 6))  # no default: integers give hp.Int
    assert type(hp.space[0]).__name__ == "Int" and loss.get_config()["num_classes"] == 3


def test_a_choice_among_lists_is_refused_before_keras_tuner_sees_it():
    with pytest.raises(ValueError, match=r"`alpha`: keras-tuner chooses among numbers, strings and booleans only"):
        kerasloss.search_space(keras_tuner.HyperParameters(), "focal", alpha=choice([0.25, 0.75], [0.5, 0.5]))


def test_a_fixed_none_reaches_the_loss_undeclared():
    hp = keras_tuner.HyperParameters()  # keras-tuner's Fixed refuses None
    loss = kerasloss.search_space(hp, "multi_similarity", epsilon=None, base=[0.3, 0.5])
    assert loss.get_config()["epsilon"] is None and "epsilon" not in hp.values


def test_a_required_argument_may_be_given_fixed():
    hp = keras_tuner.HyperParameters()
    loss = kerasloss.search_space(hp, "weighted_kappa", num_classes=4)
    assert loss.get_config()["num_classes"] == 4 and hp.values == {"num_classes": 4}


@pytest.mark.parametrize(
    ("loss", "name", "values"), [("pinball", "quantiles", [0.1, 0.5, 0.9]), ("focal", "alpha", [0.25, 0.75])]
)
def test_a_list_that_is_also_one_value_of_the_argument_must_say_which_it_is(loss, name, values):
    with pytest.raises(ValueError, match=rf"`{name}`=.* reads two ways.*fixed\(.*choice\("):
        kerasloss.search_space(keras_tuner.HyperParameters(), loss, **{name: values})
    hp = keras_tuner.HyperParameters()
    kept = kerasloss.search_space(hp, loss, **{name: fixed(values)})
    assert list(kept.get_config()[name]) == values and name not in hp.values  # one value, not searched
    hp = keras_tuner.HyperParameters()
    chosen = kerasloss.search_space(hp, loss, **{name: choice(*values)})
    assert type(hp.space[0]).__name__ == "Choice" and chosen.get_config()[name] == values[0]


@pytest.mark.slow
def test_kerasloss_does_not_import_keras_tuner():
    code = "import sys, kerasloss; sys.exit('keras_tuner' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


@pytest.mark.slow
def test_a_keras_tuner_search_with_a_loss_space(tmp_path):
    import keras
    import numpy as np

    def build(hp):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        loss = kerasloss.search_space(hp, "focal", gamma=(0.0, 3.0), alpha=choice(0.25, 0.75), from_logits=True)
        model.compile(optimizer="adam", loss=loss)
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    tuner = keras_tuner.RandomSearch(
        build, objective="loss", max_trials=3, directory=str(tmp_path), project_name="t", seed=1, overwrite=True
    )
    tuner.search(x, y, epochs=1, verbose=0)
    trials = tuner.oracle.get_best_trials(3)
    assert len(trials) == 3 and len({t.hyperparameters.values["gamma"] for t in trials}) == 3
    best = tuner.get_best_hyperparameters()[0].values
    assert 0.0 <= best["gamma"] <= 3.0 and best["alpha"] in (0.25, 0.75) and best["from_logits"] is True
