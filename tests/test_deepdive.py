"""The deep-dive directive: HTML structure, other builders, references, browser behaviour."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sphinx.testing.util import SphinxTestApp

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

Build = Callable[..., SphinxTestApp]


@pytest.fixture
def build(make_app: Callable[..., SphinxTestApp], copy_root: Callable[[str], Path]) -> Build:
    def run(buildername: str = "singlehtml", **kwargs: Any) -> SphinxTestApp:
        app = make_app(buildername, srcdir=copy_root("deepdive"), freshenv=True, **kwargs)
        app.build()
        return app

    return run


def details_blocks(html: str) -> list[str]:
    return re.findall(r"<details\b.*?</details>", html, re.S)


def test_html_is_a_native_details_closed_by_default(build: Build) -> None:
    app = build()
    html = (app.outdir / "index.html").read_text("utf-8")
    cache, already_open, later = details_blocks(html)
    assert cache.startswith('<details class="llmdoc-deep-dive" id="cache-deep-dive">')
    assert "open" not in cache.split(">", 1)[0]
    assert (
        '<summary class="llmdoc-deep-dive__title">How the <em>cache</em> works</summary>' in cache
    )
    body = cache.split("</summary>", 1)[1]
    assert body.lstrip().startswith('<div class="llmdoc-deep-dive__body">')
    assert '<p id="inner-target">The inner paragraph is a link target.</p>' in body
    assert 'class="highlight-python' in body
    assert 'open="open"' in already_open.split(">", 1)[0]
    assert "open" not in later.split(">", 1)[0]
    assert app.warning.getvalue() == ""


def test_html_builders_ship_the_script_and_styles(build: Build) -> None:
    app = build("html")
    page = (app.outdir / "guide.html").read_text("utf-8")
    assert re.search(r'<script src="_static/llmdoc-deepdive\.js(\?v=\w+)?"></script>', page)
    assert re.search(r'href="_static/llmdoc-deepdive\.css(\?v=\w+)?"', page)
    script = (app.outdir / "_static" / "llmdoc-deepdive.js").read_text("utf-8")
    assert script.startswith("// @ts-check")


def test_ref_to_a_named_deep_dive_shows_its_title(build: Build) -> None:
    app = build("html")
    other = (app.outdir / "other.html").read_text("utf-8")
    assert (
        '<a class="reference internal" href="guide.html#cache-deep-dive">'
        '<span class="std std-ref">How the cache works</span></a>'
    ) in other
    assert 'href="guide.html#inner-target"' in other
    assert app.warning.getvalue() == ""


def test_ref_in_the_single_page(build: Build) -> None:
    app = build()
    html = (app.outdir / "index.html").read_text("utf-8")
    assert (
        '<a class="reference internal" href="#cache-deep-dive">'
        '<span class="std std-ref">How the cache works</span></a>'
    ) in html


def test_text_builder_shows_title_and_all_content(build: Build) -> None:
    app = build("text")
    guide = (app.outdir / "guide.txt").read_text("utf-8")
    assert "\nHow the *cache* works\n\n   The cache keeps answers for an hour.\n" in guide
    assert "   The inner paragraph is a link target.\n" in guide
    assert "cache = {}" in guide
    assert "\nAlready open\n\n   This one starts open.\n" in guide
    assert "Its content is hidden until asked for." in guide
    other = (app.outdir / "other.txt").read_text("utf-8")
    assert "See How the cache works for details" in other
    assert app.warning.getvalue() == ""


@pytest.mark.parametrize(
    ("buildername", "output", "title"),
    [
        (
            "latex",
            "*.tex",
            r"\begin{sphinxadmonition}{note}{How the \sphinxstyleemphasis{cache} works}",
        ),
        ("man", "*.1", r"\fBHow the \fIcache\fP works\fP"),
        ("texinfo", "*.texi", "@quotation How the cache works"),
    ],
)
def test_other_builders_render_a_titled_block(
    build: Build, buildername: str, output: str, title: str
) -> None:
    app = build(buildername)
    text = next(app.outdir.glob(output)).read_text("utf-8")
    assert title in text
    assert "The cache keeps answers for an hour." in text
    assert "Its content is hidden until asked for." in text
    assert app.warning.getvalue() == ""


# Browser checks on the collapsed single file.


@pytest.fixture(scope="module")
def single_file(tmp_path_factory: pytest.TempPathFactory, rootdir: Path) -> Path:
    """Build the test root once for every browser check; returns the collapsed file."""
    srcdir = tmp_path_factory.mktemp("deepdive") / "src"
    shutil.copytree(rootdir / "test-deepdive", srcdir)
    app = SphinxTestApp("singlehtml", srcdir=srcdir, freshenv=True)
    try:
        app.build()
    finally:
        app.cleanup()
    single = app.outdir / "deep.html"
    assert single.is_file()
    return single


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Browser, single_file: Path) -> Iterator[Callable[[str], Page]]:
    pages: list[Page] = []
    problems: list[str] = []

    def load(fragment: str = "") -> Page:
        page = browser.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.goto(single_file.as_uri() + fragment)
        pages.append(page)
        return page

    yield load
    for page in pages:
        page.close()
    assert problems == []  # no script errors and no Content-Security-Policy refusals


def is_open(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "element => element.open"))


# Functions, not expression strings: Playwright evals those, which the file's CSP forbids.
CACHE = "#cache-deep-dive"
LATER = "details.llmdoc-deep-dive >> nth=2"


@pytest.mark.browser
def test_closed_by_default(open_page: Callable[[str], Page]) -> None:
    page = open_page("")
    assert not is_open(page, CACHE)
    assert not page.is_visible("#inner-target")
    assert is_open(page, "details.llmdoc-deep-dive >> nth=1")  # :open:


@pytest.mark.browser
@pytest.mark.parametrize("fragment", ["#inner-target", CACHE])
def test_opens_on_hash_navigation(open_page: Callable[[str], Page], fragment: str) -> None:
    page = open_page(fragment)
    page.wait_for_function(f"() => document.querySelector('{CACHE}').open")
    assert page.is_visible("#inner-target")
    assert (
        page.evaluate("document.querySelector('#inner-target').getBoundingClientRect().top")
        < (page.viewport_size or {"height": 720})["height"]
    )


@pytest.mark.browser
def test_opens_on_hash_change_and_link_click(open_page: Callable[[str], Page]) -> None:
    page = open_page("")
    page.evaluate("location.hash = '#inner-target'")
    page.wait_for_function(f"() => document.querySelector('{CACHE}').open")

    page = open_page("")
    page.click('a[href="#cache-deep-dive"]')
    assert is_open(page, CACHE)
    # a link to the fragment the URL already has fires no hashchange; the click still opens
    page.eval_on_selector(CACHE, "element => { element.open = false; }")
    page.click('a[href="#cache-deep-dive"]')
    assert is_open(page, CACHE)


@pytest.mark.browser
def test_opens_for_print_and_closes_after(open_page: Callable[[str], Page]) -> None:
    page = open_page("")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details", "all => all.every(d => d.open)")
    assert page.is_visible("#inner-target")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    page.emulate_media(media="screen")
    assert not is_open(page, CACHE)
    assert not is_open(page, LATER)
    assert is_open(page, "details.llmdoc-deep-dive >> nth=1")  # :open: stays open


@pytest.mark.browser
def test_expand_all_control(open_page: Callable[[str], Page]) -> None:
    page = open_page("")
    buttons = page.locator("button.llmdoc-deep-dive-toggle")
    # one control per section holding deep-dives: "Guide" (two) and "Later" (one)
    assert buttons.count() == 2
    first = buttons.nth(0)
    assert first.inner_text() == "Expand all deep-dives"
    assert first.get_attribute("aria-expanded") == "false"
    first.click()
    assert is_open(page, CACHE)
    assert not is_open(page, LATER)  # another section's control owns that one
    assert first.inner_text() == "Collapse all deep-dives"
    assert first.get_attribute("aria-expanded") == "true"
    first.click()
    assert not is_open(page, CACHE)
    assert not is_open(page, "details.llmdoc-deep-dive >> nth=1")
    # toggling a deep-dive by hand keeps the label honest
    page.click(f"{CACHE} > summary")
    page.click("details.llmdoc-deep-dive >> nth=1 >> summary")
    page.wait_for_function(
        "() => document.querySelector('button.llmdoc-deep-dive-toggle').textContent"
        ".startsWith('Collapse')"
    )


@pytest.mark.browser
def test_keyboard_focus_ring_is_visible(open_page: Callable[[str], Page]) -> None:
    page = open_page("")
    page.focus(f"{CACHE} > summary")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    style = page.eval_on_selector(
        f"{CACHE} > summary",
        "element => { const s = getComputedStyle(element);"
        " return [element.matches(':focus-visible'), s.outlineStyle, s.outlineWidth]; }",
    )
    assert style == [True, "solid", "3px"]
    page.keyboard.press("Enter")
    assert is_open(page, CACHE)


@pytest.mark.browser
def test_reduced_motion_drops_the_transition(browser: Browser, single_file: Path) -> None:
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    page.goto(single_file.as_uri())
    duration = page.eval_on_selector(
        f"{CACHE} > summary",
        "element => getComputedStyle(element, '::before').transitionDuration",
    )
    context.close()
    assert duration == "0s"
