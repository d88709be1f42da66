"""Source checks that need a location to be useful: code blocks must name a language,
and long ones must be included from the tested examples tree.

Fragment links are checked where they are final, in :mod:`sphinx_llmdoc.singlehtml`
and in the single-file audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

from sphinx_llmdoc.warnings_ import Warn, warn
from sphinx_llmdoc.wordcount import DIAGRAM_LANGUAGES

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: Values that mean "no language was chosen": Pygments would guess, badly.
UNNAMED_LANGUAGES = frozenset({"", "default"})


def setup_checks(app: Sphinx) -> None:
    """Register the reading-time checks."""
    app.add_transform(CodeLanguageCheck)
    app.add_transform(CodeProvenanceCheck)


def is_code(node: nodes.literal_block) -> bool:
    """A parsed-literal holds markup, not code, and is never highlighted."""
    return node.rawsource == node.astext() or "source" in node


def _in_system_message(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.system_message):
            return True
        parent = parent.parent
    return False


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
            # docutils quotes the offending source inside its own error messages
            if not is_code(node) or _in_system_message(node):
                continue
            language = node.get("language", current)
            if language in UNNAMED_LANGUAGES:
                warn(
                    "code block names no language; tag it (```python, "
                    "```text for plain output) or add :language: to the include",
                    Warn.CODE_LANGUAGE,
                    location=node,
                )


def code_lines(node: nodes.literal_block) -> int:
    """Lines of code a reader sees in *node*."""
    return len(node.astext().rstrip("\n").splitlines())


def is_tested_block(node: nodes.literal_block, examples_dir: Path) -> bool:
    """True if *node* was included from a file under *examples_dir*.

    ``literalinclude`` records the absolute path of the file it read in the node's
    ``source`` attribute; a block written inline has none.
    """
    source = node.get("source")
    if not source:
        return False
    return Path(source).resolve().is_relative_to(examples_dir.resolve())


def needs_provenance(node: nodes.literal_block, max_lines: int) -> bool:
    """A code block (not markup, not a diagram) longer than *max_lines*."""
    return (
        is_code(node)
        and node.get("language") not in DIAGRAM_LANGUAGES
        and code_lines(node) > max_lines
    )


@dataclass(frozen=True)
class Provenance:
    """Where a document's code blocks come from."""

    tested: int
    """Blocks included from the examples tree, whatever their length."""
    untested: int
    """Blocks longer than the limit that are not: each is a warning."""
    short: int
    """Inline blocks within the limit, which need no tested file."""


def count_provenance(doctree: nodes.Node, examples_dir: Path, max_lines: int) -> Provenance:
    """Count the code blocks of *doctree* by provenance, for the build report."""
    tested = untested = short = 0
    for node in doctree.findall(nodes.literal_block):
        if not is_code(node) or node.get("language") in DIAGRAM_LANGUAGES:
            continue
        if is_tested_block(node, examples_dir):
            tested += 1
        elif code_lines(node) > max_lines:
            untested += 1
        else:
            short += 1
    return Provenance(tested, untested, short)


def examples_dir(srcdir: str | Path, configured: str) -> Path:
    """``llmdoc_examples_dir``, resolved against the source directory."""
    return (Path(srcdir) / configured).resolve()


class CodeProvenanceCheck(SphinxTransform):
    """Warn on long code blocks that do not come from the tested examples tree.

    The book promises code that runs: anything longer than
    ``llmdoc_max_inline_code_lines`` must be a ``literalinclude`` of a file under
    ``llmdoc_examples_dir``, which the examples' own tests exercise.
    """

    default_priority = 399

    def apply(self, **kwargs: Any) -> None:
        limit = self.config.llmdoc_max_inline_code_lines
        tree = examples_dir(self.env.srcdir, self.config.llmdoc_examples_dir)
        for node in self.document.findall(nodes.literal_block):
            if needs_provenance(node, limit) and not is_tested_block(node, tree):
                warn(
                    f"code block of {code_lines(node)} lines (limit "
                    f"{limit}) is not included from the tested examples tree "
                    f"({self.config.llmdoc_examples_dir}/); "
                    "move it into a file there and include it with literalinclude "
                    "(:pyobject:, :start-after:/:end-before: or :lines:)",
                    Warn.CODE_PROVENANCE,
                    location=node,
                )
