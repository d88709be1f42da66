"""reader.py: the search sidebar, the head script, copy-button defaults, embedded fonts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sphinx_llmdoc import fonts, reader


def html_of(app: Any) -> str:
    return (Path(app.outdir) / "index.html").read_text("utf-8")


def warnings_of(app: Any) -> str:
    stream = getattr(app, "_warning", None) or app.warning
    return str(stream.getvalue())


@pytest.mark.sphinx("singlehtml", testroot="reader", freshenv=True)
def test_singlehtml_gets_the_in_page_search_instead_of_furos_form(app: Any) -> None:
    app.build()
    page = html_of(app)
    assert 'id="llmdoc-search-input"' in page
    assert 'role="combobox"' in page and 'aria-controls="llmdoc-search-results"' in page
    assert "search.html" not in page
    # the search box sits where furo's was: after the brand, before the tree
    assert page.index("sidebar-brand") < page.index("llmdoc-search") < page.index("sidebar-tree")


@pytest.mark.sphinx("html", testroot="reader", freshenv=True)
def test_multipage_html_keeps_furos_search(app: Any) -> None:
    app.build()
    page = html_of(app)
    assert "llmdoc-search-input" not in page
    assert 'action="search.html"' in page


@pytest.mark.sphinx("singlehtml", testroot="reader", freshenv=True)
def test_head_script_runs_before_furos_theme_script(app: Any) -> None:
    app.build()
    page = html_of(app)
    head, body = page.split("<body", 1)
    assert re.search(r'<script src="_static/llmdoc-head.js[^"]*"></script>', head)
    assert "localStorage" in body.split("</script>", 1)[0], "furo's theme script opens <body>"
    assert (Path(app.outdir) / "_static" / "llmdoc-head.js").is_file()


@pytest.mark.sphinx("singlehtml", testroot="reader", freshenv=True)
def test_copybutton_defaults_never_copy_prompts_output_or_numbers(app: Any) -> None:
    assert app.config.copybutton_exclude == ".linenos, .go"
    assert app.config.copybutton_prompt_text == reader.PROMPTS
    assert app.config.copybutton_prompt_is_regexp is True
    assert app.config.copybutton_copy_empty_lines is False
    app.build()
    script = (Path(app.outdir) / "_static" / "copybutton.js").read_text("utf-8")
    assert "'.linenos, .go'" in script


@pytest.mark.sphinx(
    "singlehtml",
    testroot="reader",
    freshenv=True,
    confoverrides={"copybutton_exclude": ".nothing", "copybutton_prompt_text": "% "},
)
def test_copybutton_settings_from_conf_py_are_kept(app: Any) -> None:
    assert app.config.copybutton_exclude == ".nothing"
    assert app.config.copybutton_prompt_text == "% "
    assert app.config.copybutton_prompt_is_regexp is False


@pytest.mark.sphinx("singlehtml", testroot="reader", freshenv=True)
def test_fonts_are_subset_to_the_page_and_linked(app: Any) -> None:
    if not any(fonts.find_faces().values()):
        pytest.skip(
            "neither Inter nor JetBrains Mono is installed (fonts-inter, fonts-jetbrains-mono)"
        )
    app.build()
    static = Path(app.outdir) / "_static"
    css = (static / "llmdoc-fonts.css").read_text("utf-8")
    for face, path in fonts.find_faces().items():
        if path is not None:
            assert f"fonts/{face.slug}.woff2" in css
            assert (static / "fonts" / f"{face.slug}.woff2").read_bytes()[:4] == b"wOF2"
    assert "llmdoc-fonts.css" in html_of(app)
    single = (Path(app.outdir) / "book.html").read_text("utf-8")
    assert 'url("data:font/woff2;base64,' in single
    assert list(fonts.user_cache().glob("*.woff2")), "subsets are cached"


def test_missing_fonts_warn_with_the_fix_and_fall_back(
    make_app: Any, copy_root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader.fonts, "find_faces", lambda: dict.fromkeys(fonts.FACES))
    app = make_app("singlehtml", srcdir=copy_root("reader"))
    app.build()
    warnings = warnings_of(app)
    assert "font files not found" in warnings and "fonts-inter" in warnings
    assert "[llmdoc.fonts]" in warnings
    assert "llmdoc-fonts.css" not in html_of(app)


def test_fonts_can_be_switched_off(make_app: Any, copy_root: Any) -> None:
    app = make_app("singlehtml", srcdir=copy_root("reader"), confoverrides={"llmdoc_fonts": False})
    app.build()
    assert "llmdoc-fonts.css" not in html_of(app)
    assert not (Path(app.outdir) / "_static" / "llmdoc-fonts.css").exists()
    assert "[llmdoc.fonts]" not in warnings_of(app)
