"""The singlehtml build: links, ids, navigation, the single file, and other builders."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

import sphinx_llmdoc
from sphinx_llmdoc.collapse import audit
from sphinx_llmdoc.singlehtml import doc_slugs, plan_renames, resolve_fragment

if TYPE_CHECKING:
    from sphinx.testing.util import SphinxTestApp

ID = re.compile(r'\sid="([^"]+)"')
HREF = re.compile(r'\shref="#([^"]*)"')


def warnings_of(app: SphinxTestApp) -> str:
    return app.warning.getvalue()


@pytest.fixture
def book(make_app, copy_root):
    """Build a copy of ``test-singlehtml``; returns (app, single file text)."""

    def build(buildername: str = "singlehtml", **kwargs: object) -> tuple[SphinxTestApp, str]:
        app = make_app(buildername, srcdir=copy_root("singlehtml"), freshenv=True, **kwargs)
        app.build()
        single = app.outdir / "book.html"
        return app, single.read_text("utf-8") if single.exists() else ""

    return build


def test_metadata_declares_parallel_safety(make_app, copy_root) -> None:
    app = make_app("html", srcdir=copy_root("singlehtml"), freshenv=True)
    metadata = app.extensions["sphinx_llmdoc"]
    assert metadata.parallel_read_safe is True
    assert metadata.parallel_write_safe is True
    assert metadata.version == sphinx_llmdoc.__version__
    for required in ("myst_parser", "sphinx_design", "sphinx_copybutton", "sphinxcontrib.mermaid"):
        assert required in app.extensions


def test_cross_document_links_resolve(book) -> None:
    app, html = book()
    assert "#document-chapters" not in "".join(HREF.findall(html)).replace("document-chapters/", "")
    assert not re.search(r'href="#document-[^"]*#', html)
    ids = set(ID.findall(html))
    dangling = [h for h in HREF.findall(html) if h and h not in ids]
    assert dangling == []
    assert warnings_of(app) == ""


def test_colliding_ids_are_prefixed_and_links_follow(book) -> None:
    _, html = book()
    ids = ID.findall(html)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    # every chapter has a "Summary" section: each gets its document's prefix
    for slug in ("one", "two", "three"):
        assert f'id="{slug}-summary' in html
    # chapter one's link to two.md#summary lands on chapter two's summary
    one = html.split('id="document-chapters/one"')[1].split('id="document-chapters/two"')[0]
    assert 'href="#two-summary"' in one
    # the footnotes of two chapters both start as id1; each reference keeps its own note
    assert 'id="one-note"' in html and 'id="two-note"' in html


def test_figure_numbers_survive_renaming(book) -> None:
    _, html = book()
    assert 'caption-number">Fig. 1 ' in html


def test_navigation_is_the_full_tree(book) -> None:
    _, html = book()
    sidebar = html.split('class="sidebar-tree"')[1].split("</nav>")[0]
    for title in ("Chapter One", "Summary", "1.11 Slug collision", "Chapter Three"):
        assert title in sidebar
    assert 'class="toctree-l2"' in sidebar
    assert 'role="heading" aria-level="2"' not in sidebar or "aria-level" in sidebar


def test_no_links_to_unwritten_pages(book) -> None:
    app, html = book()
    for page in ("genindex.html", "search.html"):
        assert page not in html
    # furo's search form posts to search.html; the in-page search has no form action
    assert re.search(r"<form[^>]*action=", html) is None
    assert not (app.outdir / "search.html").exists()


def test_single_file_is_self_contained(book) -> None:
    _, html = book()
    assert audit(html) == []
    assert '<link rel="stylesheet"' not in html
    assert re.search(r"<script[^>]+src=", html) is None
    assert "sourceMappingURL" not in html
    assert "?v=" not in html
    assert 'http-equiv="Content-Security-Policy"' in html
    assert 'src="data:image/png;base64,' in html


def test_two_clean_builds_and_parallel_build_are_byte_identical(book) -> None:
    _, first = book()
    _, second = book()
    _, parallel = book(parallel=2)
    assert first == second
    assert first == parallel


def test_multipage_html_build_still_works(book) -> None:
    app, single = book("html")
    assert single == ""  # the collapse step belongs to singlehtml only
    page = (app.outdir / "chapters" / "one.html").read_text("utf-8")
    assert 'href="two.html#summary"' in page
    assert warnings_of(app) == ""


def test_sidebar_captions_get_an_aria_level(book) -> None:
    app, _ = book("html")
    page = (app.outdir / "index.html").read_text("utf-8")
    assert 'role="heading" aria-level="2"' in page
    assert 'role="heading">' not in page


def test_bad_input_is_reported_with_locations(make_app, copy_root) -> None:
    app = make_app("singlehtml", srcdir=copy_root("badinput"), freshenv=True)
    app.build()
    warnings = warnings_of(app)
    assert "index.md:3: WARNING: code block names no language" in warnings
    assert "index.md:7: WARNING: code block names no language" in warnings
    assert "extra.rst:8: WARNING: code block names no language" in warnings
    # the `.. highlight:: python` directive names the language of the later block
    assert "extra.rst:14" not in warnings
    assert "link to #does-not-exist has no matching id" in warnings
    assert re.search(r"https://cdn\.example\.com/widget\.js.*html_js_files", warnings)
    assert "Traceback" not in warnings


def test_rename_plan_is_deterministic_and_avoids_taken_ids() -> None:
    occurrences = {"summary": ["a/one", "b/one"], "one-summary": ["x"], "intro": ["a/one"]}
    slugs = doc_slugs(["a/one", "b/one", "x"])
    assert slugs == {"a/one": "a-one", "b/one": "b-one", "x": "x"}
    renames = plan_renames(occurrences, slugs)
    assert renames == {("a/one", "summary"): "a-one-summary", ("b/one", "summary"): "b-one-summary"}
    assert resolve_fragment("#document-b/one#summary", "a/one", renames) == "b-one-summary"
    assert resolve_fragment("#summary", "a/one", renames) == "a-one-summary"
    assert resolve_fragment("#document-x", "a/one", renames) == "document-x"
    taken = plan_renames({"s": ["x", "y"], "x-s": ["z"]}, {"x": "x", "y": "y", "z": "z"})
    assert taken[("x", "s")] == "x-s-2"


def test_idioms_from_real_projects(make_app, copy_root) -> None:
    """Seen building attrs and Sphinx's own docs: index links and resized images."""
    app = make_app("singlehtml", srcdir=copy_root("realworld"), freshenv=True)
    app.build()
    html = (app.outdir / "book.html").read_text("utf-8")
    warnings = warnings_of(app)
    # {ref}`genindex`, {ref}`search` and [..](genindex) keep their text, lose the dead link
    assert not re.search(r'href="[^"]*(genindex|search)\.html', html)
    assert "Full Index" in html
    assert warnings.count("is now plain text") == 3
    assert all("index.md" in w for w in warnings.splitlines() if "plain text" in w)
    assert 'href="#document-chapter"' in html or 'href="#chapter"' in html
    # a resized image is inlined and not wrapped in a link to a file the page lacks
    assert "image-reference" not in html
    assert "_images/" not in html
    assert re.search(r'<img alt="one pixel" src="data:image/png;base64,', html)
    assert [f for f in audit(html) if f.kind != "duplicate_id"] == []


def test_origin_hints_name_stylesheets_and_document_images() -> None:
    """attrs' custom.css @imports web fonts; its changelog shows a logo by URL."""
    from types import SimpleNamespace

    from sphinx_llmdoc.singlefile import origin_of

    config = SimpleNamespace(html_js_files=[], html_css_files=["custom.css"])
    css = origin_of("https://rsms.me/inter/inter.css", config, "a stylesheet @import still ...")
    assert css.startswith("a stylesheet loads it")
    img = origin_of("https://example.org/logo.png", config, "<img src> still references ...")
    assert img.startswith("the document shows it by URL")
    listed = SimpleNamespace(html_js_files=["https://x.org/a.js"], html_css_files=[])
    assert "`html_js_files` in conf.py" in origin_of("https://x.org/a.js", listed, "<script src>")
