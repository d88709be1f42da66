"""Quotas over a test root whose counts were made by hand, the report, severities, -j 2."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from sphinx.errors import ConfigError

from sphinx_llmdoc.report import REPORT_FILENAME

if TYPE_CHECKING:
    from pathlib import Path

    from sphinx.testing.util import SphinxTestApp

# Hand counts for tests/roots/test-quota (words by the rules in sphinx_llmdoc/wordcount.py):
#   index.md       "A book about quotas." = 4
#   one.md         Chapter One: "The quick brown fox jumps over the lazy dog." = 9
#                  (the % comment's seven words do not count)
#                  Setup: "Use `pip install sphinx-llmdoc` with a well-known setup on
#                  Python 3.11." = 11; list items 5 + 5; table cells Name, Value, alpha,
#                  1 = 4; so 25, plus one python block
#                  Reading: "Read the docs or https://example.org/guide." = 5; deep-dive
#                  body "Inside the deep-dive — six words here." = 6 (title not counted);
#                  so 11
#                  Chapter One with its subsections: 9 + 25 + 11 = 45
#   two.rst        paragraph 12 ("inline literal" is two), note body 6, custom admonition
#                  body 5 (title not counted), code-block caption 4, sketch caption 5;
#                  raw HTML and the comment do not count: 32; bash + python blocks, 1 diagram
#   three.md       "It is un*bel*ievable: fast—but slow & steady." = 7, caption "Caption"
#                  = 1: 8, and 1 diagram
#   four.md        "Four has an intro of eight words here." = 8, plus four-part.md,
#                  which its toctree includes: "Seven words live in this included part." = 7
#   appendix.md    "The table below lists every quota." = 6 (the report table is not prose)
#   index.md's quota holds the toctree of every other document: 4+45+32+8+8+7+6 = 110
HAND_COUNT = {
    # key: (words, examples, diagrams, deep-dives, status, depth, parent)
    "index#quota-book": (110, 3, 2, 1, "short", 0, None),
    "one#chapter-one": (45, 1, 0, 1, "short", 1, "index#quota-book"),
    "one#setup": (25, 1, 0, 0, "ok", 2, "one#chapter-one"),
    "one#reading": (11, 0, 0, 1, "short", 2, "one#chapter-one"),
    "two#chapter-two": (32, 2, 1, 0, "short", 1, "index#quota-book"),
    "three#chapter-three": (8, 0, 1, 0, "ok", 1, "index#quota-book"),
    "four#chapter-four": (15, 0, 0, 0, "ok", 1, "index#quota-book"),
    "four-part#part-of-four": (7, 0, 0, 0, "short", 2, "four#chapter-four"),
}
DOCUMENT_WORDS = {
    "index": 4,
    "one": 45,
    "two": 32,
    "three": 8,
    "four": 8,
    "four-part": 7,
    "appendix": 6,
}
SHORT_WARNINGS = [
    ("index.md", 3, "section 'Quota Book' is short of its quota: 110 of 1,000 words"),
    (
        "one.md",
        3,
        "section 'Chapter One' is short of its quota: 45 of 60 words, 1 of 2 examples, "
        "0 of 1 diagrams",
    ),
    ("one.md", 34, "section 'Reading' is short of its quota: 0 of 1 examples"),
    ("two.rst", 4, "section 'Chapter Two' is short of its quota: 32 of 2,000 words"),
    ("four-part.md", 3, "section 'Part of Four' is short of its quota: 7 of 100 words"),
]

Build = Callable[..., tuple["SphinxTestApp", dict[str, Any]]]


@pytest.fixture
def build(make_app: Callable[..., SphinxTestApp], copy_root: Callable[[str], Path]) -> Build:
    """Build a fresh copy of a root; returns the app and the parsed JSON report."""

    def run(
        buildername: str = "singlehtml", root: str = "quota", **kwargs: Any
    ) -> tuple[SphinxTestApp, dict[str, Any]]:
        app = make_app(buildername, srcdir=copy_root(root), freshenv=True, **kwargs)
        app.build()
        return app, json.loads((app.outdir / REPORT_FILENAME).read_text("utf-8"))

    return run


def quota_lines(app: SphinxTestApp) -> list[str]:
    return [line for line in app.warning.getvalue().splitlines() if "[llmdoc.quota]" in line]


def test_counts_match_the_hand_count(build: Build) -> None:
    _, report = build()
    measured = {
        s["key"]: (
            s["actual"]["words"],
            s["actual"]["examples"],
            s["actual"]["diagrams"],
            s["actual"]["deep_dives"],
            s["status"],
            s["depth"],
            s["parent"],
        )
        for s in report["sections"]
    }
    assert measured == HAND_COUNT
    assert [s["key"] for s in report["sections"]] == list(HAND_COUNT)  # reading order
    assert {d: s["words"] for d, s in report["documents"].items()} == DOCUMENT_WORDS


def test_report_details_and_totals(build: Build) -> None:
    _, report = build()
    one = report["sections"][1]
    assert one["target"] == {"words": 60, "examples": 2, "diagrams": 1}
    assert one["shortfalls"] == ["words", "examples", "diagrams"]
    assert (one["title"], one["line"], one["docname"], one["id"]) == (
        "Chapter One",
        3,
        "one",
        "chapter-one",
    )
    assert report["sections"][4]["target"] == {"words": 2000, "examples": None, "diagrams": 1}
    assert report["sections"][4]["actual"]["code_blocks"] == {"bash": 1, "python": 1}
    assert report["totals"] == {
        "words": 110,
        "examples": 3,
        "code_blocks": {"bash": 1, "python": 2},
        "diagrams": 2,
        "deep_dives": 1,
        "target_words": 1000,  # only the outermost quota: the others are inside it
        "sections": 8,
        "short": 5,
        # the three short blocks are written inline, which the limit of 8 lines allows
        "code_provenance": {
            "tested": 0,
            "untested_long": 0,
            "short_inline": 3,
            "tested_share_of_long": 1.0,
        },
    }


def test_console_table(build: Build) -> None:
    app, _ = build()
    status = app.status.getvalue()
    assert "llmdoc quota report: 5 of 8 sections short" in status
    assert re.search(r"Chapter One\s+45/60\s+1/2\s+0/1\s+short", status)
    assert re.search(r"Setup\s+25/20\s+1\s+0\s+ok", status)
    assert re.search(r"total\s+110/1,000\s+3\s+2", status)


def test_warning_severity_warns_at_each_short_quota(build: Build) -> None:
    app, _ = build()
    lines = quota_lines(app)
    assert len(lines) == len(SHORT_WARNINGS)
    for line, (filename, lineno, message) in zip(lines, SHORT_WARNINGS, strict=True):
        assert f"{filename}:{lineno}: WARNING: {message} [llmdoc.quota]" in line
    # nothing else warns on this root
    assert app.warning.getvalue().count("WARNING") == len(SHORT_WARNINGS)
    assert app.statuscode == 0


def test_none_severity_is_silent_but_still_reports(build: Build) -> None:
    app, report = build(confoverrides={"llmdoc_quota_severity": "none"})
    assert app.warning.getvalue() == ""
    assert report["totals"]["short"] == 5
    assert "5 of 8 sections short" in app.status.getvalue()
    assert app.statuscode == 0


def test_error_severity_fails_the_build(build: Build) -> None:
    app, _ = build(confoverrides={"llmdoc_quota_severity": "error"})
    lines = quota_lines(app)
    assert len(lines) == len(SHORT_WARNINGS)
    assert all(": ERROR: " in line for line in lines)
    assert "two.rst:4: ERROR: section 'Chapter Two'" in app.warning.getvalue()
    assert app.statuscode == 1


def test_quota_warnings_can_be_suppressed_alone(build: Build) -> None:
    app, _ = build(confoverrides={"suppress_warnings": ["llmdoc.quota"]})
    assert app.warning.getvalue() == ""


def test_bad_severity_is_a_config_error(make_app: Any, copy_root: Any) -> None:
    with pytest.raises(ConfigError, match=r"llmdoc_quota_severity = 'loud'.*\"warning\""):
        make_app("html", srcdir=copy_root("quota"), confoverrides={"llmdoc_quota_severity": "loud"})


def test_parallel_build_gives_the_same_report(build: Build) -> None:
    serial_app, serial = build("html")
    parallel_app, parallel = build("html", parallel=2)
    assert serial_app.parallel == 0
    # seven documents and parallel-safe extensions: the read really is split
    assert parallel_app.parallel == 2 and parallel_app.is_parallel_allowed("read")
    assert parallel == serial
    serial_text = (serial_app.outdir / REPORT_FILENAME).read_bytes()
    assert (parallel_app.outdir / REPORT_FILENAME).read_bytes() == serial_text


def table_rows(html: str) -> list[list[str]]:
    table = html.split('<table class="llmdoc-report')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip(" \n")
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in rows
    ]


def test_report_directive_renders_every_document(build: Build) -> None:
    app, _ = build()
    rows = table_rows((app.outdir / "index.html").read_text("utf-8"))
    assert rows[0] == ["Section", "Words", "Target", "Examples", "Diagrams", "Deep-dives", "Status"]
    assert rows[1] == ["Quota Book", "110", "1,000", "3", "2", "1", "short"]
    assert rows[2] == ["\u2003Chapter One", "45", "60", "1/2", "0/1", "1", "short"]
    assert rows[8] == ["\u2003\u2003Part of Four", "7", "100", "0", "0", "0", "short"]
    assert rows[-1] == ["Whole book", "110", "1,000", "3", "2", "1", ""]
    assert len(rows) == 1 + len(HAND_COUNT) + 1


def test_report_table_follows_changes_in_other_documents(
    make_app: Callable[..., SphinxTestApp], copy_root: Callable[[str], Path]
) -> None:
    srcdir = copy_root("quota")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert table_rows((app.outdir / "appendix.html").read_text("utf-8"))[8][1] == "7"

    part = srcdir / "four-part.md"
    part.write_text(part.read_text("utf-8") + "\nThree more words.\n", "utf-8")
    again = make_app("html", srcdir=srcdir)
    again.build()
    # only four-part.md changed, yet the appendix's table is rebuilt with its new count
    assert table_rows((again.outdir / "appendix.html").read_text("utf-8"))[8][1] == "10"


def test_text_builder_gets_the_report_too(build: Build) -> None:
    app, report = build("text")
    appendix = (app.outdir / "appendix.txt").read_text("utf-8")
    assert "Whole book" in appendix and "Part of Four" in appendix
    assert report["totals"]["words"] == 110


def test_malformed_options_are_located_errors_with_the_fix(build: Build) -> None:
    app, report = build("html", root="quota-bad")
    warnings = app.warning.getvalue()
    expected = [
        "index.md:3: ERROR: `:words: lots` is not a whole number; write a plain number, "
        "e.g. `:words: 2000`",
        "index.md:9: ERROR: quota needs a word target: add `:words: 2000`",
        "index.md:25: ERROR: `:words: 0` asks for nothing; write a positive number, "
        "e.g. `:words: 2000`",
        "index.md:31: ERROR: `:examples: a few` is not a whole number; write a plain number, "
        "e.g. `:examples: 3`",
        "index.md:19: WARNING: this section already has a quota (line 15); keep one of them",
    ]
    for message in expected:
        assert message in warnings
    # only the well-formed quota (the first of "Twice") made it into the report
    assert [(s["title"], s["target"]["words"]) for s in report["sections"]] == [("Twice", 10)]
