"""Print: no navigation or buttons, chapters on new pages, unsplit code, link addresses,
collapsed content expanded, the light diagram variant; and a real PDF from Chromium."""

from __future__ import annotations

import io
from typing import Any

import pytest

pytestmark = pytest.mark.browser

HIDDEN_IN_PRINT = [
    ".sidebar-drawer",
    ".toc-drawer",
    ".mobile-header",
    ".back-to-top",
    ".theme-toggle",
    ".llmdoc-search",
    "button.copybtn",
    ".llmdoc-linenos-toggle",
    ".headerlink",
]


def test_print_styles(open_page: Any, book: Any) -> None:
    page = open_page(book)
    page.emulate_media(media="print")
    shown = page.evaluate(
        """selectors => selectors.filter(s =>
            [...document.querySelectorAll(s)].some(e => e.getClientRects().length))""",
        HIDDEN_IN_PRINT,
    )
    assert shown == []
    breaks = page.evaluate(
        """() => [...document.querySelectorAll('span[id^="document-"] + section')]
            .map(s => getComputedStyle(s).breakBefore)"""
    )
    assert len(breaks) >= 2 and set(breaks) == {"page"}
    unsplit = page.evaluate(
        """() => [...document.querySelectorAll("div[class*='highlight-']")]
            .map(e => getComputedStyle(e).breakInside)"""
    )
    assert set(unsplit) == {"avoid"}
    addresses = page.evaluate(
        """() => [...document.querySelectorAll('article a.reference.external[href^="http"]')]
            .map(a => [a.getAttribute('href'), a.textContent.trim(),
                       getComputedStyle(a, '::after').content])"""
    )
    if book.name == "reader":
        assert addresses, "the test book links other sites"
    for href, text, after in addresses:
        if text.rstrip("/") in {href.rstrip("/"), href.split("://", 1)[1].rstrip("/")}:
            assert after in {"none", "normal"}, f"{href} is its own text: printed once"
        else:
            assert href in after, f"{href} is printed after {text!r}"
    # everything inside collapsed <details> prints
    hidden = page.evaluate(
        """() => [...document.querySelectorAll('article details:not([open])')]
            .flatMap(d => [...d.children].filter(c => c.tagName !== 'SUMMARY'))
            .filter(c => !c.getClientRects().length).length"""
    )
    assert hidden == 0
    variants = page.evaluate(
        """() => [...document.querySelectorAll('.llmdoc-diagram-light, .llmdoc-diagram-dark')]
            .map(e => [e.classList.contains('llmdoc-diagram-dark'), !!e.getClientRects().length])"""
    )
    assert variants, "the book has diagrams"
    assert all(visible != dark for dark, visible in variants), "light variants only"


def words(text: str) -> str:
    return " ".join(text.split())


def outline_pages(reader: Any) -> dict[str, int]:
    """Every bookmark of the PDF outline (Chromium makes one per heading) and its page."""
    pages: dict[str, int] = {}

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                pages.setdefault(words(item.title), reader.get_destination_page_number(item))

    walk(reader.outline)
    return pages


def test_pdf_has_a_page_per_chapter_start_and_all_text(open_page: Any, book: Any) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a test dependency: pip install pypdf")
    page = open_page(book)
    chapters = page.evaluate(
        """() => [...document.querySelectorAll('span[id^="document-"] + section')]
            .map(s => s.querySelector(':scope > h2, :scope > h1').textContent)
            .map(t => t.replace('¶', '').trim())"""
    )
    # tagged, with an outline: the PDF gets bookmarks, one per heading
    pdf = page.pdf(format="A4", print_background=False, tagged=True, outline=True)
    assert pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > len(chapters)
    bookmarks = outline_pages(reader)
    for title in map(words, chapters):
        assert title in bookmarks, f"chapter {title!r} has a bookmark"
        # only the chapters' pages: extracting text from every page of the flagship is slow
        first = words(reader.pages[bookmarks[title]].extract_text() or "")
        assert first.startswith(title), f"chapter {title!r} starts its page"
    if book.name == "reader":
        whole = " ".join(words(p.extract_text() or "") for p in reader.pages)
        assert "zanzibar" in whole, "the collapsed dropdown is printed"
        # the address follows the link text (PDF text may break it across lines)
        assert "(https://www.sphinx-doc.org/en/master/)" in whole.replace(" ", "")
        assert "Search the book" not in whole
