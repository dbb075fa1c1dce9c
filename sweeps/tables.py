"""Your own table as model features: which columns to leave out (`drop`), which to one-hot encode
(`categorical`), and what a missing value does (`missing`). A CSV file (`read_csv`) and a pandas DataFrame
(`from_frame`) pass the same checks, and every error names the source, the columns at fault and the fix.

`missing` (applied before any split):
- "error" (the default): a missing feature or target value is refused, each column named with its count;
- "drop": a row missing any feature or target value is left out (`Table.kept` says which rows remain);
- "mean": a numeric column's missing values take the mean of the fitting rows (the training part, never the
  test part); a categorical column's missing values share the slot of values the fitting rows never held.
  A missing target is refused.
Missing means empty (an empty CSV field, NaN, None, pandas' NA) or, in a categorical column, the empty string.

`Table.fit(rows)` learns what the encoding needs from the fitting rows only; the `TableEncoder` it returns
encodes any rows twice over, with the same numbers: `transform` in NumPy (what the harness trains on) and
`preprocessor()`, a Keras model from the raw columns that goes in front of the trained model, so that the
saved `.keras` file takes a table's raw values.

Why the preprocessor is plain layers and not `keras.utils.FeatureSpace`: FeatureSpace learns its vocabularies
by `adapt()` over a tf.data pass (ordered by frequency) and has no mean imputation, so its encoding would be
a second one to keep equal to the NumPy one. Here each categorical column is a `StringLookup` given the fitted
vocabulary (kept in the layer's config as JSON, no asset file) with one-hot output, each numeric column under
missing="mean" is a `FillMissing` layer (registered below: loading a saved model needs `import sweeps.tables`),
and a float32 `Concatenate` joins them in column order, so mixed precision cannot round the features.
StringLookup runs on TensorFlow, which is what the harness runs on.
"""

import collections
import dataclasses

import keras
import numpy as np
import pandas as pd

from sweeps import sources  # a module, not its names: `sweeps.sources` may import this module while it loads

MISSING = ("error", "drop", "mean")
MAX_CATEGORIES = 1000  # more distinct values than this is an id or free text, not a category
_SHOWN = 20  # column names listed in one message


@dataclasses.dataclass(frozen=True)
class TableOptions:
    """How a table becomes features: the spec's `drop`, `categorical` and `missing`."""

    drop: tuple = ()  # column names left out, e.g. an id
    categorical: tuple = ()  # column names one-hot encoded
    missing: str = "error"  # one of MISSING


def _error(where, message):
    return sources.DataError(f"{where}: {message}")


def _listed(names):
    names = [str(name) for name in names]
    return ", ".join(names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")


def _first_rows(mask):
    """ "3, 17, 40" (or the first five and "...") for the positions where `mask` holds."""
    rows = np.flatnonzero(mask)
    return ", ".join(map(str, rows[:5].tolist())) + (", ..." if rows.size > 5 else "")


# ---- values ------------------------------------------------------------------------------------------


def _is_number(dtype):
    """Numbers and booleans (as 0/1) are features as they are; complex numbers are not."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def _missing(series):
    """Where a value is missing: NaN, None or NA, or the empty string in a column that is not numeric."""
    missing = series.isna().to_numpy(dtype=bool)
    if _is_number(series.dtype):
        return missing
    return missing | (series == "").to_numpy(dtype=bool, na_value=False)


def _numbers(series):
    """A numeric or boolean column as float64, NaN where missing (pandas' nullable types included)."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _token(value):
    """A category's name: whole numbers without a decimal point, so that a column of integers that pandas
    read as floats (because a value was missing) names its categories "1", "2", as an integer column does."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _tokens(series):
    """A categorical column as an object array of strings, "" where a value is missing."""
    tokens = np.array([_token(value) for value in series.to_numpy(dtype=object)], dtype=object)
    tokens[_missing(series)] = ""
    return tokens


# ---- checks ------------------------------------------------------------------------------------------


def _check_names(names, target, where):
    """The target exists; every column has a name, and its own."""
    if target is not None and target not in names:
        raise _error(where, f"no column {target!r} (`target`). Columns: {_listed(names)}")
    # named as pandas names them, so that a CSV read here and one read by pandas get the same message
    unnamed = [name or f"Unnamed: {i}" for i, name in enumerate(names) if name == "" or name.startswith("Unnamed: ")]
    if unnamed:
        raise _error(
            where,
            f"column(s) without a header: {', '.join(unnamed[:5])} (an index that DataFrame.to_csv wrote? write "
            "with index=False, or name the column)",
        )
    repeated = [name for name, count in collections.Counter(names).items() if count > 1]
    if repeated:
        raise _error(
            where,
            f"repeated column name(s): {_listed(repeated)}; give every column its own name (a second copy "
            "of the target would train as a feature)",
        )


def _check_options(options, names, target, where):
    """`drop` and `categorical` name existing columns, not the target, and no column in both."""
    if options.missing not in MISSING:
        raise _error(where, f"missing = {options.missing!r} is not one of {', '.join(map(repr, MISSING))}")
    for field, columns in (("drop", options.drop), ("categorical", options.categorical)):
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise _error(
                where,
                f"{field} = [...] names column(s) not in the table: {_listed(unknown)}. Columns: {_listed(names)}",
            )
        if target is not None and target in columns:
            raise _error(where, f"{field} = [...] names the target {target!r}; the target is never a feature")
    both = [c for c in options.categorical if c in options.drop]
    if both:
        raise _error(where, f"column(s) in both drop = [...] and categorical = [...]: {_listed(both)}")


def _not_a_number(series):
    """The column's name with its first value that is no number, e.g. "plan ('basic' in data row 0)"."""
    try:
        text = series.notna().to_numpy() & pd.to_numeric(series, errors="coerce").isna().to_numpy()
    except (TypeError, ValueError):  # values that pandas cannot even try (lists, dicts, ...)
        text = series.notna().to_numpy()
    if not text.any():  # e.g. complex numbers
        return f"{series.name} ({series.dtype})"
    row = int(np.flatnonzero(text)[0])
    return f"{series.name} ({series.iloc[row]!r} in data row {row})"


def _check_features(features, options, where):
    """Every feature column is a number, or declared categorical with a vocabulary small enough to one-hot."""
    text = [c for c in features.columns if c not in options.categorical and not _is_number(features[c].dtype)]
    if text:
        raise _error(
            where,
            f"feature column(s) not numeric: {'; '.join(_not_a_number(features[c]) for c in text[:_SHOWN])}. "
            "List them in categorical = [...] to one-hot encode them, or in drop = [...] to leave them out",
        )
    for column in options.categorical:
        values = set(_tokens(features[column])) - {""}
        if len(values) > MAX_CATEGORIES:
            raise _error(
                where,
                f"categorical column {column!r} holds {len(values)} distinct values, more than the "
                f"{MAX_CATEGORIES} one-hot encoding takes (an id or free text? put it in drop = [...])",
            )
    infinite = {c: int(np.isinf(_numbers(features[c])).sum()) for c in features if c not in options.categorical}
    infinite = {c: n for c, n in infinite.items() if n}
    if infinite:
        counts = ", ".join(f"{c} ({n})" for c, n in infinite.items())
        raise _error(where, f"infinite value(s) in {counts}; replace them with numbers, or leave them empty")


def _check_target(series, where):
    if not _is_number(series.dtype):
        raise _error(where, f"target column {series.name!r} must hold numbers (class ids or targets)")


def _kept_rows(features, target, missing, where):
    """The rows to keep under `missing`, or the error that names what is missing and where."""
    absent = {c: _missing(features[c]) for c in features.columns}
    target_absent = np.zeros(len(features), bool) if target is None else target.isna().to_numpy(dtype=bool)
    if missing == "drop":
        keep = ~(target_absent | np.any(list(absent.values()), axis=0))
        if not keep.any():
            raise _error(where, f'every one of the {len(keep)} rows misses a value (missing = "drop")')
        return keep
    if target_absent.any():
        raise _error(
            where,
            f"the target {target.name!r} is missing in {int(target_absent.sum())} row(s) (data rows "
            f"{_first_rows(target_absent)}, counting from 0); fill them or remove those rows, or set "
            'missing = "drop"',
        )
    counts = {c: int(mask.sum()) for c, mask in absent.items() if mask.any()}
    if counts and missing == "error":
        listed = ", ".join(f"{c} ({n})" for c, n in counts.items())
        raise _error(
            where, f'{sum(counts.values())} missing value(s): {listed}; set missing = "drop" or "mean", or fill them'
        )
    return np.ones(len(features), bool)


# ---- reading -----------------------------------------------------------------------------------------


def read_csv(path, target, options):
    """The checked `Table` of a CSV file whose column `target` holds the labels or targets."""
    where = f"dataset {path!r}"
    if target is None:
        raise _error(where, 'a CSV needs `target = "column"`: the label or target column')
    try:
        # pandas renames a repeated `y` to `y.1`; the header row read as text says what the file holds
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
        frame = pd.read_csv(path, low_memory=False)
    except (ValueError, UnicodeDecodeError) as error:  # pandas' parser errors are ValueErrors
        raise _error(where, f"not a readable CSV: {error}") from None
    frame.columns = header
    return _table(frame, target, options, where)


def from_frame(frame, target=None, options=TableOptions(), where="data"):
    """The checked `Table` of a pandas DataFrame. `target` names the label column within it, or is None
    when the labels come separately (then, under missing="drop", keep `y[table.kept]`)."""
    if not isinstance(frame, pd.DataFrame):
        raise _error(where, f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.reset_index(drop=True)  # rows are counted from 0, as in a file
    frame.columns = [str(c) for c in frame.columns]  # a frame made from an array has columns 0, 1, ...
    return _table(frame, target, options, where)


def _table(frame, target, options, where):
    names = list(frame.columns)
    _check_names(names, target, where)
    _check_options(options, names, target, where)
    features = frame.drop(columns=[*options.drop, *([target] if target is not None else [])]).infer_objects()
    if features.shape[1] == 0:
        raise _error(where, "no feature column" + (f" besides the target {target!r}" if target else ""))
    if len(frame) == 0:
        raise _error(where, "has no rows")
    _check_features(features, options, where)
    labels = None if target is None else frame[target].infer_objects()
    if labels is not None:
        _check_target(labels, where)
    keep = _kept_rows(features, labels, options.missing, where)
    y = None if labels is None else _label_array(labels[keep])
    categorical = tuple(c for c in features.columns if c in options.categorical)
    return Table(where, features[keep].reset_index(drop=True), y, np.flatnonzero(keep), categorical, options.missing)


def _label_array(labels):
    """Labels as NumPy keeps them (int64 class ids stay integers); pandas' nullable types as float64."""
    return labels.to_numpy() if isinstance(labels.dtype, np.dtype) else _numbers(labels)


# ---- the table and its encoder -----------------------------------------------------------------------


class Table:
    """A checked table: its feature columns as read (`frame`, rows counted from 0) and its target `y`.

    `columns` are the feature columns in file order (after `drop`, without the target), `categorical` those
    among them to one-hot encode, `kept` the data rows of the source that remain (all of them unless
    missing="drop"). `fit` is where the encoding is learnt, from the rows that a model trains on."""

    def __init__(self, where, frame, y, kept, categorical, missing):
        self.where = where
        self.frame = frame
        self.columns = tuple(frame.columns)
        self.y = y
        self.kept = kept
        self.categorical = categorical
        self.missing = missing

    def __len__(self):
        return len(self.frame)

    def fit(self, rows):
        """The `TableEncoder` of the fitting rows `rows` (indices into this table; the training part): each
        categorical column's values, and under missing="mean" each numeric column's mean."""
        part = self.frame.iloc[np.asarray(rows)]
        empty = [c for c in self.columns if _missing(part[c]).all()]
        if empty:
            raise _error(
                self.where,
                f"column(s) without a value in the {len(part)} fitting row(s): {_listed(empty)} (drop = [...] them)",
            )
        numeric = [c for c in self.columns if c not in self.categorical]
        means = {c: float(np.nanmean(_numbers(part[c]))) for c in numeric} if self.missing == "mean" else {}
        vocabularies = {c: tuple(sorted(set(_tokens(part[c])) - {""})) for c in self.categorical}
        return TableEncoder(self.columns, means, vocabularies)


@keras.saving.register_keras_serializable(package="kerasloss_sweeps")
class FillMissing(keras.layers.Layer):
    """NaN -> `value` (a numeric column's mean over the fitting rows); other values pass through."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = float(value)

    def call(self, x):
        return keras.ops.where(keras.ops.isnan(x), keras.ops.cast(self.value, x.dtype), x)

    def get_config(self):
        return {**super().get_config(), "value": self.value}


@dataclasses.dataclass(frozen=True)
class TableEncoder:
    """Raw columns -> float32 features of `width`, learnt by `Table.fit`.

    The features follow `columns` in order: a numeric column is one feature (NaN -> its mean under
    missing="mean", else passed through); a categorical column is one-hot over 1 + its vocabulary's size
    slots, slot 0 for a value missing or not in the vocabulary, then the vocabulary in sorted order.
    Raw values (`raw_inputs`) are float32 for a numeric column and strings for a categorical one ("" when
    missing; integers written as by str(), e.g. "3")."""

    columns: tuple  # the feature columns, in file order
    means: dict  # numeric column -> the fitting rows' mean; empty unless missing="mean"
    vocabularies: dict  # categorical column -> the fitting rows' values, as sorted strings

    @property
    def categorical(self):
        return tuple(self.vocabularies)

    @property
    def width(self):
        return sum(len(self.vocabularies[c]) + 1 if c in self.vocabularies else 1 for c in self.columns)

    def raw_inputs(self, table, rows):
        """{column: values of `rows`}, shape (len(rows),): what `preprocessor()` takes. Strings come as an
        object array (`Model.predict` refuses NumPy's fixed-width unicode arrays)."""
        if table.columns != self.columns:
            raise _error(
                table.where,
                f"columns {_listed(table.columns)} differ from the encoder's, {_listed(self.columns)}",
            )
        part = table.frame.iloc[np.asarray(rows)]
        return {
            c: _tokens(part[c]) if c in self.vocabularies else _numbers(part[c]).astype(np.float32)
            for c in self.columns
        }

    def encode(self, raw):
        """The features, float32 (rows, width), of a dict of raw columns: the NumPy twin of `preprocessor()`."""
        return np.concatenate([self._encode_column(c, np.asarray(raw[c]).reshape(-1)) for c in self.columns], axis=1)

    def _encode_column(self, column, values):
        if column in self.vocabularies:
            slot = {value: i + 1 for i, value in enumerate(self.vocabularies[column])}
            return np.eye(len(slot) + 1, dtype=np.float32)[[slot.get(str(v), 0) for v in values]]
        values = values.astype(np.float32)
        if column in self.means:
            values = np.where(np.isnan(values), np.float32(self.means[column]), values)
        return values[:, None]

    def transform(self, table, rows):
        """The features, float32 (len(rows), width), of `rows` of `table`."""
        return self.encode(self.raw_inputs(table, rows))

    def preprocessor(self):
        """A Keras model from {column: (batch,) or (batch, 1)} raw values (float32, or strings for a categorical
        column) to the (batch, width) float32 features that `encode` gives. Input layers are named by column
        ('/', which Keras refuses in a name, becomes '_')."""
        inputs = {c: self._input(c) for c in self.columns}
        features = [self._column_layer(c)(inputs[c]) for c in self.columns]
        return keras.Model(inputs, keras.layers.Concatenate(dtype="float32")(features), name="table_preprocessor")

    def _input(self, column):
        dtype = "string" if column in self.vocabularies else "float32"
        return keras.Input(shape=(1,), name=column.replace("/", "_"), dtype=dtype)

    def _column_layer(self, column):
        if column in self.vocabularies:
            # oov_token is a label only; "" is never in the vocabulary, whereas a value "[UNK]" (the default
            # label) sorted first would be taken for the out-of-vocabulary slot
            return keras.layers.StringLookup(
                vocabulary=list(self.vocabularies[column]), oov_token="", output_mode="one_hot"
            )
        if column in self.means:
            return FillMissing(self.means[column], dtype="float32")
        return keras.layers.Identity(dtype="float32")

    def get_config(self):
        """The constructor's arguments as plain JSON values, to record beside a sweep's state."""
        return {
            "columns": list(self.columns),
            "means": dict(self.means),
            "vocabularies": {c: list(v) for c, v in self.vocabularies.items()},
        }

    @classmethod
    def from_config(cls, config):
        return cls(
            tuple(config["columns"]),
            dict(config["means"]),
            {c: tuple(v) for c, v in config["vocabularies"].items()},
        )
