"""Screenshots at 1400 px and 375 px in both themes, for people to look at.

Saved under build/screenshots/. The assertions only check that each theme really
renders differently; judging the pictures is a person's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parents[2] / "build" / "screenshots"


@pytest.mark.parametrize("width", [1400, 375])
def test_screenshots_in_both_themes(open_page: Any, book: Any, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = 900 if width > 800 else 812
    shots = {}
    for scheme in ("light", "dark"):
        page = open_page(book, width=width, height=height, scheme=scheme, reduced_motion="reduce")
        path = SCREENSHOTS / f"{book.name}-{width}-{scheme}.png"
        page.screenshot(path=str(path))
        shots[scheme] = path.read_bytes()
        # a second view further in: code, lists and the current section in the tree
        page.evaluate(
            "document.querySelector('article div.highlight').scrollIntoView({block: 'center'})"
        )
        page.wait_for_timeout(100)
        page.screenshot(path=str(SCREENSHOTS / f"{book.name}-{width}-{scheme}-code.png"))
        if width < 800:
            page.locator("header .nav-overlay-icon").click()
            page.screenshot(path=str(SCREENSHOTS / f"{book.name}-{width}-{scheme}-menu.png"))
            page.locator("header .nav-overlay-icon").click(force=True)
        else:
            page.keyboard.press("/")
            page.keyboard.type("configuration")
            page.screenshot(path=str(SCREENSHOTS / f"{book.name}-{width}-{scheme}-search.png"))
    assert len(shots["light"]) > 10_000
    assert shots["light"] != shots["dark"]
