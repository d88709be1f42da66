"""Fixtures for the browser suite: built books, Debian's Chromium, and watched pages.

Every page opened through :func:`open_page` records console errors, uncaught
exceptions and every request; at teardown the test fails if the page logged an
error or asked for anything but ``file:`` and ``data:`` URLs. Chromium is Debian's
``/usr/bin/chromium``, never a Playwright download.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"
FLAGSHIP_NAME = "llm-chatbot-documentation.html"


@dataclass(frozen=True)
class Book:
    """A built single file and what the tests may rely on in it."""

    name: str
    path: Path

    @property
    def url(self) -> str:
        return self.path.as_uri()


def _build(source: Path, outdir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "singlehtml", str(source), str(outdir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"building {source} failed:\n{result.stderr}"


@pytest.fixture(scope="session")
def reader_book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """The small test root ``tests/roots/test-reader``, built into a temporary folder."""
    outdir = tmp_path_factory.mktemp("reader")
    _build(ROOT / "tests" / "roots" / "test-reader", outdir)
    return Book("reader", outdir / "book.html")


@pytest.fixture(scope="session")
def flagship_book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """The flagship book from ``docs/``, built into a temporary folder."""
    if not (ROOT / "docs" / "conf.py").is_file():
        pytest.skip("docs/conf.py is absent: this checkout holds no flagship book")
    outdir = tmp_path_factory.mktemp("flagship")
    _build(ROOT / "docs", outdir)
    return Book("flagship", outdir / FLAGSHIP_NAME)


@pytest.fixture(params=["reader", "flagship"])
def book(request: pytest.FixtureRequest) -> Book:
    """Each test that takes ``book`` runs on the test root and on the flagship."""
    return request.getfixturevalue(f"{request.param}_book")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium per test module.

    Not per session: Playwright's sync API allows one running instance per thread, and
    other modules (deep-dives, diagrams, the Mermaid renderer itself) start their own.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (nox does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield instance
        instance.close()


@dataclass
class Watched:
    """A page and everything it did that the suite forbids."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allow_errors: bool = False

    def outside_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(("file:", "data:"))]


OpenPage = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any) -> Iterator[OpenPage]:
    """Open a book in a fresh context; fail the test on console errors or outside requests.

    Keyword arguments: ``width`` (default 1400), ``height`` (900), ``scheme``
    (``"light"``/``"dark"``), ``reduced_motion``, ``init_script`` (JavaScript run before
    the page's own), ``allow_errors`` (for tests that provoke an error on purpose),
    ``media`` and ``permissions``.
    """
    opened: list[tuple[Any, Watched]] = []

    def open_(
        book: Book,
        *,
        width: int = 1400,
        height: int = 900,
        scheme: str = "light",
        reduced_motion: str = "no-preference",
        init_script: str | None = None,
        allow_errors: bool = False,
        fragment: str = "",
    ) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            reduced_motion=reduced_motion,
        )
        page = context.new_page()
        watched = Watched(page, allow_errors=allow_errors)
        page.on("console", lambda m: m.type == "error" and watched.errors.append(m.text))
        page.on("pageerror", lambda e: watched.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: watched.requests.append(r.url))
        if init_script:
            page.add_init_script(script=init_script)
        page.goto(book.url + fragment)
        page.wait_for_function("() => document.documentElement.classList.contains('llmdoc-ready')")
        opened.append((context, watched))
        page.watched = watched
        return page

    yield open_

    problems = []
    for context, watched in opened:
        if not watched.allow_errors and watched.errors:
            problems.append(f"console errors: {watched.errors}")
        if watched.outside_requests():
            problems.append(f"requests outside the file: {watched.outside_requests()}")
        context.close()
    assert not problems, "; ".join(problems)


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser build, installed from the lock file by ``npm ci``."""
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed: run `npm ci --prefix {AXE.parent.parent.parent}`")
    return AXE.read_text("utf-8")
