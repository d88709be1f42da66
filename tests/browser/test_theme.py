"""Theme: the toggle persists, survives refused storage, never flashes, switches diagrams."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

THEME = "document.body.dataset.theme"

REFUSE_STORAGE = """
for (const name of ["localStorage", "sessionStorage"]) {
    Object.defineProperty(window, name, {
        configurable: true,
        get() { throw new DOMException("The operation is insecure.", "SecurityError"); },
    });
}
"""

FIRST_PAINTED_THEME = """
localStorage.setItem("theme", "dark");
new MutationObserver((records, observer) => {
    if (!document.querySelector(".page")) return;
    window.__firstContent = {
        theme: document.body.dataset.theme,
        background: getComputedStyle(document.body).backgroundColor,
    };
    observer.disconnect();
}).observe(document, {childList: true, subtree: true});
"""


def toggle(page: Any) -> None:
    page.locator(".theme-toggle:visible").first.click()


def test_toggle_cycles_and_persists_across_reloads(open_page: Any, book: Any) -> None:
    page = open_page(book, scheme="light")
    assert page.evaluate(THEME) == "auto"
    seen = []
    for _ in range(3):
        toggle(page)
        seen.append(page.evaluate(THEME))
    assert seen == ["dark", "light", "auto"]
    toggle(page)
    assert page.evaluate("localStorage.getItem('theme')") == "dark"
    page.reload()
    page.wait_for_function("() => document.documentElement.classList.contains('llmdoc-ready')")
    assert page.evaluate(THEME) == "dark"


def test_toggle_works_when_storage_throws(open_page: Any, book: Any) -> None:
    page = open_page(book, init_script=REFUSE_STORAGE)
    assert page.evaluate(THEME) == "auto"
    toggle(page)
    assert page.evaluate(THEME) == "dark"
    toggle(page)
    assert page.evaluate(THEME) == "light"
    # the page's own errors are collected by the fixture and must be none


def test_stored_theme_applies_before_any_content_exists(open_page: Any, book: Any) -> None:
    page = open_page(book, scheme="light", init_script=FIRST_PAINTED_THEME)
    first = page.evaluate("window.__firstContent")
    assert first["theme"] == "dark"
    dark_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert first["background"] == dark_background != "rgb(255, 255, 255)"


VISIBLE_VARIANTS = """() => [
    ...document.querySelectorAll('.llmdoc-diagram-light, .llmdoc-diagram-dark')]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .map(e => e.classList.contains('llmdoc-diagram-dark') ? 'dark' : 'light')"""


def test_diagrams_show_the_variant_of_the_theme(open_page: Any, book: Any) -> None:
    page = open_page(book, scheme="light")
    pairs = page.evaluate("document.querySelectorAll('.llmdoc-diagram-dark').length")
    assert pairs >= 1, "the book has diagrams in both variants"
    page.evaluate("document.querySelector('.llmdoc-diagram-dark').scrollIntoView()")
    assert set(page.evaluate(VISIBLE_VARIANTS)) == {"light"}
    toggle(page)  # to dark
    assert set(page.evaluate(VISIBLE_VARIANTS)) == {"dark"}
    toggle(page)  # to light
    assert set(page.evaluate(VISIBLE_VARIANTS)) == {"light"}
    dark_page = open_page(book, scheme="dark")  # auto follows the system
    assert set(dark_page.evaluate(VISIBLE_VARIANTS)) == {"dark"}
