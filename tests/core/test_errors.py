"""One message for a refused argument, Keras' own shape, written once (kerasloss.core.errors)."""

import pathlib

from kerasloss.core.errors import invalid_argument

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_message_names_the_argument_what_was_expected_and_the_value():
    error = invalid_argument("alpha", "a float in [0, 1]", 2)
    assert isinstance(error, ValueError)
    assert str(error) == "Invalid value for argument `alpha`. Expected a float in [0, 1]. Received: alpha=2"


def test_no_other_module_writes_the_message():
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "kerasloss").rglob("*.py"))
        if "Invalid value for argument `" in path.read_text() and path.name != "errors.py"
    ]
    assert writers == [], "use kerasloss.core.errors.invalid_argument"
