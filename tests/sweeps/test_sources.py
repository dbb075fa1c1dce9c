"""Where a sweep's data and model come from (`sweeps.sources`): a `module:function` beside a spec loads with
its own helper modules and leaves the import system as it was; Python's own functions are refused before
they run; a tf.data source must end and yield one tensor per side; data that cannot be swept (no rows, a
0-d array, complex numbers, NaN labels, one class, class ids past int32) is refused with a message that
says what and where."""

import os
import sys
import textwrap
import types

import numpy as np
import pytest

from sweeps import sources, tuning
from sweeps import spec as specs
from tests.sweeps.support import binary


def _write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))


def _refused(value, task, message):
    with pytest.raises(sources.DataError, match=message):
        sources.from_arrays(value, sources.Source("arrays", task))


def _two_classes(n=40):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)).astype("float32"), np.arange(n) % 2


# ---- modules beside a spec ----------------------------------------------------------------------------


def _folders_with_helpers(tmp_path):
    for folder in ("a", "b"):
        _write(tmp_path / folder, "net.py", "import helpers\n\ndef build():\n    return helpers.WHO\n")
        _write(tmp_path / folder, "helpers.py", f"WHO = {folder!r}\n")


def test_each_spec_folder_gets_its_own_helper_modules(tmp_path):
    _folders_with_helpers(tmp_path)
    path, modules = list(sys.path), set(sys.modules)
    assert sources.import_function("net:build", str(tmp_path / "a"))() == "a"
    assert sources.import_function("net:build", str(tmp_path / "b"))() == "b"  # before: a's helpers
    assert sys.path == path  # no folder left on the import path
    assert "helpers" not in sys.modules and not {m for m in set(sys.modules) - modules if "helpers" in m}


def test_the_spec_folder_comes_before_a_module_already_imported_from_elsewhere(tmp_path, monkeypatch):
    _folders_with_helpers(tmp_path)
    elsewhere = types.ModuleType("helpers")  # e.g. the working directory's helpers.py, imported earlier
    elsewhere.__file__, elsewhere.WHO = str(tmp_path / "helpers.py"), "working directory"
    monkeypatch.setitem(sys.modules, "helpers", elsewhere)
    assert sources.import_function("net:build", str(tmp_path / "b"))() == "b"
    assert sys.modules["helpers"] is elsewhere  # put back as it was


def test_an_edited_helper_module_is_loaded_again_and_its_files_are_known(tmp_path):
    _folders_with_helpers(tmp_path)
    build = sources.import_function("net:build", str(tmp_path / "a"))
    assert sources.import_function("net:build", str(tmp_path / "a")) is build  # loaded once while unchanged
    files = sources.module_files(build.__module__)
    assert sorted(os.path.basename(f) for f in files) == ["helpers.py", "net.py"]
    (tmp_path / "a" / "helpers.py").write_text("WHO = 'edited'\n")
    os.utime(tmp_path / "a" / "helpers.py", ns=(1, 10**18))
    assert sources.import_function("net:build", str(tmp_path / "a"))() == "edited"


def test_a_spec_folder_on_the_import_path_keeps_its_modules_and_its_files_are_known(tmp_path, monkeypatch):
    """`python -m sweeps run mine.toml` in the spec's folder: every import finds its modules there anyway,
    so they stay in `sys.modules` (the harness's own packages too, were the spec at the repository root)."""
    import importlib

    _folders_with_helpers(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    monkeypatch.setitem(sys.modules, "helpers", None)  # so that the test's end removes it
    del sys.modules["helpers"]
    helpers = importlib.import_module("helpers")  # imported before the spec's module
    build = sources.import_function("net:build", str(tmp_path / "a"))
    assert build() == "a" and sys.modules["helpers"] is helpers
    assert sorted(os.path.basename(f) for f in sources.module_files(build.__module__)) == ["helpers.py", "net.py"]


def test_a_module_beside_the_spec_may_share_a_standard_library_name(tmp_path):
    _write(tmp_path, "code.py", "def load():\n    return 'mine'\n")  # `code` is also a standard-library module
    assert sources.import_function("code:load", str(tmp_path))() == "mine"


@pytest.mark.parametrize(
    "reference", ["os:system", "sys:exit", "builtins:eval", "os.path:join", "subprocess:run", "__main__:main"]
)
def test_pythons_own_functions_are_refused_before_they_are_called(tmp_path, reference):
    with pytest.raises(ValueError, match=r"a module of Python itself; a dataset or model function must be your own"):
        sources.import_function(reference, str(tmp_path))


def test_a_function_of_python_reexported_from_a_module_beside_the_spec_is_refused(tmp_path):
    _write(tmp_path, "net.py", "from os import system\n")
    with pytest.raises(ValueError, match=r"'net:system' names 'posix', a module of Python itself"):
        sources.import_function("net:system", str(tmp_path))


def test_a_refused_dataset_and_model_name_the_field(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = {
        "name": "t",
        "task": "binary",
        "dataset": "sys:exit",
        "objective": {"name": "pr_auc"},
        "space": {"loss": {"choice": ["FocalLoss"]}},
    }
    with pytest.raises(sources.DataError, match=r"dataset 'sys:exit': 'sys:exit' names 'sys', a module of Python"):
        sources.load(specs.from_dict(table).data_source)
    spec = specs.from_dict(
        {k: v for k, v in table.items() if k != "task"} | {"dataset": "circle", "model": "builtins:eval"}
    )
    with pytest.raises(specs.SpecError, match=r"`model`: 'builtins:eval' names 'builtins'"):
        tuning._model_function(spec, None)


# ---- tf.data ------------------------------------------------------------------------------------------


def test_an_infinite_tf_data_source_is_refused_at_once():
    import tensorflow as tf

    x, y = _two_classes()
    endless = tf.data.Dataset.from_tensor_slices((x, y)).repeat()
    with pytest.raises(sources.DataError, match=r"is infinite \(a repeat\(\) without a count\?\).*take\(n\)"):
        sources.parts(endless, "data", "binary")


@pytest.mark.slow
def test_a_tf_data_source_of_unknown_size_is_read_up_to_a_limit(monkeypatch):
    import tensorflow as tf

    def forever():
        while True:
            yield np.zeros(2, "float32"), 1

    signature = (tf.TensorSpec((2,), tf.float32), tf.TensorSpec((), tf.int32))
    endless = tf.data.Dataset.from_generator(forever, output_signature=signature)
    monkeypatch.setattr(sources, "UNKNOWN_SIZE_LIMIT", 12_000)
    with pytest.raises(sources.DataError, match=r"size is unknown .* not ended after 0 MiB \(1001 elements\).*"
                       r"assert_cardinality\(n\)"):  # fmt: skip
        sources.parts(endless, "data", "binary")
    declared = endless.take(2000).apply(tf.data.experimental.assert_cardinality(2000))  # past the limit: declared
    assert sources.parts(declared, "data", "binary")[0].shape == (2000, 2)
    x, y = _two_classes()
    filtered = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda x, y: y >= 0)  # unknown size, small
    assert sources.parts(filtered, "data", "binary")[0].shape == (40, 2)


def test_tf_data_features_as_a_dict_are_refused_with_a_way_out():
    import tensorflow as tf

    x, y = _two_classes()
    columns = tf.data.Dataset.from_tensor_slices(({"age": x[:, 0], "income": x[:, 1]}, y))
    with pytest.raises(sources.DataError, match=r"yields its features as a dict \(age, income\).*tf\.stack.*DataFrame"):
        sources.parts(columns, "data", "binary")


# ---- the data's own checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(("dtype", "shown"), [("float64", "3000000000"), ("uint64", "18446744073709551615")])
def test_class_ids_past_int32_are_refused_naming_the_id(dtype, shown):
    x, _ = _two_classes()
    ids = np.array([0, 3e9 if dtype == "float64" else 2**64 - 1] * 20, dtype=dtype)
    _refused((x, ids), "multiclass", rf"class ids must be at most 2147483647 .* found {shown} in the data labels\. "
             r"Number the classes 0\.\.n-1, e\.g\. np\.unique\(y, return_inverse=True\)\[1\]")  # fmt: skip


def test_no_rows_is_refused_for_a_file_a_table_and_a_given_part(tmp_path):
    np.savez(tmp_path / "empty.npz", x=np.zeros((0, 3)), y=np.zeros(0))
    (tmp_path / "empty.csv").write_text("a,b,label\n")
    for name in ("empty.npz", "empty.csv"):
        source = sources.Source(str(tmp_path / name), "binary", target="label")
        with pytest.raises(sources.DataError, match=rf"dataset '.*{name}': (the data )?has no rows"):
            sources.load(source)
    x, y = _two_classes()
    _refused(((x, y), (x[:0], y[:0])), "binary", r"data: the test data has no rows")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((np.float32(1.0), np.zeros(3)), r"the features are a single value \(a 0-d array\); give one row per example"),
        ((np.zeros((3, 2)), np.int64(1)), r"the labels are a single value \(a 0-d array\)"),
        ((np.zeros((40, 2)) + 1j, np.arange(40) % 2), r"the features are complex numbers; give their real and "),
        ((np.zeros((40, 2)), (np.arange(40) % 2) + 0j), r"the labels are complex numbers"),
    ],
)
def test_shapeless_and_complex_data_are_refused(value, message):
    _refused(value, "binary", message)


def test_a_nan_label_is_named_by_its_row():
    x, y = _two_classes()
    labels = y.astype("float64")
    labels[[3, 17]] = np.nan
    _refused((x, labels), "binary", r"^data: 2 label\(s\) are NaN or inf \(data rows 3, 17, counting from 0\)$")
    _refused(((x, labels), (x, y)), "multiclass", r"^data: 2 training label\(s\) are NaN or inf \(data rows 3, 17,")


@pytest.mark.parametrize("task", ["multiclass", "embedding"])
def test_one_class_is_refused_where_classes_are_told_apart(task):
    x, _ = _two_classes()
    _refused((x, np.full(40, 3)), task, rf"the labels hold one class only \(3\); {task} tasks need at least 2")


def test_class_ids_spread_far_beyond_the_classes_present_are_refused_for_a_multiclass_model():
    """Ids 0 and 2e9 fit int32, but a model with one output per id would have 2e9 of them."""
    x, _ = _two_classes()
    spread = np.array([0, 2_000_000_000] * 20)
    _refused((x, spread), "multiclass", r"class ids run to 2000000000 but only 2 distinct classes")
    gaps = np.array([0, 5, 9] * 14)[:40]  # a few unused ids among few classes build a small layer: accepted
    assert sources.check_and_split(sources.parts((x, gaps), "data", "multiclass"), "multiclass", "data").classes == 10
    # an embedding model's outputs are its embedding: sparse ids (a subset of a catalogue's classes) are fine
    assert sources.check_and_split(sources.parts((x, spread), "data", "embedding"), "embedding", "data").classes


def test_a_proxy_loss_refuses_class_ids_spread_far_beyond_the_classes_present():
    """A proxy loss trains one class proxy per id: 2e9 of them for ids 0 and 2e9. Other embedding losses do not."""
    from sweeps import spec as specs

    x, _ = _two_classes(80)
    data = sources.check_and_split(
        sources.parts((x, np.array([0, 2_000_000_000] * 40)), "data", "embedding"), "embedding", "data"
    )
    table = {"name": "p", "task": "embedding", "epochs": 1, "tuner": "grid", "objective": {"name": "recall_at_1"}}
    table["space"] = {"learning_rate": {"choice": [0.01]}}
    with pytest.raises(sources.DataError, match=r"class ids run to 2000000000 .*outputs \(or class proxies\)"):
        specs.check_data(specs.from_dict({**table, "loss": "arcface"}, data_given=True), data)
    specs.check_data(specs.from_dict({**table, "loss": "triplet"}, data_given=True), data)


def test_a_helper_imported_inside_a_function_is_refused_with_the_fix(tmp_path, monkeypatch):
    """The import would run at call time, after the spec's folder left the import path: the working
    directory's `helpers.py` (or none) would answer instead of the one beside the spec."""
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "helpers.py").write_text("WIDTH = 3\n")
    (tmp_path / "spec" / "net.py").write_text("def build():\n    import helpers\n\n    return helpers.WIDTH\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "helpers.py").write_text("WIDTH = 999\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match=r"'net:build': its module imports helpers inside a function.*at the top"):
        sources.import_function("net:build", str(tmp_path / "spec"))
    (tmp_path / "spec" / "net.py").write_text("import helpers\n\n\ndef build():\n    return helpers.WIDTH\n")
    assert sources.import_function("net:build", str(tmp_path / "spec"))() == 3


def test_a_class_id_only_the_validation_part_holds_counts_as_a_class():
    train, val, test = (binary(60, 0), binary(30, 1), binary(30, 2))
    val = (val[0], np.where(np.arange(30) == 0, 3, val[1]))
    checked = sources.from_arrays((train, val, test), sources.Source("arrays", "multiclass"))
    assert checked.classes == 4  # the model gets an output for it: no IndexError after training
