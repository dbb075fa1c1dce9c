"""The tests mirror the code: every module of a kerasloss package has tests/<package>/test_<module>.py, and
every such test file names a module that exists (a renamed module takes its tests along). So does the sweep harness
in tests/sweeps/ (`__main__` as test_main.py, a package such as experiments/ as one module), whose end-to-end tests,
named by what a user does, are in tests/sweeps/scenarios/."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent.name for p in (ROOT / "kerasloss").glob("*/__init__.py"))
HARNESS = ROOT / "sweeps"
HARNESS_TESTS = ROOT / "tests" / "sweeps"


def _modules(package):
    return {p.stem for p in (ROOT / "kerasloss" / package).glob("*.py") if p.stem != "__init__"}


def _harness_modules():
    """The harness's modules as their test files name them: `__main__` is `main`, a package is one module."""
    modules = {"main" if p.stem == "__main__" else p.stem for p in HARNESS.glob("*.py") if p.stem != "__init__"}
    return modules | {p.parent.name for p in HARNESS.glob("*/__init__.py")}


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


def test_every_harness_module_has_a_test_file_of_its_name():
    missing = [
        f"tests/sweeps/test_{module}.py"
        for module in sorted(_harness_modules())
        if not (HARNESS_TESTS / f"test_{module}.py").exists()
    ]
    assert missing == []


def test_every_harness_test_file_names_a_module():
    orphans = [
        path.relative_to(ROOT).as_posix()
        for path in sorted(HARNESS_TESTS.glob("test_*.py"))
        if path.stem.removeprefix("test_") not in _harness_modules()
    ]
    assert orphans == []


def test_the_harness_modules_include_its_command_line_and_experiments():
    modules = _harness_modules()
    assert {"main", "experiments", "api", "tuning"} <= modules and "__init__" not in modules
    assert "specs" not in modules  # the default suite is data (TOML files), not a package of code


def test_the_harness_scenarios_are_test_files_of_their_own_folder():
    scenarios = HARNESS_TESTS / "scenarios"
    assert (scenarios / "__init__.py").is_file()
    assert sorted(scenarios.glob("test_*.py")), "tests/sweeps/scenarios/ holds the end-to-end tests"
