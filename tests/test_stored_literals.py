"""The stored pytorch-metric-learning values are current with the scripts that generate them.

tests/literals/metric.py and tests/literals/proxy.py are printed by tests/generators/gen_metric_literals.py and
tests/generators/gen_proxy_literals.py. Evaluating pml needs torch and pml, which the suite does not install, but
the inputs, the settings, the pinned versions and the docstring come from the scripts with NumPy alone: a
script edited without regenerating its module fails here.
"""

import ast
import pathlib

import pytest

from tests.generators import gen_metric_literals, gen_proxy_literals
from tests.literals import metric as metric_literals
from tests.literals import proxy as proxy_literals

TOOLS = pathlib.Path(__file__).parent / "generators"


def _same(stored, built):
    """Equal, and equal as repr(): floats stay floats, ints ints, 0.0 is not -0.0."""
    return stored == built and repr(stored) == repr(built)


@pytest.mark.parametrize("script", ["gen_metric_literals.py", "gen_proxy_literals.py"])
def test_script_imports_neither_torch_nor_pml_at_top_level(script):
    tree = ast.parse((TOOLS / script).read_text())
    names = [a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert sorted(names) == ["numpy", "sys"], names


@pytest.mark.parametrize(
    ("module", "script"), [(metric_literals, gen_metric_literals), (proxy_literals, gen_proxy_literals)]
)
def test_versions_and_docstring_match_the_script(module, script):
    assert module.PML_VERSION == script.PML_VERSION
    assert module.TORCH_VERSION == script.TORCH_VERSION
    assert module.__doc__ == script.DOC
    name = script.__name__.rsplit(".", 1)[-1]
    assert f"tests/generators/{name}.py" in module.__doc__
    assert f"pytorch-metric-learning=={script.PML_VERSION}" in module.__doc__


def test_metric_inputs_are_the_scripts():
    assert _same(metric_literals.CASES, gen_metric_literals.inputs())


def test_metric_rows_cover_the_scripts_settings():
    stored = [
        (r["case"], r["alpha"], r["beta"], r["base"], r["distance"], r["epsilon"])
        for r in metric_literals.MULTI_SIMILARITY
    ]
    built = [(name, *setting) for name in metric_literals.CASES for setting in gen_metric_literals.SETTINGS]
    assert _same(stored, built)


def test_proxy_inputs_are_the_scripts():
    cases, subcenter_cases, views = gen_proxy_literals.inputs()
    assert _same(proxy_literals.CASES, cases)
    assert _same(proxy_literals.SUBCENTER_CASES, subcenter_cases)
    assert _same(proxy_literals.VIEWS, views)


@pytest.mark.parametrize(
    ("table", "keys", "inputs", "settings"),
    [
        ("ARCFACE", ("margin", "scale"), "CASES", "ARCFACE"),
        ("SUBCENTER_ARCFACE", ("margin", "scale"), "SUBCENTER_CASES", "ARCFACE"),
        ("COSFACE", ("margin", "scale"), "CASES", "COSFACE"),
        ("PROXY_ANCHOR", ("delta", "alpha"), "CASES", "PROXY_ANCHOR"),
        ("PROXY_NCA", ("scale",), "CASES", "PROXY_NCA"),
        ("VICREG", ("invariance", "variance", "covariance", "epsilon"), "VIEWS", "VICREG_SETTINGS"),
    ],
)
def test_proxy_rows_cover_the_scripts_settings(table, keys, inputs, settings):
    stored = [(r["case"], *(r[k] for k in keys)) for r in getattr(proxy_literals, table)]
    built = [
        (name, *(setting if isinstance(setting, tuple) else (setting,)))
        for name in getattr(proxy_literals, inputs)
        for setting in getattr(gen_proxy_literals, settings)
    ]
    assert _same(stored, built)
