"""A griffe extension (mkdocs.yml, mkdocstrings' `extensions`): a docstring's `Example:` section renders as code.

The docstrings write their doctests flush with the section title, as Keras' own do:

    Example:

    >>> kerasloss.FocalLoss(gamma=2.0)

Google style wants a section's body indented under its title; this indents every line from `Example:` (or
`Examples:`) to the next section title, so that griffe reads the doctests as an examples section and the page
shows them as Python sessions. The source keeps its form (doctest and `help()` read it as it is).
"""

import re

import griffe

_EXAMPLES = re.compile(r"^Examples?:\s*$")
_SECTION = re.compile(
    r"^(Args|Arguments|Returns|Raises|Yields|References|Reference|Notes?|Warnings?|Attributes|See Also|"
    r"Call arguments|Input shape|Output shape|Examples?):\s*$"
)


def indent_examples(text):
    lines, inside = [], False
    for line in text.splitlines():
        if _EXAMPLES.match(line):
            inside = True
            lines.append(line)
            continue
        if inside and _SECTION.match(line):
            inside = False
        lines.append("    " + line if inside and line.strip() else line)
    return "\n".join(lines)


class IndentedExamples(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = indent_examples(obj.docstring.value)
