"""The diagram directive and plain mermaid blocks, built with a fake renderer.

The test roots name ``fake_mermaid:render`` as their renderer, so none of these tests
needs a browser: the fake returns Mermaid-shaped SVG (some ids unprefixed, one id
repeated, counters that carry over between renders) or a Mermaid-style parse error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sphinx_llmdoc import mermaid
from sphinx_llmdoc.collapse import audit
from sphinx_llmdoc.diagram import DiagramCacheMissing

if TYPE_CHECKING:
    from sphinx.testing.util import SphinxTestApp

ID = re.compile(r'\sid="([^"]+)"')
SVG = re.compile(r"<svg id=\"mermaid-[^>]*>")

Build = Callable[..., "SphinxTestApp"]


@pytest.fixture
def build(make_app: Callable[..., SphinxTestApp], copy_root: Callable[[str], Path]) -> Build:
    """Build a fresh copy of a diagram test root; ``srcdir=`` reuses an earlier copy."""

    def run(
        buildername: str = "singlehtml",
        root: str = "diagram",
        srcdir: Path | None = None,
        **kwargs: Any,
    ) -> SphinxTestApp:
        app = make_app(buildername, srcdir=srcdir or copy_root(root), freshenv=True, **kwargs)
        app.build()
        return app

    return run


def fake_calls() -> list[list[str]]:
    """Every batch the fake renderer was asked for, in this test process."""
    return sys.modules["fake_mermaid"].CALLS  # type: ignore[no-any-return]


def warnings_of(app: SphinxTestApp) -> str:
    """The warning log without terminal colours."""
    return re.sub(r"\x1b\[[0-9;]*m", "", app.warning.getvalue())


def page(app: SphinxTestApp, name: str = "index.html") -> str:
    return (app.outdir / name).read_text(encoding="utf-8")


# -- HTML -----------------------------------------------------------------------------


def test_every_diagram_is_inline_svg_in_both_variants(build: Build) -> None:
    app = build()
    html = page(app)

    # index: 2 diagrams, chapter: 3 (one repeated), second: a mermaid block, an autoclasstree.
    assert html.count('<div class="llmdoc-diagram">') == 7
    assert html.count('<div class="llmdoc-diagram-light"><svg') == 7
    assert html.count('<div class="llmdoc-diagram-dark"><svg') == 7
    assert "<object" not in html
    assert "llmdoc-diagram-failed" not in html
    assert "light: flowchart LR" in html
    assert "dark: flowchart LR" in html
    # sphinxcontrib-mermaid's client-side rendering never reaches a page.
    assert 'class="mermaid"' not in html
    assert "mermaid.esm" not in html
    assert "cdn.jsdelivr" not in html
    assert "_static/llmdoc-diagram.css" in html
    assert (app.outdir / "_static" / "llmdoc-diagram.css").is_file()


def test_svg_is_an_image_named_by_its_alt_text(build: Build) -> None:
    html = page(build())
    openings = SVG.findall(html)
    assert len(openings) == 14
    for opening in openings:
        assert 'role="img"' in opening
        assert "aria-roledescription" not in opening
        assert "graphics-document" not in opening
    alt = "The browser sends a chat request to the API, which calls the model."
    assert sum(f'aria-label="{alt}"' in o for o in openings) == 2
    # With no alt text the caption or a generic name stands in.
    assert sum('aria-label="Diagram"' in o for o in openings) == 2


def test_inline_and_file_sources_both_render(build: Build) -> None:
    app = build()
    cache = mermaid.DiagramCache(app.srcdir / "_diagrams")
    pipeline = (app.srcdir / "diagrams" / "pipeline.mmd").read_text(encoding="utf-8")
    inline = "flowchart LR\n  B[Browser] --> API --> M[Model]\n"
    for source in (pipeline, inline):
        for theme in mermaid.THEMES:
            assert mermaid.cache_key(source, theme) in cache


def test_named_diagram_is_a_numbered_referenceable_figure(build: Build) -> None:
    html = page(build())
    figure = re.search(
        r'<figure class="llmdoc-diagram-figure[^"]*" id="fig-pipeline">.*?</figure>', html, re.S
    )
    assert figure is not None
    number = re.search(
        r'<span class="caption-number">(Fig\. \d+) </span>'
        r'<span class="caption-text">The retrieval pipeline</span>',
        figure[0],
    )
    assert number is not None
    reference = re.search(r'href="#fig-pipeline"><span class="std std-numref">([^<]+)</span>', html)
    assert reference is not None
    assert reference[1] == number[1]
    assert re.search(r'href="#fig-request"><span class="std std-numref">Fig\. \d+</span>', html)


def test_missing_alt_is_a_located_warning(build: Build) -> None:
    app = build()
    warnings = warnings_of(app)
    lines = (app.srcdir / "index.rst").read_text(encoding="utf-8").splitlines()
    # The second diagram in index.rst has no :alt:.
    directive_lines = [i for i, line in enumerate(lines, 1) if line.startswith(".. diagram::")]
    expected = f"{app.srcdir / 'index.rst'}:{directive_lines[1]}"
    assert f"{expected}: WARNING: diagram has no :alt: text" in warnings
    assert "[llmdoc.diagram]" in warnings
    assert warnings.count("has no :alt: text") == 1


def test_ids_are_unique_and_the_single_file_is_self_contained(build: Build) -> None:
    app = build()
    html = page(app)
    ids = ID.findall(html)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    single = (app.outdir / "book.html").read_text(encoding="utf-8")
    assert audit(single) == []
    assert not re.search(r"<(script|link)\b[^>]*(src|href)=\"(https?:)?//", single)
    # Every id inside an SVG carries the diagram's content hash.
    for svg in re.findall(r"<svg id=\"mermaid-.*?</svg>", single, re.S):
        root = ID.search(svg)
        assert root is not None
        assert all(i.startswith(root[1]) for i in ID.findall(svg))


def test_repeated_diagram_gets_its_own_ids(build: Build) -> None:
    html = page(build())
    light = mermaid.id_prefix(
        mermaid.cache_key(
            "flowchart LR\n  Q[Question] --> R[Retriever] --> L[LLM] --> A[Answer]\n", "light"
        )
    )
    assert f'<svg id="{light}"' in html
    assert f'<svg id="{light}-2"' in html
    assert f"url(#{light}-2-arrow)" in html


def test_other_sphinxcontrib_mermaid_directives_are_adopted(build: Build) -> None:
    html = page(build())
    assert "light: classDiagram" in html
    assert html.count('aria-label="OrderedDict inherits from dict."') == 2


def test_plain_mermaid_blocks_use_the_same_renderer(build: Build) -> None:
    app = build()
    html = page(app)
    assert "light: stateDiagram-v2" in html
    assert "dark: flowchart TD" in html
    assert 'aria-label="A plain rST mermaid block."' in html
    assert re.search(
        r'<span class="caption-number">Fig\. \d+ </span>'
        r'<span class="caption-text">Plain block</span>',
        html,
    )


def test_renders_once_per_build_and_then_only_reads_the_cache(build: Build) -> None:
    before = len(fake_calls()) if "fake_mermaid" in sys.modules else 0
    app = build()
    assert len(fake_calls()) == before + 1
    assert len(fake_calls()[-1]) == 12  # 6 distinct diagrams x 2 themes
    first = page(app)

    # No renderer at all now: the committed cache is enough.
    again = build(srcdir=app.srcdir, confoverrides={"llmdoc_mermaid_renderer": "never"})
    assert len(fake_calls()) == before + 1
    assert page(again) == first
    ours = [line for line in warnings_of(again).splitlines() if "[llmdoc" in line]
    assert len(ours) == 1
    assert "has no :alt: text" in ours[0]


def test_parallel_build_renders_one_batch(build: Build) -> None:
    before = len(fake_calls()) if "fake_mermaid" in sys.modules else 0
    serial = build()
    serial_html = page(serial)
    parallel = build(parallel=2)
    assert len(fake_calls()) == before + 2  # one batch per build, not per process
    assert page(parallel) == serial_html


def test_multipage_html_build(build: Build) -> None:
    # Even asked for client-side rendering, sphinxcontrib-mermaid adds no script.
    app = build("html", confoverrides={"mermaid_output_format": "raw"})
    assert page(app, "chapter.html").count('<div class="llmdoc-diagram">') == 3
    assert page(app, "second.html").count('<div class="llmdoc-diagram">') == 2
    assert "mermaid.esm" not in page(app, "genindex.html")
    for name in ("index.html", "chapter.html", "genindex.html", "search.html"):
        assert "cdn.jsdelivr" not in page(app, name)
        assert "mermaid.esm" not in page(app, name)


# -- the cache workflow ---------------------------------------------------------------


def test_missing_cache_without_renderer_names_file_line_and_command(build: Build) -> None:
    with pytest.raises(DiagramCacheMissing) as raised:
        build(confoverrides={"llmdoc_mermaid_renderer": "never"})
    message = str(raised.value)
    assert "7 diagram(s) have no cached SVG" in message
    assert f"{mermaid.RENDER_COMMAND} " in message


def test_missing_cache_errors_are_located(
    make_app: Callable[..., SphinxTestApp], copy_root: Callable[[str], Path]
) -> None:
    app = make_app(
        "singlehtml",
        srcdir=copy_root("diagram"),
        freshenv=True,
        confoverrides={"llmdoc_mermaid_renderer": "never"},
    )
    with pytest.raises(DiagramCacheMissing):
        app.build()
    warnings = warnings_of(app)
    lines = (app.srcdir / "index.rst").read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.startswith(".. diagram::"))
    assert f"{app.srcdir / 'index.rst'}:{first}: ERROR: diagram has no cached SVG" in warnings
    chapter = (app.srcdir / "chapter.md").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(chapter, 1) if text.startswith("```{diagram}"))
    assert f"{app.srcdir / 'chapter.md'}:{line}: ERROR: diagram diagrams/pipeline.mmd" in warnings
    assert "llmdoc_mermaid_renderer is 'never'" in warnings
    assert f"run: {mermaid.RENDER_COMMAND} " in warnings


def test_stale_entries_are_reported_then_removed_by_refresh(build: Build) -> None:
    app = build()
    cache = app.srcdir / "_diagrams"
    stale = cache / f"{'0' * 64}.svg"
    stale.write_text("<svg/>", encoding="utf-8")
    (cache / "README").write_text("not a cache entry", encoding="utf-8")

    again = build(srcdir=app.srcdir)
    warnings = warnings_of(again)
    assert f"{cache}:: WARNING: 1 cached diagram SVG(s) belong to no diagram any more" in warnings
    assert f"`{mermaid.RENDER_COMMAND} " in warnings
    assert stale.exists()

    build("dummy", srcdir=app.srcdir, confoverrides={"llmdoc_diagram_refresh": True})
    assert not stale.exists()
    assert (cache / "README").exists()
    assert len(list(cache.glob("*.svg"))) == 12


def test_renderer_setting_is_validated(
    make_app: Callable[..., SphinxTestApp], copy_root: Callable[[str], Path]
) -> None:
    from sphinx.errors import ConfigError

    with pytest.raises(ConfigError, match="llmdoc_mermaid_renderer"):
        make_app(
            "html",
            srcdir=copy_root("diagram"),
            confoverrides={"llmdoc_mermaid_renderer": "chromium please"},
        )


def test_unimportable_renderer_is_a_config_error(build: Build) -> None:
    from sphinx.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot be imported"):
        build(confoverrides={"llmdoc_mermaid_renderer": "no_such_module:render"})


# -- errors ---------------------------------------------------------------------------


def test_syntax_error_is_reported_at_the_directive_and_not_dropped(build: Build) -> None:
    app = build(root="diagram-broken")
    warnings = warnings_of(app)
    lines = (app.srcdir / "index.rst").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(".. diagram::"))
    assert (
        f"{app.srcdir / 'index.rst'}:{line}: WARNING: Mermaid cannot render diagram: "
        "Parse error on line 2:" in warnings
    )
    assert "Expecting 'NODE_STRING', got 'EOF'" in warnings
    assert warnings.count("Mermaid cannot render") == 1  # not once per theme
    html = page(app)
    assert "llmdoc-diagram-failed" in html
    assert "A flowchart with a dangling arrow." in html
    assert "A --&gt;" in html  # the source is shown, escaped
    assert "Broken on purpose" in html
    assert "After." in html


def test_syntax_error_is_reported_again_on_the_next_build(build: Build) -> None:
    app = build(root="diagram-broken")
    again = build(srcdir=app.srcdir)
    assert "Mermaid cannot render diagram" in warnings_of(again)


# -- other builders -------------------------------------------------------------------


@pytest.mark.parametrize("buildername", ["text", "latex", "man", "texinfo"])
def test_other_builders_get_caption_and_alt_text(build: Build, buildername: str) -> None:
    before = len(fake_calls()) if "fake_mermaid" in sys.modules else 0
    app = build(buildername, confoverrides={"llmdoc_mermaid_renderer": "never"})
    assert len(fake_calls()) == before  # nothing to render for non-HTML output
    output = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in app.outdir.rglob("*")
        if p.is_file() and p.suffix in {".txt", ".tex", ".1", ".texi"}
    )
    flat = " ".join(output.split())
    assert "The retrieval pipeline" in flat
    assert "Diagram: A question goes to the retriever" in flat
    assert "<svg" not in output


def test_text_output_keeps_the_figure_caption(build: Build) -> None:
    app = build("text", confoverrides={"llmdoc_mermaid_renderer": "never"})
    text = (app.outdir / "index.txt").read_text(encoding="utf-8")
    assert "How a request travels" in text
    assert "Diagram: The browser sends a chat request" in text


def test_malformed_directives_are_located_errors(build: Build) -> None:
    app = build("html", root="diagram-badinput")
    warnings = warnings_of(app)
    lines = (app.srcdir / "index.rst").read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines, 1) if line.startswith(".. ")]
    index = app.srcdir / "index.rst"
    assert f"{index}:{starts[0]}: ERROR: cannot read the Mermaid file 'missing.mmd'" in warnings
    assert f"{index}:{starts[1]}: ERROR: diagram takes its Mermaid source either" in warnings
    assert f"{index}:{starts[2]}: ERROR: diagram is empty" in warnings
    assert f"{index}:{starts[3]}: ERROR: mermaid is empty" in warnings
    assert "End." in page(app)
