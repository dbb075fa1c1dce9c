"""The tests mirror the code: every module of a kerasloss package has tests/<package>/test_<module>.py, and
every such test file names a module that exists (a renamed module takes its tests along)."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent.name for p in (ROOT / "kerasloss").glob("*/__init__.py"))


def _modules(package):
    return {p.stem for p in (ROOT / "kerasloss" / package).glob("*.py") if p.stem != "__init__"}


def test_every_module_has_a_test_file_of_its_name():
    missing = [
        f"tests/{package}/test_{module}.py"
        for package in PACKAGES
        for module in sorted(_modules(package))
        if not (ROOT / "tests" / package / f"test_{module}.py").exists()
    ]
    assert missing == []


def test_every_package_test_file_names_a_module():
    orphans = [
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in sorted((ROOT / "tests" / package).glob("test_*.py"))
        if path.stem.removeprefix("test_") not in _modules(package)
    ]
    assert orphans == []


def test_the_packages_are_the_four_the_architecture_names():
    assert PACKAGES == ["core", "metric_learning", "per_example", "tools"]
