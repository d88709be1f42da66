"""Source checks that need a location to be useful: code blocks must name a language.

Fragment links are checked where they are final, in :mod:`sphinx_llmdoc.singlehtml`
and in the single-file audit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

from sphinx_llmdoc.warnings_ import Warn, warn

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: Values that mean "no language was chosen": Pygments would guess, badly.
UNNAMED_LANGUAGES = frozenset({"", "default"})


def setup_checks(app: Sphinx) -> None:
    """Register the reading-time checks."""
    app.add_transform(CodeLanguageCheck)


def is_code(node: nodes.literal_block) -> bool:
    """A parsed-literal holds markup, not code, and is never highlighted."""
    return node.rawsource == node.astext() or "source" in node


class CodeLanguageCheck(SphinxTransform):
    """Warn on code blocks that would be highlighted as ``default``.

    Runs just before Sphinx's HighlightLanguageTransform (400) fills in defaults,
    while an untagged block is still distinguishable from a tagged one.
    """

    default_priority = 399

    def apply(self, **kwargs: Any) -> None:
        if not self.config.llmdoc_require_code_language:
            return
        current = self.config.highlight_language
        for node in self.document.findall(
            lambda n: isinstance(n, addnodes.highlightlang | nodes.literal_block)
        ):
            if isinstance(node, addnodes.highlightlang):
                current = node["lang"]
                continue
            assert isinstance(node, nodes.literal_block)
            if not is_code(node):
                continue
            language = node.get("language", current)
            if language in UNNAMED_LANGUAGES:
                warn(
                    "code block names no language; tag it (```python, "
                    "```text for plain output) or add :language: to the include",
                    Warn.CODE_LANGUAGE,
                    location=node,
                )
