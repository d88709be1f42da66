"""WCAG 2.1 AA: axe-core in both themes, skip link, landmarks, headings, focus rings."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


#: What changes between the themes is colour; the dark run checks the colour rules only
#: (the page's structure is the same, and axe on the whole flagship takes a while).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_reports_no_violations(open_page: Any, book: Any, axe_source: str, scheme: str) -> None:
    page = open_page(book, scheme=scheme, init_script=axe_source)
    # open the things a reader opens, so their contents are checked too
    page.evaluate("document.querySelectorAll('article details').forEach(d => d.open = true)")
    page.locator("#llmdoc-search-input").fill("the")
    only = (
        {"type": "tag", "values": WCAG_TAGS}
        if scheme == "light"
        else {"type": "rule", "values": COLOUR_RULES}
    )
    violations = page.evaluate(
        """only => axe.run(document, {runOnly: only, resultTypes: ['violations']})
            .then(r => r.violations.map(v => ({
                id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
            })))""",
        only,
    )
    assert violations == [], violations


def test_skip_link_landmarks_and_heading_order(open_page: Any, book: Any) -> None:
    page = open_page(book)
    page.keyboard.press("Tab")
    skip = page.locator(".skip-to-content")
    assert page.evaluate("document.activeElement.classList.contains('skip-to-content')")
    page.wait_for_timeout(350)  # furo slides it in
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the skip link is visible when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#furo-main-content"

    landmarks = page.evaluate(
        """() => ({
            main: document.querySelectorAll('main, [role=main]').length,
            navs: [...document.querySelectorAll('nav, [role=navigation]')]
                .map(n => n.getAttribute('aria-label')),
            search: document.querySelectorAll('[role=search]').length,
        })"""
    )
    assert landmarks["main"] == 1
    assert "Book contents" in landmarks["navs"] and all(landmarks["navs"])
    assert landmarks["search"] == 1

    levels = page.evaluate(
        "() => [...document.querySelectorAll('article :is(h1,h2,h3,h4,h5,h6)')]"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels[0] == 1 and levels.count(1) == 1
    jumps = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    assert jumps == [], "no heading skips a level"


FOCUS_VISIBLE = """() => {
    const e = document.activeElement;
    const ring = el => { const s = getComputedStyle(el);
        return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1; };
    // furo's expand checkboxes are invisible: their ring is drawn on the arrow label
    const shown = e.classList.contains('toctree-checkbox') ? e.nextElementSibling : e;
    return {tag: e.tagName, cls: e.className, ring: ring(shown)};
}"""


def test_every_control_on_the_way_shows_a_focus_ring(open_page: Any, book: Any) -> None:
    page = open_page(book)
    missing = []
    for _ in range(40):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_VISIBLE)
        if state["tag"] == "BODY":
            break
        if not state["ring"]:
            missing.append(state)
    assert missing == []


def test_sphinx_design_summary_gets_its_focus_ring_back(open_page: Any, reader_book: Any) -> None:
    page = open_page(reader_book)
    page.keyboard.press("Tab")  # keyboard modality, so programmatic focus is focus-visible
    page.locator("details.sd-dropdown > summary").focus()
    page.keyboard.press("Shift")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
    )
    assert style == ["SUMMARY", "solid", "2px"]
    page.keyboard.press("Enter")
    assert page.locator("details.sd-dropdown").get_attribute("open") is not None
