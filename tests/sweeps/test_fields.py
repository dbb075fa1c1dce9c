"""sweeps/fields.py: the one table of a spec's fields, read by the spec's checks, `--help` and the site."""

from sweeps import fields, spec


def test_the_spec_checks_the_fields_of_the_table():
    assert list(spec.FIELDS) == list(fields.FIELDS)
    assert all(spec.FIELDS[name] == kind for name, (kind, _) in fields.FIELDS.items())


def test_the_help_lists_every_field_once_within_its_width():
    printed = fields.help_text(width=112)
    lines = printed.splitlines()
    named = [line.split()[0] for line in lines[1:] if line.startswith("  ") and not line.startswith("   ")]
    assert named[: len(fields.FIELDS)] == list(fields.FIELDS)
    assert max(len(line) for line in lines) <= 112


def test_every_field_has_a_type_and_a_sentence():
    for name, (kind, text) in fields.FIELDS.items():
        assert isinstance(kind, type) or all(isinstance(k, type) for k in kind), name
        assert len(text) > 10, name
