"""The API reference (docs/reference/*.md) documents every public name: each of `kerasloss.__all__` and of the
harness's `sweeps.__all__` has a `::: module.Name` entry that resolves to that very object, and no entry is stale.
`make docs` renders the entries from the docstrings, with warnings as errors."""

import importlib
import pathlib
import re

import pytest

import kerasloss
import sweeps

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
ENTRY = re.compile(r"^::: ([\w.]+)\s*$", re.M)


def _entries():
    """{dotted path: page} of every `:::` entry of the reference pages."""
    found = {}
    for page in sorted((DOCS / "reference").rglob("*.md")):
        for path in ENTRY.findall(page.read_text()):
            found[path] = page.relative_to(DOCS).as_posix()
    return found


def _resolve(path):
    """The object a dotted path names: the longest importable module prefix, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            value = getattr(value, name)
        return value
    raise ImportError(path)


def _documented():
    return {id(_resolve(path)) for path in _entries()}


@pytest.mark.parametrize("package", [kerasloss, sweeps], ids=["kerasloss", "sweeps"])
def test_every_public_name_has_a_reference_entry(package):
    documented = _documented()
    missing = [name for name in package.__all__ if id(getattr(package, name)) not in documented]
    assert not missing, f"add `::: module.NAME` entries to docs/reference/ for {package.__name__}: {missing}"


def test_every_reference_entry_resolves():
    for path, page in _entries().items():
        try:
            _resolve(path)
        except (ImportError, AttributeError) as error:
            pytest.fail(f"docs/{page}: `::: {path}` names nothing ({error})")


def test_the_field_reference_is_generated():
    """docs/harness/spec.md's field table is generated from sweeps/fields.py (tests/sweeps/test_fields.py), the
    table the spec checks fields against and `--help` prints, so the reference cannot drift from the code."""
    assert "<!-- spec-fields -->" in (DOCS / "harness" / "spec.md").read_text()
