"""In-page search: `/` focuses it, results highlight the match, keys jump, Escape closes."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

RESULTS = "#llmdoc-search-results [role=option]"


def test_slash_focuses_search_and_results_show_titles_and_marked_snippets(
    open_page: Any, reader_book: Any
) -> None:
    page = open_page(reader_book)
    page.keyboard.press("/")
    box = page.locator("#llmdoc-search-input")
    assert page.evaluate("document.activeElement.id") == "llmdoc-search-input"
    box.press_sequentially("scrolls through")
    results = page.locator(RESULTS)
    assert results.count() > 3
    first = results.first
    assert first.locator(".llmdoc-search-title").inner_text()
    marks = first.locator(".llmdoc-search-snippet mark").all_inner_texts()
    assert {m.lower() for m in marks} >= {"scrolls", "through"}
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert "match" in page.locator("#llmdoc-search-status").inner_text()

    # arrows move the active result, wrapping around
    page.keyboard.press("ArrowDown")
    assert results.nth(1).get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert results.last.get_attribute("aria-selected") == "true"

    page.keyboard.press("Escape")
    assert page.locator("#llmdoc-search-panel").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"


def test_enter_jumps_to_a_match_inside_a_closed_dropdown(open_page: Any, reader_book: Any) -> None:
    page = open_page(reader_book, reduced_motion="reduce")
    details = page.locator("details.sd-dropdown")
    assert details.get_attribute("open") is None
    page.keyboard.press("/")
    page.keyboard.type("zanzibar")
    results = page.locator(RESULTS)
    assert results.count() == 1
    assert results.first.locator(".llmdoc-search-title").inner_text() == "Searching the Book"
    page.keyboard.press("Enter")
    assert details.get_attribute("open") is not None
    hidden = page.locator("article").get_by_text("which appears nowhere else")
    assert hidden.is_visible()
    assert page.evaluate("location.hash") == "#searching-the-book"
    box = hidden.bounding_box()
    assert box is not None and 0 <= box["y"] < 900, "the match is scrolled into view"
    assert page.evaluate("document.activeElement.textContent").count("zanzibar") == 1
    assert page.locator("#llmdoc-search-panel").is_hidden()


def test_clicking_a_result_jumps_to_its_section(open_page: Any, book: Any) -> None:
    page = open_page(book, reduced_motion="reduce")
    # search for the title of a section deep in the book: it must come first
    title = page.evaluate(
        """() => {
            const links = [...document.querySelectorAll('.sidebar-tree li.toctree-l2 > a')];
            return links[Math.floor(links.length * 2 / 3)].textContent.trim();
        }"""
    )
    page.locator("#llmdoc-search-input").fill(title)
    first = page.locator(RESULTS).first
    assert first.locator(".llmdoc-search-title").inner_text() == title
    target = page.evaluate(
        """title => [...document.querySelectorAll('article section[id]')].find(s =>
            [...s.children].some(h => /^H[1-6]$/.test(h.tagName)
                && h.textContent.replace('¶', '').trim() === title)).id""",
        title,
    )
    first.click()
    assert page.evaluate("location.hash") == f"#{target}"
    top = page.evaluate(
        "id => document.querySelector(`[id='${id}'] > :is(h2,h3,h4)`).getBoundingClientRect().top",
        target,
    )
    assert 0 <= top < 200, "the section's heading is at the top of the window"


def test_search_at_375px_opens_the_menu_and_closes_it_after_the_jump(
    open_page: Any, reader_book: Any
) -> None:
    page = open_page(reader_book, width=375, height=740, reduced_motion="reduce")
    page.keyboard.press("/")
    assert page.locator("#__navigation").is_checked()
    assert page.locator("#llmdoc-search-input").is_visible()
    page.keyboard.type("zanzibar")
    page.keyboard.press("Enter")
    assert not page.locator("#__navigation").is_checked()
    assert page.locator("article").get_by_text("which appears nowhere else").is_visible()


def test_slash_types_normally_inside_a_text_field(open_page: Any, reader_book: Any) -> None:
    page = open_page(reader_book)
    box = page.locator("#llmdoc-search-input")
    box.focus()
    page.keyboard.type("a/b")
    assert box.input_value() == "a/b"
