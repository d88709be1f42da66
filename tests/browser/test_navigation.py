"""Navigation in the single page: nested tree, scroll-spy, smooth scrolling, menus."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: Links of the left tree, with their level and the checkbox of their chapter.
TREE = """() => [...document.querySelectorAll('.sidebar-tree a.reference')].map(a => {
    const item = a.closest('li');
    const chapter = a.closest('li.toctree-l1');
    return {
        id: decodeURIComponent(a.hash.slice(1)),
        level: Number([...item.classList].find(c => c.startsWith('toctree-l')).slice(9)),
        chapterBox: chapter.querySelector(':scope > input.toctree-checkbox')?.id ?? null,
    };
})"""


def scroll_to(page: Any, ident: str) -> None:
    """Put the top of the section *ident* just under the top of the window, instantly."""
    page.evaluate(
        """id => {
            const top = document.getElementById(id).getBoundingClientRect().top;
            window.scrollTo({top: window.scrollY + top - 10, behavior: 'instant'});
        }""",
        ident,
    )


def current(page: Any) -> dict[str, str | None]:
    return page.evaluate(
        """() => ({
            left: document.querySelector('.sidebar-tree a.llmdoc-current')?.hash ?? null,
            right: document.querySelector('.toc-tree li.scroll-current > a')?.hash ?? null,
        })"""
    )


def test_tree_is_nested_and_sub_levels_collapse_and_expand(open_page: Any, book: Any) -> None:
    page = open_page(book)
    tree = page.evaluate(TREE)
    assert max(entry["level"] for entry in tree) >= 3, "the whole book, nested, in the tree"
    box_id = next(e["chapterBox"] for e in tree if e["level"] == 1 and e["chapterBox"])
    box = page.locator(f"#{box_id}")
    children = page.locator(f"#{box_id} ~ ul").first
    assert not box.is_checked()
    assert not children.is_visible()
    page.locator(f"label[for={box_id}]").click()
    assert children.is_visible()
    page.locator(f"label[for={box_id}]").click()
    assert not children.is_visible()

    # by keyboard: the checkbox follows its link in tab order; Space toggles it
    link = page.locator(f"#{box_id}").locator("xpath=preceding-sibling::a[1]")
    link.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == box_id
    outline = page.evaluate(
        f"getComputedStyle(document.querySelector('label[for={box_id}]')).outlineStyle"
    )
    assert outline == "solid", "the arrow shows a focus ring"
    page.keyboard.press("Space")
    assert children.is_visible()
    page.keyboard.press("Enter")
    assert not children.is_visible()


def test_scroll_spy_marks_the_section_in_both_tables_and_opens_its_chapter(
    open_page: Any, book: Any
) -> None:
    page = open_page(book, reduced_motion="reduce")
    tree = page.evaluate(TREE)
    level2 = [e for e in tree if e["level"] == 2]
    first, last = level2[1], level2[-1]
    assert first["chapterBox"] != last["chapterBox"], "the two sections are in different chapters"

    for entry in (first, last):
        scroll_to(page, entry["id"])
        page.wait_for_function(
            "id => document.querySelector('.sidebar-tree a.llmdoc-current')?.hash === '#' + id",
            arg=entry["id"],
        )
        marked = current(page)
        assert marked == {"left": f"#{entry['id']}", "right": f"#{entry['id']}"}
        assert page.locator(f"#{entry['chapterBox']}").is_checked()
        assert page.locator(".sidebar-tree a.llmdoc-current").is_visible()
        assert page.locator(".sidebar-tree a.llmdoc-current").get_attribute("aria-current")

    # the chapter the spy opened closes again when the reader moves on
    assert not page.locator(f"#{first['chapterBox']}").is_checked()


FRAMES = """() => new Promise(resolve => {
    const seen = [];
    const step = () => {
        seen.push(Math.round(window.scrollY));
        if (seen.length < 30) requestAnimationFrame(step); else resolve(seen);
    };
    step();
})"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_anchor_scrolling_is_smooth_unless_reduced_motion(
    open_page: Any, reader_book: Any, motion: str
) -> None:
    page = open_page(reader_book, reduced_motion=motion)
    behaviour = page.evaluate("getComputedStyle(document.documentElement).scrollBehavior")
    assert behaviour == ("auto" if motion == "reduce" else "smooth")
    target = [e for e in page.evaluate(TREE) if e["level"] == 1][-1]["id"]
    page.locator(f'.sidebar-tree a[href="#{target}"]').click()
    positions = page.evaluate(FRAMES)
    distinct = sorted(set(positions))
    if motion == "reduce":
        assert len(distinct) == 1, f"jumped at once, not animated: {distinct}"
    else:
        assert len(distinct) >= 3, f"animated over several frames: {distinct}"
    page.wait_for_function(
        "id => Math.abs(document.getElementById(id).getBoundingClientRect().top) < 200"
        " || window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2",
        arg=target,
    )


def test_back_to_top(open_page: Any, book: Any) -> None:
    page = open_page(book, reduced_motion="reduce")
    button = page.locator(".back-to-top")
    page.evaluate("window.scrollTo({top: 3000, behavior: 'instant'})")
    page.wait_for_timeout(100)
    page.evaluate("window.scrollTo({top: 2800, behavior: 'instant'})")
    button.wait_for(state="visible")
    button.click()
    page.wait_for_function("() => window.scrollY === 0")


def test_mobile_menu_opens_closes_and_closes_after_choosing_a_link(
    open_page: Any, book: Any
) -> None:
    page = open_page(book, width=375, height=740, reduced_motion="reduce")
    menu = page.locator("header .nav-overlay-icon")
    drawer = page.locator(".sidebar-drawer")
    assert menu.is_visible()
    assert menu.get_attribute("role") == "button"
    assert menu.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.querySelector('.sidebar-drawer').inert")

    def drawer_shown() -> bool:
        box = drawer.bounding_box()
        return box is not None and box["x"] >= 0

    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert drawer_shown()
    page.locator(".sidebar-overlay").click(position={"x": 360, "y": 400})
    assert not drawer_shown()

    menu.click()
    tree = page.evaluate(TREE)
    target = [e for e in tree if e["level"] == 1][1]["id"]
    page.locator(f'.sidebar-tree a[href="#{target}"]').click()
    assert not page.locator("#__navigation").is_checked()
    assert not drawer_shown()
    page.wait_for_function(
        "id => Math.abs(document.getElementById(id).getBoundingClientRect().top) < 150",
        arg=target,
    )

    # and by keyboard: Enter opens, focus moves in, Escape closes and returns focus
    menu.focus()
    page.keyboard.press("Enter")
    assert drawer_shown()
    assert page.evaluate(
        "document.querySelector('.sidebar-drawer').contains(document.activeElement)"
    )
    page.keyboard.press("Escape")
    assert not drawer_shown()
    assert page.evaluate("document.activeElement.classList.contains('nav-overlay-icon')")
