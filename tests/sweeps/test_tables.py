"""sweeps.tables: a real table (a string id, a string plan, missing values) into features; the checks that
name the columns at fault, alike for a CSV and a DataFrame; means and vocabularies learnt from the fitting
rows only; the NumPy transform equal to the Keras preprocessor, also after a `.keras` round trip."""

import json
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from sweeps import tables
from sweeps.sources import DataError

ROWS = 200
FITTING = np.arange(150)  # the training part; rows 150 on are the others
CHURN = tables.TableOptions(drop=("id",), categorical=("plan", "region"), missing="mean")


def _churn(seed=0):
    """A churn table: 20 ages and 16 incomes missing; the rows past FITTING are 1000 years older, so that a
    mean taken over every row, not the fitting rows only, would show."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, ROWS)
    age[len(FITTING) :] += 1000
    age[rng.choice(ROWS, 20, replace=False)] = np.nan
    income = rng.normal(50_000, 8_000, ROWS)
    income[rng.choice(ROWS, 16, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "id": [f"C{i:05d}" for i in range(ROWS)],
            "plan": rng.choice(["basic", "pro", "family"], ROWS),
            "region": rng.integers(1, 5, ROWS),
            "age": age,
            "income": income,
            "tenure": rng.integers(0, 72, ROWS),
            "churn": (rng.random(ROWS) < 0.3).astype("int64"),
        }
    )


def _csv(tmp_path, frame):
    path = tmp_path / "churn.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _message(read, *args):
    with pytest.raises(DataError) as error:
        read(*args)
    return str(error.value)


# ---- the checks --------------------------------------------------------------------------------------


def test_an_undeclared_string_column_is_named_with_the_fields_that_take_it(tmp_path):
    path = _csv(tmp_path, _churn())
    message = _message(tables.read_csv, path, "churn", tables.TableOptions())
    assert message.startswith(f"dataset {path!r}: feature column(s) not numeric: id ('C00000' in data row 0); plan (")
    assert "categorical = [...]" in message and "drop = [...]" in message


def test_missing_error_names_each_column_with_its_count(tmp_path):
    path = _csv(tmp_path, _churn())
    options = tables.TableOptions(drop=("id",), categorical=("plan",))
    message = _message(tables.read_csv, path, "churn", options)
    assert message == (
        f'dataset {path!r}: 36 missing value(s): age (20), income (16); set missing = "drop" or "mean", or fill them'
    )


@pytest.mark.parametrize("missing", ["error", "mean"])
def test_a_missing_target_is_refused_with_its_rows(tmp_path, missing):
    frame = _churn()
    frame.loc[[3, 7], "churn"] = np.nan
    path = _csv(tmp_path, frame)
    message = _message(tables.read_csv, path, "churn", tables.TableOptions(drop=("id",), categorical=("plan",)))
    assert "the target 'churn' is missing in 2 row(s) (data rows 3, 7, counting from 0)" in message
    assert 'set missing = "drop"' in message


def test_missing_drop_leaves_out_the_incomplete_rows_target_included(tmp_path):
    frame = _churn()
    frame.loc[[3, 7], "churn"] = np.nan
    options = tables.TableOptions(drop=("id",), categorical=("plan",), missing="drop")
    table = tables.read_csv(_csv(tmp_path, frame), "churn", options)
    complete = frame[["age", "income", "churn"]].notna().all(axis=1).to_numpy()
    assert len(table) == complete.sum() <= ROWS - 36 and not {3, 7} & set(table.kept.tolist())
    np.testing.assert_array_equal(table.kept, np.flatnonzero(complete))
    np.testing.assert_array_equal(table.y, frame["churn"][complete])
    assert np.isfinite(table.fit(np.arange(len(table))).transform(table, np.arange(len(table)))).all()


def test_every_row_dropped_is_an_error():
    frame = pd.DataFrame({"a": [np.nan, 1.0], "y": [0, np.nan]})
    message = _message(tables.from_frame, frame, "y", tables.TableOptions(missing="drop"))
    assert message == 'data: every one of the 2 rows misses a value (missing = "drop")'


def test_repeated_column_names_are_refused(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("x,y,y\n1,0,0\n2,1,1\n")  # pandas alone would read the second y as a feature `y.1`
    expected = "repeated column name(s): y; give every column its own name"
    assert expected in _message(tables.read_csv, str(path), "y", tables.TableOptions())
    frame = pd.DataFrame([[1, 0, 0]], columns=["x", "y", "y"])
    assert expected in _message(tables.from_frame, frame, "y", tables.TableOptions())


def test_an_unnamed_column_is_refused_alike_from_a_csv_and_a_dataframe(tmp_path):
    path = tmp_path / "indexed.csv"
    pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}).to_csv(path)  # the index, without a header
    expected = "column(s) without a header: Unnamed: 0 (an index that DataFrame.to_csv wrote? write with index=False"
    assert expected in _message(tables.read_csv, str(path), "y", tables.TableOptions())
    assert expected in _message(tables.from_frame, pd.read_csv(path), "y", tables.TableOptions())


CHECKS = {
    "undeclared string": (tables.TableOptions(drop=("id",)), "feature column(s) not numeric: plan ('"),
    "missing": (tables.TableOptions(drop=("id",), categorical=("plan",)), "36 missing value(s)"),
    "unknown drop": (
        tables.TableOptions(drop=("customer",)),
        "drop = [...] names column(s) not in the table: customer. Columns: id, plan, region, age, income, tenure, "
        "churn",
    ),
    "unknown categorical": (
        tables.TableOptions(drop=("id",), categorical=("plan", "tier")),
        "categorical = [...] names column(s) not in the table: tier. Columns: id, plan",
    ),
    "target categorical": (
        tables.TableOptions(categorical=("churn",)),
        "categorical = [...] names the target 'churn'; the target is never a feature",
    ),
    "drop and categorical": (
        tables.TableOptions(drop=("id", "plan"), categorical=("plan",)),
        "column(s) in both drop = [...] and categorical = [...]: plan",
    ),
    "missing option": (tables.TableOptions(missing="zero"), "missing = 'zero' is not one of 'error', 'drop', 'mean'"),
}


@pytest.mark.parametrize("case", CHECKS)
def test_a_csv_and_a_dataframe_get_the_same_error(tmp_path, case):
    options, expected = CHECKS[case]
    path = _csv(tmp_path, _churn())
    from_csv = _message(tables.read_csv, path, "churn", options)
    from_frame = _message(tables.from_frame, pd.read_csv(path), "churn", options)
    assert from_csv.startswith(f"dataset {path!r}: {expected}")
    assert from_csv.removeprefix(f"dataset {path!r}") == from_frame.removeprefix("data")


def test_no_rows_no_target_and_values_that_are_no_features(tmp_path):
    header_only = tmp_path / "empty.csv"
    header_only.write_text("a,y\n")
    assert _message(tables.read_csv, str(header_only), "y", tables.TableOptions()).endswith(": has no rows")
    assert "no column 'label' (`target`). Columns: a, y" in _message(
        tables.read_csv, str(header_only), "label", tables.TableOptions()
    )
    complex_numbers = pd.DataFrame({"z": [1 + 2j, 3j], "y": [0, 1]})
    assert "not numeric: z (complex128)" in _message(tables.from_frame, complex_numbers, "y", tables.TableOptions())
    infinite = pd.DataFrame({"a": [1.0, np.inf], "y": [0, 1]})
    assert "infinite value(s) in a (1)" in _message(tables.from_frame, infinite, "y", tables.TableOptions())
    words = pd.DataFrame({"a": [1.0, 2.0], "y": ["no", "yes"]})
    assert "target column 'y' must hold numbers" in _message(tables.from_frame, words, "y", tables.TableOptions())


def test_a_category_per_row_is_refused_as_an_id():
    frame = pd.DataFrame({"id": [f"C{i}" for i in range(tables.MAX_CATEGORIES + 1)], "a": 0.0})
    message = _message(tables.from_frame, frame, None, tables.TableOptions(categorical=("id",)))
    assert f"categorical column 'id' holds {tables.MAX_CATEGORIES + 1} distinct values" in message


# ---- fitting and encoding ----------------------------------------------------------------------------


def test_drop_categorical_and_mean_learn_from_the_fitting_rows_only(tmp_path):
    frame = _churn()
    table = tables.read_csv(_csv(tmp_path, frame), "churn", CHURN)
    assert table.columns == ("plan", "region", "age", "income", "tenure") and len(table) == ROWS
    np.testing.assert_array_equal(table.y, frame["churn"])
    encoder = table.fit(FITTING)
    assert encoder.means["age"] == pytest.approx(frame["age"][FITTING].mean())  # pandas skips NaN
    assert encoder.means["age"] < 100  # over every row it would be over 250
    assert encoder.vocabularies == {"plan": ("basic", "family", "pro"), "region": ("1", "2", "3", "4")}
    assert encoder.categorical == ("plan", "region") and encoder.width == 4 + 5 + 3
    x = encoder.transform(table, np.arange(ROWS))
    assert x.dtype == np.float32 and x.shape == (ROWS, 12) and np.isfinite(x).all()
    unknown_age = frame["age"].isna().to_numpy()
    assert unknown_age[FITTING].any() and unknown_age[len(FITTING) :].any()
    np.testing.assert_array_equal(x[unknown_age, 9], np.float32(encoder.means["age"]))
    np.testing.assert_array_equal(x[:, :4].sum(axis=1), 1.0)  # one plan slot per row


def test_a_dataframe_without_its_labels_and_integer_categories_read_as_floats():
    frame = _churn().drop(columns="churn")
    frame["region"] = frame["region"].astype("float64")
    frame.loc[0, "region"] = np.nan
    table = tables.from_frame(frame, options=CHURN)
    assert table.y is None and table.columns == ("plan", "region", "age", "income", "tenure")
    encoder = table.fit(FITTING)
    assert encoder.vocabularies["region"] == ("1", "2", "3", "4")
    assert encoder.raw_inputs(table, [0, 1])["region"].tolist() == ["", str(int(frame["region"][1]))]


def _unseen_and_missing():
    """A table under missing="mean" fitted without "family" plans, with plans and ages missing."""
    frame = _churn()
    frame.loc[[0, 160], "plan"] = np.nan
    table = tables.from_frame(frame, "churn", CHURN)
    fitting = FITTING[frame["plan"][FITTING].ne("family").to_numpy()]
    return table, table.fit(fitting)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_the_preprocessor_equals_transform_on_unseen_and_missing_values(policy):
    keras.mixed_precision.set_global_policy(policy)
    table, encoder = _unseen_and_missing()
    rows = np.arange(ROWS)
    expected = encoder.transform(table, rows)
    assert encoder.vocabularies["plan"] == ("basic", "pro")
    unknown = table.frame["plan"].isna() | table.frame["plan"].eq("family")
    np.testing.assert_array_equal(expected[unknown.to_numpy(), 0], 1.0)  # the unknown/missing slot
    raw = encoder.raw_inputs(table, rows)
    preprocessor = encoder.preprocessor()
    np.testing.assert_array_equal(preprocessor.predict(raw, verbose=0), expected)
    columns = {c: v[:, None] for c, v in raw.items()}  # (batch, 1) as well as (batch,)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(preprocessor(columns)), expected)


def test_a_category_named_like_keras_unknown_token_is_a_category():
    table = tables.from_frame(
        pd.DataFrame({"c": ["[UNK]", "a", "b", "zz"]}), options=tables.TableOptions(categorical=("c",))
    )
    encoder = table.fit([0, 1, 2])
    raw = encoder.raw_inputs(table, np.arange(4))
    np.testing.assert_array_equal(encoder.encode(raw), np.eye(4)[[1, 2, 3, 0]])
    np.testing.assert_array_equal(encoder.preprocessor().predict(raw, verbose=0), encoder.encode(raw))


def test_the_encoder_config_is_json():
    table, encoder = _unseen_and_missing()
    again = tables.TableEncoder.from_config(json.loads(json.dumps(encoder.get_config())))
    assert again == encoder
    np.testing.assert_array_equal(again.transform(table, FITTING), encoder.transform(table, FITTING))


LOAD = """
import json, sys
import numpy as np
import keras
import sweeps.tables

model = keras.models.load_model(sys.argv[1])
columns = json.load(open(sys.argv[2]))
raw = {c: np.array(v, dtype=object if isinstance(v[0], str) else "float32") for c, v in columns.items()}
np.save(sys.argv[3], model.predict(raw, verbose=0))
"""


@pytest.mark.slow
def test_a_saved_model_on_raw_columns_loads_in_a_fresh_process(tmp_path):
    table, encoder = _unseen_and_missing()
    preprocessor = encoder.preprocessor()
    inputs = preprocessor.input
    model = keras.Model(inputs, keras.layers.Dense(1)(preprocessor(inputs)))
    model.save(tmp_path / "m.keras")
    raw = encoder.raw_inputs(table, np.arange(ROWS))
    (tmp_path / "raw.json").write_text(json.dumps({c: v.tolist() for c, v in raw.items()}))  # NaN kept
    paths = [str(tmp_path / name) for name in ("m.keras", "raw.json", "out.npy")]
    loaded = subprocess.run([sys.executable, "-c", LOAD, *paths], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    np.testing.assert_array_equal(np.load(paths[2]), model.predict(raw, verbose=0))
