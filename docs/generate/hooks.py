"""What the site generates at build time (mkdocs.yml `hooks:`), so that no page copies a figure or a table by hand.

- `<!-- bench-results -->` in a page: the benchmark tables and notes, from bench/results.json (bench/report.py
  renders them, as it renders bench/results.md), with the machine and date of each suite.
- `<!-- sweep-scale -->`: bench/sweep-scale.md, the harness's own scale benchmark, as `bench/sweep_scale.py` wrote it.
- `<!-- spec-fields -->`: the sweep spec's field reference, from the harness's field table (sweeps/fields.py), the one
  `python -m sweeps run --help` prints and `sweeps.spec` checks specs against.
- Formulas: pymdownx.arithmatex marks `$...$` and `$$...$$` (in pages and in the docstrings mkdocstrings renders);
  they become MathML here (latex2mathml), which browsers render natively: no script, no font download.
"""

import html
import json
import pathlib
import re
import sys

from latex2mathml.converter import convert as latex_to_mathml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ and sweeps/ from this checkout

from bench import report  # noqa: E402  (after the path)
from sweeps import fields  # noqa: E402

SUITE_TITLES = {
    "focal": "Focal losses",
    "sparse": "Sparse cross-entropy with label smoothing",
    "ntxent": "NT-Xent",
    "triplet": "Triplet loss, semi-hard mining",
    "retrieval": "Retrieval metrics",
    "multi_similarity": "Multi-similarity",
    "arcface": "ArcFace",
    "proxy_anchor": "Proxy anchor",
    "long_tail": "Class imbalance",
}
TOML_KINDS = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "table"}


def bench_results():
    """The benchmark page's body: per suite, where and when it ran, its table; then the suites' notes."""
    rows = json.loads((ROOT / "bench" / "results.json").read_text())
    lines = [report.INTRO, ""]
    for suite in dict.fromkeys(row["suite"] for row in rows):
        mine = [row for row in rows if row["suite"] == suite]
        title = SUITE_TITLES.get(suite, suite)
        baselines = "; ".join(dict.fromkeys(row["baseline"] for row in mine))
        lines += [
            f"## {title}",
            "",
            f"`python -m bench --suite {suite}` on {report.machines(mine)}, {report.dates(mine)}.",
            f"Against: {baselines}.",
            "",
            *report.HEADER,
            *(report.table_row(row, with_baseline=False) for row in mine),
            "",
        ]
    lines += ["## How each suite measures", *report.notes(rows), ""]
    return "\n".join(lines)


def sweep_scale():
    """bench/sweep-scale.md without its own title (the page has one)."""
    text = (ROOT / "bench" / "sweep-scale.md").read_text()
    return re.sub(r"\A# [^\n]*\n", "", text).replace("\n## ", "\n### ").replace("\n# ", "\n## ")


def _kind(kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(TOML_KINDS[k] for k in kinds)


def spec_fields():
    """The field reference: one row per field of sweeps/fields.py, in its order."""
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for name, (kind, text) in fields.FIELDS.items():
        cell = html.escape(text, quote=False).replace("|", "\\|")
        lines.append(f"| `{name}` | {_kind(kind)} | {cell} |")
    return "\n".join(lines)


GENERATED = {
    "<!-- bench-results -->": bench_results,
    "<!-- sweep-scale -->": sweep_scale,
    "<!-- spec-fields -->": spec_fields,
}


def on_page_markdown(markdown, page, config, files):
    for marker, generate in GENERATED.items():
        if marker in markdown:
            markdown = markdown.replace(marker, generate())
    return markdown


_DISPLAY = re.compile(r'<div class="arithmatex">\s*\\\[(.*?)\\\]\s*</div>', re.S)
_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)


def _mathml(latex, display):
    try:
        return latex_to_mathml(html.unescape(latex).strip(), display="block" if display else "inline")
    except Exception as error:  # a formula that does not parse fails the build, naming it
        raise ValueError(f"a formula does not parse as LaTeX: {latex!r} ({error})") from error


def on_page_content(content, page, config, files):
    content = _DISPLAY.sub(lambda m: f'<div class="math">{_mathml(m.group(1), True)}</div>', content)
    return _INLINE.sub(lambda m: _mathml(m.group(1), False), content)
