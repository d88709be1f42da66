"""The pure word counter on tricky input, each count made by hand."""

from __future__ import annotations

import pytest
from docutils import nodes
from docutils.core import publish_doctree

from sphinx_llmdoc import deepdive, wordcount
from sphinx_llmdoc.wordcount import Stats, count_words, measure, prose_text


def rst(source: str) -> nodes.document:
    settings = {"report_level": 5, "halt_level": 5}
    return publish_doctree(source, settings_overrides=settings)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("one", 1),
        ("a well-known, state-of-the-art model", 4),  # hyphenated words are one word each
        ("Python 3.11 costs $5 at 10:30", 6),  # numbers are words
        ("fast\u2014but slow", 3),  # an em dash separates words
        ("pages 10\u201320", 3),  # and so does an en dash
        ("cats & dogs | birds \u2014 fish", 4),  # bare punctuation is not a word
        ("see https://example.com/a-b?c=1 now", 3),  # a URL is one word
        ("  spaced\n\tout  ", 2),
        ("caf\u00e9 na\u00efve \u00fcber", 3),  # letters outside ASCII
    ],
)
def test_count_words(text: str, words: int) -> None:
    assert count_words(text) == words


def test_inline_code_counts_its_tokens() -> None:
    # "Run" 1, "pip install sphinx-llmdoc" 3, "now." 1
    assert measure(rst("Run ``pip install sphinx-llmdoc`` now.")).words == 5


def test_markup_never_splits_a_word() -> None:
    # un + *bel* + ievable is one word; "is" and "it" two more
    doc = rst(r"un\ *bel*\ ievable is it")
    assert measure(doc).words == 3
    assert prose_text(doc) == "unbelievable is it"


def test_links_count_their_text() -> None:
    # "Read" 1, "the full guide" 3, "or" 1, bare URL 1
    doc = rst("Read `the full guide <https://example.com/guide>`_ or https://example.org/x.")
    assert measure(doc).words == 6


def test_table_inside_a_list() -> None:
    source = """\
- First item.
- Second item holds a table:

  =====  =========
  Name   Value
  =====  =========
  alpha  one point
  =====  =========
"""
    # "First item." 2, "Second item holds a table:" 5, cells: Name, Value, alpha, one point = 5
    assert measure(rst(source)).words == 12


def test_table_title_counts_as_a_caption() -> None:
    source = """\
.. table:: Four caption words here

   ===  ===
   a    b
   ===  ===
"""
    # title 4, cells 2
    assert measure(rst(source)).words == 6


def test_code_blocks_are_counted_by_language_not_as_words() -> None:
    source = """\
Two words.

.. code-block:: python

   print("these words are code")

.. code-block:: bash

   echo more code

.. code-block:: python

   x = 1

::

   a literal block of words

>>> 1 + 1
2
"""
    stats = measure(rst(source))
    assert stats.words == 2
    # publish_doctree without Sphinx leaves "::" blocks without a language
    assert dict(stats.code_blocks) == {"python": 2, "bash": 1, "default": 1, "pycon": 1}
    assert stats.examples == 5


def test_comments_raw_and_headings_are_excluded() -> None:
    source = """\
Heading Words Here
==================

Counted words: three.

..
   This comment has many words that must not count.

.. raw:: html

   <p>raw words never count</p>

.. note:: Note body of five.

.. admonition:: A custom title

   Custom body.

.. rubric:: A rubric is a heading
"""
    # "Counted words: three." 3, note body 4, custom body 2; no heading, comment, raw or title
    assert measure(rst(source)).words == 9


def test_footnote_bodies_count_but_labels_and_references_do_not() -> None:
    source = """\
A claim [#]_ here.

.. [#] The footnote body.
"""
    # "A claim here." 3, "The footnote body." 3
    assert measure(rst(source)).words == 6


def test_figure_captions_count() -> None:
    source = """\
.. figure:: pic.png

   A caption of five words.

   A legend of five words.
"""
    assert measure(rst(source)).words == 10


def test_diagrams_count_as_diagrams_with_only_their_captions_as_prose() -> None:
    diagram = nodes.figure(classes=[wordcount.DIAGRAM_CLASS])
    diagram += nodes.raw("", "<svg><text>never counted</text></svg>", format="html")
    diagram += nodes.caption("", "Three caption words")
    section = nodes.section("", nodes.title("", "Title"), nodes.paragraph("", "Two words"), diagram)
    stats = measure(section)
    assert (stats.words, stats.diagrams) == (5, 1)


def test_named_diagram_nodes_count() -> None:
    class llmdoc_diagram(nodes.General, nodes.Element):  # the class name is what counts
        pass

    section = nodes.section("", llmdoc_diagram("", nodes.literal_block("", "graph TD; A-->B")))
    stats = measure(section)
    assert (stats.words, stats.diagrams, stats.examples) == (0, 1, 0)


def test_a_mermaid_code_block_is_a_diagram_not_an_example() -> None:
    source = """\
.. code-block:: mermaid

   graph TD; A-->B
"""
    stats = measure(rst(source))
    assert (stats.words, stats.diagrams, stats.examples) == (0, 1, 0)


def test_deep_dive_inside_a_section() -> None:
    dive = deepdive.llmdoc_deep_dive()
    dive += deepdive.llmdoc_deep_dive_title("", "Title words are not counted")
    dive += nodes.paragraph("", "The body has five words.")
    dive += nodes.literal_block("x = 1", "x = 1", language="python")
    section = nodes.section(
        "",
        nodes.title("", "Section title"),
        nodes.paragraph("", "Before the dive."),
        dive,
        nodes.section("", nodes.title("", "Sub"), nodes.paragraph("", "Nested prose counts.")),
    )
    stats = measure(section)
    # "Before the dive." 3, body 5, nested 3
    assert stats.words == 11
    assert stats.deep_dives == 1
    assert dict(stats.code_blocks) == {"python": 1}


def test_node_names_stay_in_step_with_the_deep_dive_module() -> None:
    assert deepdive.llmdoc_deep_dive.__name__ == wordcount.DEEP_DIVE
    assert deepdive.llmdoc_deep_dive_title.__name__ == wordcount.DEEP_DIVE_TITLE


def test_parsed_literal_is_neither_code_nor_prose() -> None:
    source = """\
.. parsed-literal::

   some *marked* text
"""
    stats = measure(rst(source))
    assert (stats.words, stats.examples) == (0, 0)


def test_stats_add_and_serialise_deterministically() -> None:
    a = measure(rst(".. code-block:: rust\n\n   fn main() {}\n\nOne."))
    b = measure(rst(".. code-block:: c\n\n   int x;\n\nTwo words."))
    total = a + b
    assert total.as_json() == {
        "words": 3,
        "examples": 2,
        "code_blocks": {"c": 1, "rust": 1},
        "diagrams": 0,
        "deep_dives": 0,
    }
    assert list(total.as_json()["code_blocks"]) == ["c", "rust"]
    assert Stats().as_json()["examples"] == 0
