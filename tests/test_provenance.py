"""Long code blocks must be included from the tested examples tree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util.console import strip_colors

from sphinx_llmdoc.checks import Provenance, count_provenance, examples_dir, is_tested_block

PROVENANCE = re.compile(
    r"^(.*?):(\d+): WARNING: code block of (\d+) lines .*\[llmdoc\.code_provenance\]$"
)


def provenance_warnings(warnings: str) -> list[tuple[str, int, int]]:
    """(file name, line, block length) of each provenance warning."""
    found = []
    for line in strip_colors(warnings).splitlines():
        match = PROVENANCE.match(line.strip())
        if match:
            found.append((Path(match[1]).name, int(match[2]), int(match[3])))
    return sorted(found)


def build(make_app, copy_root, **overrides):
    app = make_app(
        "singlehtml", srcdir=copy_root("provenance"), freshenv=True, confoverrides=overrides
    )
    app.build()
    return app


def test_long_blocks_not_from_the_examples_tree_warn_with_their_location(
    make_app, copy_root
) -> None:
    app = build(make_app, copy_root)
    assert provenance_warnings(app.warning.getvalue()) == [
        ("index.md", 15, 9),  # inline, longer than 8 lines
        ("index.md", 42, 9),  # literalinclude, but from notexamples/
        ("other.rst", 4, 10),  # an rst code-block counts too, whatever its language
    ]


def test_the_limit_is_configurable(make_app, copy_root) -> None:
    app = build(make_app, copy_root, llmdoc_max_inline_code_lines=9)
    assert provenance_warnings(app.warning.getvalue()) == [("other.rst", 4, 10)]


def test_the_warning_can_be_suppressed_by_subtype(make_app, copy_root) -> None:
    app = build(make_app, copy_root, suppress_warnings=["llmdoc.code_provenance"])
    assert "code_provenance" not in app.warning.getvalue()


def test_counts_per_document_for_the_report(make_app, copy_root) -> None:
    app = build(make_app, copy_root)
    tree = examples_dir(app.srcdir, app.config.llmdoc_examples_dir)
    limit = app.config.llmdoc_max_inline_code_lines
    assert count_provenance(app.env.get_doctree("index"), tree, limit) == Provenance(
        tested=2, untested=2, short=1
    )
    assert count_provenance(app.env.get_doctree("other"), tree, limit) == Provenance(
        tested=1, untested=1, short=0
    )


def test_the_report_counts_tested_versus_untested_blocks(make_app, copy_root) -> None:
    app = build(make_app, copy_root)
    report = json.loads((app.outdir / "llmdoc-report.json").read_text("utf-8"))
    assert report["totals"]["code_provenance"] == {
        "tested": 3,
        "untested_long": 3,
        "short_inline": 1,
        "tested_share_of_long": 0.5,
    }
    assert "3 included from tested examples, 3 long blocks written inline" in strip_colors(
        app.status.getvalue()
    )


def block(source: str | None) -> nodes.literal_block:
    node = nodes.literal_block("x = 1\n", "x = 1\n")
    if source is not None:
        node["source"] = source
    return node


def test_is_tested_block(tmp_path: Path) -> None:
    examples = tmp_path / "docs" / "examples"
    assert is_tested_block(block(str(examples / "backend" / "app.py")), examples)
    assert not is_tested_block(block(str(tmp_path / "docs" / "other.py")), examples)
    assert not is_tested_block(block(str(examples / ".." / "escape.py")), examples)
    assert not is_tested_block(block(str(tmp_path / "docs" / "examples-old" / "a.py")), examples)
    assert not is_tested_block(block(None), examples)


@pytest.mark.parametrize(
    ("overrides", "hint"),
    [
        ({"llmdoc_max_inline_code_lines": -1}, "0 or more"),
        ({"llmdoc_examples_dir": " "}, "llmdoc_examples_dir is empty"),
    ],
)
def test_bad_provenance_config_fails_early(make_app, copy_root, overrides, hint) -> None:
    with pytest.raises(ConfigError, match=hint):
        make_app("singlehtml", srcdir=copy_root("provenance"), confoverrides=overrides)
