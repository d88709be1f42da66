"""Measure a docutils subtree: prose words, code blocks by language, diagrams, deep-dives.

Pure: docutils nodes in, numbers out, no Sphinx import, so it is tested on hand-built trees.

What counts as a word
    The prose text of a block is split on whitespace and on em and en dashes ("fast—but"
    is two words); every piece holding at least one letter or digit is one word. So a
    hyphenated word ("well-known") is one word, a number ("3.11", "$5") is one word, a
    bare URL is one word, and a lone "&" or "|" is none. Inline code counts its
    whitespace-separated tokens (``pip install x`` is three words), and link text counts
    as the text it shows. Markup never splits a word: "un\\ *bel*\\ ievable" is one.

What is prose
    Paragraphs, lists, tables (a table's title is its caption), admonition bodies,
    figure and code-block captions, footnote bodies and deep-dive bodies. Not prose:
    code (literal, doctest and math blocks), raw nodes, comments, headings (section,
    topic, sidebar, admonition and deep-dive titles, rubrics) and diagrams other than
    their captions. A diagram is a node named ``llmdoc_diagram``, ``mermaid`` or
    ``graphviz``, any element with the class ``llmdoc-diagram``, or a ``mermaid`` code
    block.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from docutils import nodes

#: Node class names shared with the feature modules, which this module must not import.
DEEP_DIVE = "llmdoc_deep_dive"
DEEP_DIVE_TITLE = "llmdoc_deep_dive_title"
#: Diagram nodes: ours, and the ones sphinxcontrib-mermaid and sphinx.ext.graphviz emit.
DIAGRAM_NODES = frozenset({"llmdoc_diagram", "mermaid", "graphviz"})
#: Any other element with this class is a diagram too (a figure wrapping an SVG, say).
DIAGRAM_CLASS = "llmdoc-diagram"
#: A code block in one of these languages is a diagram's source: a diagram, not an example.
DIAGRAM_LANGUAGES = frozenset({"mermaid"})
#: Our own bookkeeping nodes, which hold no prose.
SILENT_NODES = frozenset({"llmdoc_quota", "llmdoc_report"})

#: Never prose, and nothing inside them is either.
_NOT_PROSE = (
    nodes.literal_block,
    nodes.doctest_block,
    nodes.math_block,
    nodes.raw,
    nodes.comment,
    nodes.system_message,
    nodes.substitution_definition,
    nodes.footnote_reference,
    nodes.citation_reference,
    nodes.label,
    nodes.rubric,
    nodes.subtitle,
    nodes.docinfo,
)

_SPLIT = re.compile(r"[\s\u2013\u2014]+")
_WORDISH = re.compile(r"\w")


@dataclass
class Stats:
    """What a subtree holds. ``code_blocks`` maps a language to its number of blocks."""

    words: int = 0
    code_blocks: Counter[str] = field(default_factory=Counter)
    diagrams: int = 0
    deep_dives: int = 0

    @property
    def examples(self) -> int:
        """Code blocks of every language."""
        return sum(self.code_blocks.values())

    def __add__(self, other: Stats) -> Stats:
        return Stats(
            words=self.words + other.words,
            code_blocks=self.code_blocks + other.code_blocks,
            diagrams=self.diagrams + other.diagrams,
            deep_dives=self.deep_dives + other.deep_dives,
        )

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict with languages sorted, so reports compare byte for byte."""
        return {
            "words": self.words,
            "examples": self.examples,
            "code_blocks": dict(sorted(self.code_blocks.items())),
            "diagrams": self.diagrams,
            "deep_dives": self.deep_dives,
        }


def count_words(text: str) -> int:
    """Words in plain *text*, by the rules in this module's docstring."""
    return sum(1 for piece in _SPLIT.split(text) if _WORDISH.search(piece))


def is_heading(node: nodes.Node) -> bool:
    """Titles are headings, except a table's title, which is its caption."""
    if isinstance(node, nodes.title):
        return not isinstance(node.parent, nodes.table)
    return type(node).__name__ == DEEP_DIVE_TITLE


def code_language(node: nodes.literal_block | nodes.doctest_block) -> str | None:
    """The language of a code block, or ``None`` for a parsed-literal, which is not code."""
    if isinstance(node, nodes.doctest_block):
        return "pycon"
    # A parsed-literal holds markup whose text differs from its source; real code does not.
    if node.rawsource != node.astext() and "source" not in node:
        return None
    if node.get("language"):
        return str(node["language"])
    # docutils' own ``code`` directive names the language in the classes instead.
    classes: list[str] = node.get("classes", [])
    if "code" in classes:
        return next((c for c in classes if c != "code"), "default")
    return "default"


def measure(node: nodes.Node) -> Stats:
    """Measure everything under *node*, *node* included."""
    stats = Stats()
    chunks: list[str] = []
    _walk(node, stats, chunks)
    stats.words = count_words("".join(chunks))
    return stats


def prose_text(node: nodes.Node) -> str:
    """The text :func:`measure` counts words in, for debugging a surprising count."""
    chunks: list[str] = []
    _walk(node, Stats(), chunks)
    return " ".join("".join(chunks).split())


def _walk(node: nodes.Node, stats: Stats, chunks: list[str]) -> None:
    if isinstance(node, nodes.Text):
        chunks.append(node.astext())  # not str(): that keeps the NULs of escaped spaces
        return
    name = type(node).__name__
    if name in DIAGRAM_NODES or (
        isinstance(node, nodes.Element) and DIAGRAM_CLASS in node.get("classes", ())
    ):
        stats.diagrams += 1
        for caption in node.findall(nodes.caption):
            _walk(caption, stats, chunks)
        return
    if isinstance(node, nodes.literal_block | nodes.doctest_block):
        language = code_language(node)
        if language in DIAGRAM_LANGUAGES:
            stats.diagrams += 1
        elif language is not None:
            stats.code_blocks[language] += 1
        return
    if name in SILENT_NODES or isinstance(node, _NOT_PROSE) or is_heading(node):
        return
    if name == DEEP_DIVE:
        stats.deep_dives += 1
    # Inline markup joins the text around it; anything else is a word boundary.
    boundary = "" if isinstance(node, nodes.Inline) else " "
    chunks.append(boundary)
    for child in node.children:
        _walk(child, stats, chunks)
    chunks.append(boundary)
