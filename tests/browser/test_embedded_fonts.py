"""Embedded fonts: Inter and JetBrains Mono render from the file itself; nothing shifts."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def rendered_fonts(page: Any, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium actually drew *selector*'s text with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return fonts


def test_text_and_code_render_in_the_embedded_faces(open_page: Any, book: Any) -> None:
    page = open_page(book)
    prose = rendered_fonts(page, "article section p")
    code = rendered_fonts(page, "article div.highlight pre")
    assert prose[0]["familyName"] == "Inter" and prose[0]["isCustomFont"], prose
    assert code[0]["familyName"] == "JetBrains Mono" and code[0]["isCustomFont"], code
    heading = rendered_fonts(page, "article h2")
    assert heading[0]["familyName"] == "Inter", heading
    sources = page.evaluate(
        """() => [...document.styleSheets].flatMap(s => [...s.cssRules])
            .filter(r => r instanceof CSSFontFaceRule)
            .map(r => r.style.getPropertyValue('src').slice(0, 30))"""
    )
    assert sources and all(s.startswith('url("data:font/woff2;base64,') for s in sources)


def test_loading_shifts_no_layout(open_page: Any, book: Any) -> None:
    page = open_page(
        book,
        init_script="""
            window.__shifts = [];
            new PerformanceObserver(list => {
                for (const entry of list.getEntries())
                    if (!entry.hadRecentInput) window.__shifts.push(entry.value);
            }).observe({type: 'layout-shift', buffered: true});
        """,
    )
    page.wait_for_timeout(800)
    assert page.evaluate("document.fonts.status") == "loaded"
    assert page.evaluate("window.__shifts") == []
