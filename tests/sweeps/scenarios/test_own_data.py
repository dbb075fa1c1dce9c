"""Your own data and model: .npz, .csv and module:function datasets, a model function, the Python API, the
checks that refuse bad data before training, changed specs refused and raised budgets accepted."""

import io
import pathlib
import textwrap

import numpy as np
import pytest

import sweeps
from sweeps import sources, state
from sweeps import spec as specs

SPACE = """
epochs = 2
batch_size = 32
tuner = "grid"
[objective]
name = "{objective}"
[space.loss]
choice = {losses}
"""


def _binary(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype("int64")
    x = rng.normal(size=(n, 5)) + 1.5 * y[:, None]
    return x.astype("float32"), y


def _spec(folder, body, name="mine", objective="pr_auc", losses='["BinaryCrossentropy", "FocalLoss"]'):
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(body) + SPACE.format(objective=objective, losses=losses))
    return path


def _run(path, tmp_path, **options):
    out = io.StringIO()
    options.setdefault("logdir", str(tmp_path / "logs"))
    options.setdefault("state", str(tmp_path / "state"))
    return sweeps.run(str(path), stream=out, **options), out.getvalue()


@pytest.mark.slow
def test_a_sweep_from_an_npz_file(tmp_path):
    x, y = _binary()
    np.savez(tmp_path / "d.npz", x=x, y=y)
    result, out = _run(_spec(tmp_path, 'dataset = "d.npz"\ntask = "binary"\n'), tmp_path)
    assert [t.status for t in result.trials] == ["COMPLETED", "COMPLETED"]
    assert result.best.values["loss"] in ("BinaryCrossentropy", "FocalLoss")
    assert 0.0 <= result.best.objective <= 1.0 and result.best.objective == result.best.metrics["val_pr_auc"]
    assert {"val_f1", "test_roc_auc", "val_recall_at_precision", "test_balanced_accuracy"} <= result.best.metrics.keys()
    assert "[mine] trial 01 (2 of 2)" in out  # ids padded to the budget of 10


@pytest.mark.slow
def test_a_sweep_from_a_csv_with_a_model_function(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    x = rng.normal(size=(300, 4)) + y[:, None]
    lines = ["a,b,label,c,d"] + [f"{r[0]},{r[1]},{c},{r[2]},{r[3]}" for r, c in zip(x, y, strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "my_models.py").write_text(
        textwrap.dedent(
            """
            import keras
            calls = []

            def build(input_shape, outputs):
                calls.append((input_shape, outputs))
                inputs = keras.Input(input_shape)
                hidden = keras.layers.Dense(8, activation="relu")(inputs)
                return keras.Model(inputs, keras.layers.Dense(outputs)(hidden))
            """
        )
    )
    body = 'dataset = "d.csv"\ntask = "multiclass"\ntarget = "label"\nmodel = "my_models:build"\n'
    path = _spec(tmp_path, body, objective="macro_recall", losses='["SparseCategoricalCrossentropy"]')
    result, _ = _run(path, tmp_path)
    assert result.best.status == "COMPLETED" and 0.0 <= result.best.metrics["val_macro_recall"] <= 1.0
    build = sources.import_function("my_models:build", str(tmp_path))  # the module the sweep loaded
    assert build.__globals__["calls"] == [((4,), 3)] * 2  # checked once before the trial, then its trial


@pytest.mark.slow
def test_a_module_function_returning_tf_data_is_loaded_once(tmp_path):
    (tmp_path / "my_data.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            import tensorflow as tf
            loads = []

            def load():
                loads.append(1)
                rng = np.random.default_rng(2)
                x = rng.normal(size=(200, 3)).astype("float32")
                y = (x @ np.array([1.0, -2.0, 0.5])).astype("float32")
                train = tf.data.Dataset.from_tensor_slices((x[:150], y[:150])).batch(32)
                test = tf.data.Dataset.from_tensor_slices((x[150:], y[150:]))
                return train, test
            """
        )
    )
    path = _spec(
        tmp_path,
        'dataset = "my_data:load"\ntask = "regression"\n',
        objective="mse",
        losses='["MeanSquaredError", "MeanAbsoluteError"]',
    )
    result, _ = _run(path, tmp_path)
    assert len(result.trials) == 2 and result.direction == "min"
    load = sources.import_function("my_data:load", str(tmp_path))
    assert load.__globals__["loads"] == [1]  # once per process, for every trial


@pytest.mark.slow
def test_the_python_api_with_arrays_and_a_callable_model(tmp_path):
    import keras

    def model(input_shape, outputs):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(outputs)(inputs))

    x, y = _binary(300)
    spec = {
        "name": "api",
        "task": "binary",
        "epochs": 2,
        "tuner": "grid",
        "objective": {"name": "f1"},
        "loss": "FocalLoss",
        "space": {"gamma": {"choice": [0.0, 2.0]}},
    }
    result = sweeps.run(
        spec, data=(x, y), model=model, logdir=str(tmp_path / "logs"), state=str(tmp_path / "s"), stream=io.StringIO()
    )
    assert [t.values for t in result.trials] == [{"gamma": 0.0}, {"gamma": 2.0}]
    assert result.best.objective == max(t.metrics["val_f1"] for t in result.trials)
    assert all(t.measured["rss_mib"] > 0 for t in result.trials)
    assert "best trial" in str(result)


def _table(**fields):
    table = {
        "name": "t",
        "task": "binary",
        "objective": {"name": "pr_auc"},
        "space": {"loss": {"choice": ["FocalLoss"]}},
    }
    return {**table, **fields}


@pytest.mark.parametrize(
    ("write", "fields", "message"),
    [
        ("csv_ok", {"target": "nope"}, r"d.csv': no column 'nope' \(`target`\). Columns: f0, f1, label"),
        ("csv_nan", {"target": "label"}, r"infinite value\(s\) in f1 \(1\)"),
        ("csv_text", {"target": "label"}, r"feature column\(s\) not numeric: f1"),
        ("csv_label2", {"target": "label"}, r"binary labels must be 0 or 1; found 2"),
        ("csv_negative", {"target": "label", "task": "multiclass"}, r"class ids must be >= 0; found -1"),
        ("csv_fraction", {"target": "label", "task": "multiclass"}, r"class ids must be whole numbers; found 0.5"),
        (
            "csv_rare",
            {"target": "label", "task": "multiclass"},
            r"class 2 has only 1 row\(s\); a stratified test split",
        ),
        ("npz_keys", {}, r"expected arrays `x` and `y`, or .* it holds a, b"),
        ("npz_lengths", {}, r"10 rows of features but 9 labels"),
    ],
)
def test_bad_data_is_refused_before_training_naming_the_file(tmp_path, write, fields, message):
    rows = ["f0,f1,label"] + [f"{i},{i % 3},{i % 2}" for i in range(10)]
    if write == "csv_nan":
        rows[2], rows[4] = "nan,1,0", "1,inf,1"
    if write == "csv_text":
        rows[3] = "1,abc,0"
    if write == "csv_label2":
        rows[5] = "1,1,2"
    if write == "csv_negative":
        rows[5] = "1,1,-1"
    if write == "csv_fraction":
        rows[5] = "1,1,0.5"
    if write == "csv_rare":
        rows[5] = "1,1,2"
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    if write == "npz_keys":
        np.savez(tmp_path / "d.npz", a=np.zeros(3), b=np.zeros(3))
    if write == "npz_lengths":
        np.savez(tmp_path / "d.npz", x=np.zeros((10, 2)), y=np.zeros(9))
    dataset = str(tmp_path / ("d.npz" if write.startswith("npz") else "d.csv"))
    table = _table(dataset=dataset, **fields)
    if table["task"] == "multiclass":
        table.update(objective={"name": "accuracy"}, space={"loss": {"choice": ["SparseCategoricalCrossentropy"]}})
    spec = specs.from_dict(table)
    with pytest.raises(sources.DataError, match=message):
        sources.load(spec.data_source)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dataset": "missing.csv", "target": "y"}, r"`dataset`: no such file: '.*missing.csv'"),
        ({"dataset": "x.csv"}, r"`target`: a CSV dataset needs"),
        ({"dataset": "mod:fn", "task": None}, r"`task`: missing: with your own data declare one of binary"),
        ({"dataset": "mod:fn", "task": "ranking"}, r"`task`: expected one of binary, regression"),
        ({"dataset": "circle", "task": "regression"}, r"the built-in dataset 'circle' is a binary task"),
        ({"dataset": "mod:fn", "model": "nocolon"}, r"`model.function`: expected 'module:function'"),
        ({"dataset": "mod:fn", "test_fraction": 1.0}, r"`test_fraction`: expected a number in \(0, 1\)"),
        ({"dataset": "mod:fn", "min_precision": 0.0}, r"`min_precision`: expected a number in \(0, 1\]"),
        (
            {"dataset": "mod:fn", "space": {"loss": {"choice": ["TripletLoss"]}}},
            r"TripletLoss needs an embedding task; this sweep's data is a binary task",
        ),
    ],
)
def test_bad_data_fields_name_the_field(tmp_path, monkeypatch, fields, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("a,b\n1,0\n")
    table = {k: v for k, v in _table(**fields).items() if v is not None}
    with pytest.raises(specs.SpecError, match=message):
        specs.from_dict(table)


def test_a_split_is_seeded_and_stratified():
    x, y = _binary(400)
    source = sources.Source("arrays", "binary", seed=3)
    first, second = sources.from_arrays((x, y), source), sources.from_arrays((x, y), source)
    assert np.array_equal(first.x_test, second.x_test) and len(first.x_test) == 80
    for part in (first.y_train, first.y_val, first.y_test):  # the minority share kept on every side
        assert abs(part.mean() - y.mean()) < 0.02
    other = sources.from_arrays((x, y), sources.Source("arrays", "binary", seed=4))
    assert not np.array_equal(first.x_test, other.x_test)


@pytest.mark.slow
def test_a_changed_spec_is_refused_and_a_raised_trial_count_extends(tmp_path):
    x, y = _binary()
    np.savez(tmp_path / "d.npz", x=x, y=y)
    path = _spec(tmp_path, 'dataset = "d.npz"\ntask = "binary"\n')
    result, _ = _run(path, tmp_path, trials=1)
    assert len(result.trials) == 1

    result, out = _run(path, tmp_path, trials=2)  # more trials: the search goes on
    assert "resuming: 1 trial(s) already finished" in out and len(result.trials) == 2

    path.write_text(path.read_text().replace("epochs = 2", "epochs = 3"))
    with pytest.raises(state.StateError, match=r"the spec changed .*: epochs \(2 -> 3\).*--overwrite"):
        _run(path, tmp_path, trials=2)
    np.savez(tmp_path / "d.npz", x=x + 1, y=y)
    path.write_text(path.read_text().replace("epochs = 3", "epochs = 2"))
    with pytest.raises(state.StateError, match=r"the spec changed .*: data\. "):
        _run(path, tmp_path, trials=2)
    with pytest.raises(state.StateError, match=r"tuner \(grid -> random\)"):
        np.savez(tmp_path / "d.npz", x=x, y=y)
        _run(path, tmp_path, trials=2, tuner="random")

    other = tmp_path / "elsewhere"
    other.mkdir()
    np.savez(other / "d.npz", x=x, y=y)
    twin = _spec(other, 'dataset = "d.npz"\ntask = "binary"\n')  # the same spec in another folder resumes
    result, out = _run(twin, tmp_path, trials=2)
    assert "resuming: 2 trial(s) already finished" in out
    path.write_text(path.read_text().replace('"pr_auc"', '"roc_auc"'))  # now another spec of the same name
    with pytest.raises(state.StateError, match=rf"belongs to {twin}, not to {path}; two different specs share"):
        _run(path, tmp_path)

    result, out = _run(path, tmp_path, trials=1, overwrite=True)
    assert "resuming" not in out and len(result.trials) == 1


def linear_model(input_shape, outputs):
    """A module-level model function: worker processes import it by name."""
    import keras

    inputs = keras.Input(input_shape)
    return keras.Model(inputs, keras.layers.Dense(outputs)(inputs))


def _api_spec(name):
    return {
        "name": name,
        "task": "binary",
        "epochs": 2,
        "tuner": "grid",
        "objective": {"name": "pr_auc"},
        "loss": "FocalLoss",
        "space": {"gamma": {"choice": [0.0, 2.0]}},
    }


@pytest.mark.slow
def test_the_python_api_with_arrays_on_a_worker(tmp_path, monkeypatch):
    """Arrays given to `sweeps.run` reach a worker process (saved beside the state), and so does a model
    function that can be imported."""
    # The repository root, where the workers import this module from. Not tests.sweeps.support.ROOT: a worker
    # loads this module as one beside the spec and fingerprints the helper modules it imports from there.
    monkeypatch.chdir(pathlib.Path(__file__).resolve().parents[3])
    x, y = _binary(300)
    out = io.StringIO()
    result = sweeps.run(
        _api_spec("api_workers"), data=(x, y), model=linear_model, workers=1,
        logdir=str(tmp_path / "logs"), state=str(tmp_path / "s"), stream=out,
    )  # fmt: skip
    assert [t.status for t in result.trials] == ["COMPLETED", "COMPLETED"], out.getvalue()
    assert result.best is not None and "trial 01 by worker1" in out.getvalue()
    assert (tmp_path / "s" / "api_workers" / "data.npz").exists()


def test_workers_need_a_model_function_they_can_import(tmp_path):
    import keras

    def local(input_shape, outputs):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(outputs)])

    x, y = _binary(100)
    with pytest.raises(specs.SpecError, match=r"workers run in other processes and must import the model"):
        sweeps.run(_api_spec("w"), data=(x, y), model=local, workers=1, logdir=str(tmp_path), state=str(tmp_path))


def test_modules_beside_two_specs_do_not_mix(tmp_path):
    for folder, value in (("a", "A"), ("b", "B")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "net.py").write_text(f"def build():\n    return {value!r}\n")
    assert sources.import_function("net:build", str(tmp_path / "a"))() == "A"
    assert sources.import_function("net:build", str(tmp_path / "b"))() == "B"  # not a's, from sys.modules
    (tmp_path / "a" / "net.py").write_text("def build():\n    return 'edited'\n")
    import os

    os.utime(tmp_path / "a" / "net.py", ns=(1, 10**18))  # a new modification time: loaded again
    assert sources.import_function("net:build", str(tmp_path / "a"))() == "edited"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"x": np.zeros((40, 2)), "y": np.r_[np.ones(2), np.zeros(38)], "x_val": np.zeros((5, 2))}, "give both x_val"),
        (
            {"x_train": np.zeros((8, 2)), "y_train": [0, 1] * 4, "x_test": np.zeros((4, 2)), "y_test": [0, 1] * 2}
            | {"x_val": np.zeros((4, 3)), "y_val": [0, 1] * 2},
            r"validation features \(3,\) differ from training \(2,\)",
        ),
        ((np.zeros((100, 2)), np.r_[np.ones(3), np.zeros(97)]), r"the validation labels hold one class only"),
    ],
)
def test_validation_parts_are_checked(value, message):
    with pytest.raises(sources.DataError, match=message):
        sources.from_arrays(value, sources.Source("arrays", "binary"))


def test_an_unnamed_csv_column_is_refused(tmp_path):
    import pandas as pd

    pd.DataFrame({"a": range(20), "label": [0, 1] * 10}).to_csv(tmp_path / "d.csv")  # the index, unnamed
    spec = specs.from_dict(_table(dataset=str(tmp_path / "d.csv"), target="label"))
    with pytest.raises(sources.DataError, match=r"column\(s\) without a header: Unnamed: 0 .*index=False"):
        sources.load(spec.data_source)


def test_a_tf_data_batched_with_drop_remainder_is_read_as_batches():
    import tensorflow as tf

    x, y = np.arange(200, dtype="float32").reshape(100, 2), np.arange(100) % 2
    batched = tf.data.Dataset.from_tensor_slices((x, y)).batch(10, drop_remainder=True)
    arrays = sources.parts(batched, "data", "binary")
    assert arrays[0].shape == (100, 2) and arrays[1].shape == (100,)


def test_mixed_integer_and_float_choices_become_floats_in_the_spec_and_in_tensorboard(tmp_path):
    spec = specs.parse(
        {"dataset": "imbalanced_90_10", "loss": "FocalLoss", "objective": {"name": "pr_auc"}}
        | {"space": {"gamma": {"choice": [1, 2.5]}}},
        "mixed",
    )
    assert spec.param("gamma").choice == (1.0, 2.5)
    from sweeps import tensorboard as board

    other = specs.parse(
        {"dataset": "imbalanced_90_10", "loss": "FocalLoss", "objective": {"name": "pr_auc"}}
        | {"space": {"gamma": {"choice": [1, 3]}}},
        "ints",
    )
    board.write_config(spec, str(tmp_path / "logs"), str(tmp_path / "staging"))
    board.write_config(other, str(tmp_path / "logs"), str(tmp_path / "staging"))  # [1, 3] and [1.0, 2.5]: one domain
    import json

    registry = json.loads((tmp_path / "logs" / "_config" / "sweeps.json").read_text())
    assert sorted(registry) == ["ints", "mixed"]
    assert board.domain(spec.param("gamma")).values == [1.0, 2.5]  # one HParams domain, one type


def test_an_unknown_tuner_is_refused_before_anything_is_written(tmp_path):
    x, y = _binary(100)
    with pytest.raises(specs.SpecError, match=r"unknown tuner 'annealing'"):
        sweeps.run(
            _api_spec("t"), data=(x, y), tuner="annealing", logdir=str(tmp_path / "l"), state=str(tmp_path / "s")
        )
    assert not (tmp_path / "s").exists()


def _churn_csv(path, n=600, seed=0):
    """A table as users have one: an id column, a string column, missing values, 10% positives."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(int)
    frame = pd.DataFrame(
        {
            "id": np.arange(n) + 1000,
            "age": rng.normal(40, 10, n) + 8 * y,
            "plan": np.where(y == 1, rng.choice(["pro", "max"], n), rng.choice(["basic", "pro", "max"], n)),
            "income": rng.normal(50, 10, n) - 8 * y,
            "churned": y,
        }
    )
    frame.loc[rng.choice(n, 20, replace=False), "age"] = np.nan
    frame.loc[rng.choice(n, 16, replace=False), "income"] = np.nan
    frame.to_csv(path, index=False)
    return frame


def test_a_real_table_names_its_string_column_and_its_missing_values(tmp_path):
    _churn_csv(tmp_path / "churn.csv")
    base = {"name": "churn", "dataset": str(tmp_path / "churn.csv"), "target": "churned", "task": "binary"}
    table = {**_table(), **base}
    with pytest.raises(sources.DataError, match=r"not numeric: plan .* categorical = \[...\] .* drop = \[...\]"):
        sources.load(specs.from_dict(table).data_source)
    with pytest.raises(sources.DataError, match=r"36 missing value\(s\): age \(20\), income \(16\)"):
        sources.load(specs.from_dict({**table, "categorical": ["plan"], "drop": ["id"]}).data_source)
    with pytest.raises(specs.SpecError, match="`missing`: expected one of 'error', 'drop', 'mean'"):
        specs.from_dict({**table, "missing": "zero"})


@pytest.mark.slow
def test_a_table_sweep_exports_a_model_of_the_raw_columns(tmp_path):
    import keras

    from sweeps import metrics, tables

    frame = _churn_csv(tmp_path / "churn.csv")
    spec = {
        **_table(),
        "name": "churn",
        "dataset": str(tmp_path / "churn.csv"),
        "target": "churned",
        "drop": ["id"],
        "categorical": ["plan"],
        "missing": "mean",
        "epochs": 3,
    }
    result = sweeps.run(spec, logdir=str(tmp_path / "logs"), state=str(tmp_path / "state"), stream=io.StringIO())
    data = sources.load(specs.from_dict(spec).data_source)
    table = tables.from_frame(frame.drop(columns=["churned"]), None, tables.TableOptions(("id",), ("plan",), "mean"))
    raw = data.encoder.raw_inputs(table, data.table_rows["test"])
    model = result.best_model()
    logits = keras.ops.convert_to_numpy(model.predict(raw, verbose=0))
    kept = result.best.executions("test_pr_auc")[0]
    assert metrics.binary(data.y_test, logits)["pr_auc"] == pytest.approx(kept, abs=1e-6)
    assert set(model.input) >= {"age", "plan", "income"} and "id" not in model.input


def test_a_dataframe_given_to_the_api_is_not_sent_to_workers(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"a": np.arange(40.0), "plan": ["x", "y"] * 20})
    spec = {**_table(), "name": "frame", "categorical": ["plan"]}
    with pytest.raises(specs.SpecError, match=r"write it to a CSV .* or run with workers=0"):
        sweeps.run(spec, data=(frame, np.arange(40) % 2), workers=1, logdir=str(tmp_path), state=str(tmp_path))
