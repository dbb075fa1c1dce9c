"""`sweeps.run` (`sweeps.api`): the spec resolved from a name, a path, a dict or a Spec, its arguments checked
before anything runs, and a sweep whose every trial failed raising."""

import numpy as np
import pytest

import sweeps
from sweeps import api, results
from sweeps import spec as specs
from tests.sweeps.support import linear, run_sweep


@pytest.mark.slow
def test_every_trial_failing_raises(tmp_path):
    x = np.random.default_rng(0).normal(size=(200, 3)).astype("float32")
    spec = {
        "name": "all_fail",
        "task": "regression",
        "epochs": 2,
        "loss": "MeanSquaredError",
        "objective": {"name": "mse"},
        "space": {"learning_rate": {"choice": [1e36]}},
    }
    with pytest.raises(sweeps.api.TrialsFailedError, match="every trial failed; the first: the model diverged"):
        run_sweep(tmp_path, spec, (x, x[:, 0] * 1e3))


def _table(**fields):
    return {"name": "mine", "task": "binary", "loss": "FocalLoss", "objective": {"name": "pr_auc"},
            "space": {"gamma": {"choice": [1.0, 2.0]}}} | fields  # fmt: skip


def test_a_spec_is_resolved_from_a_suite_name_a_path_a_dict_or_a_spec(tmp_path):
    assert api.resolve("focal_imbalance").name == "focal_imbalance"
    path = tmp_path / "mine.toml"
    toml = 'dataset = "circle"\nloss = "FocalLoss"\n[objective]\nname = "pr_auc"\n[space.gamma]\nchoice = [1.0]\n'
    path.write_text(toml)
    from_path = api.resolve(str(path))
    assert from_path.name == "mine" and from_path.source == str(path) and from_path.dataset == "circle"
    from_dict = api.resolve(_table(), data=(np.zeros((4, 2)), np.zeros(4)))
    assert from_dict.name == "mine" and from_dict.dataset is None  # the data is given
    assert api.resolve(from_path) is from_path


def test_a_model_given_beside_a_spec_replaces_the_specs_model():
    spec = api.resolve("focal_imbalance")
    given = api.resolve(spec, model=linear)
    assert given.model["function"] == specs.GIVEN and "function" not in spec.model


def test_a_dict_spec_without_data_or_a_dataset_is_refused():
    with pytest.raises(specs.SpecError, match=r"sweep spec 'mine': `dataset`: missing"):
        api.resolve(_table())


@pytest.mark.parametrize(
    ("option", "message"),
    [({"trials": 0}, "trials must be an integer >= 1, got 0"), ({"trials": True}, "trials must be an integer"),
     ({"trials": 2.0}, "trials must be an integer"), ({"executions": 0}, "executions must be an integer >= 1"),
     ({"executions": False}, "executions must be an integer"), ({"workers": -1}, "workers must be an integer >= 0"),
     ({"workers": 1.5}, "workers must be an integer >= 0")],
)  # fmt: skip
def test_bad_run_options_are_refused_before_anything_is_written(tmp_path, option, message):
    with pytest.raises(specs.SpecError, match=message):
        sweeps.run("focal_imbalance", logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), **option)
    assert list(tmp_path.iterdir()) == []


def test_the_package_hands_out_run_result_and_trial_from_the_api():
    assert sweeps.run is api.run and sweeps.Result is results.Result and sweeps.Trial is results.Trial
    with pytest.raises(AttributeError, match="module 'sweeps' has no attribute 'nope'"):
        sweeps.nope  # noqa: B018
