"""Render Mermaid source to themed, self-contained SVG in one headless Chromium session.

No Sphinx import: the Sphinx side lives in :mod:`sphinx_llmdoc.diagram`. This module

* pins the Mermaid release (version and the npm tarball's integrity hash) and fetches
  its single-file bundle with ``npm pack`` into a per-user cache, never into git;
* renders a whole batch of diagrams, each in a light and a dark theme, in one
  Playwright session driving Debian's ``/usr/bin/chromium`` (never a browser
  download), returning Mermaid's own message for a syntax error instead of raising;
* post-processes every SVG so all its ids carry the diagram's content hash, and the
  same source always gives the same bytes;
* keeps a content-addressed cache of the results in a folder committed with the docs;
* is the command line that fills that cache: ``python -m sphinx_llmdoc.mermaid render docs``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

#: The Mermaid release every diagram is rendered with; part of every cache key.
MERMAID_VERSION = "12.3.0"
#: Subresource integrity of ``mermaid-<version>.tgz`` as the npm registry lists it.
MERMAID_INTEGRITY = (
    "sha512-"
    "4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw=="
)
#: Bumped whenever the post-processing here changes its output; part of every cache key.
RENDERER_VERSION = "1"

#: Debian's Chromium. Playwright is pointed at it so nothing ever downloads a browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

#: The one command that renders missing diagrams and removes stale cache entries.
RENDER_COMMAND = "python -m sphinx_llmdoc.mermaid render"

#: Wide fonts for measuring: a reader's narrower font then still fits every box.
FONT_FAMILY = '"DejaVu Sans", Verdana, "Trebuchet MS", Arial, sans-serif'

# Settings every theme shares. Strict security keeps labels from running scripts;
# the gantt "today" line would make the output depend on the day it was rendered.
_COMMON: dict[str, Any] = {
    "startOnLoad": False,
    "securityLevel": "strict",
    "deterministicIds": True,
    "suppressErrorRendering": True,
    "fontFamily": FONT_FAMILY,
    "gantt": {"todayMarker": "off"},
}

# Section colours for mindmaps, timelines, git graphs and the like. Mermaid's defaults
# put white text on mid-tone fills (under 3:1); these mid-tone fills carry near-black
# labels at 6:1 or more and still read as lines on both page backgrounds.
_SCALE = (
    "#8fb3e0",
    "#b9a6e8",
    "#8fd1a9",
    "#e89a9a",
    "#e0c27a",
    "#7fcfd6",
    "#e0a3cf",
    "#a9b6c8",
    "#c9d67f",
    "#d6a77f",
    "#9fa8f0",
    "#7fd6b9",
)
_SCALE_LABEL = "#131416"


def _scales() -> dict[str, str]:
    variables = {}
    for i, colour in enumerate(_SCALE):
        variables[f"cScale{i}"] = colour
        variables[f"cScaleLabel{i}"] = _SCALE_LABEL
    for i, colour in enumerate(_SCALE[:8]):
        variables[f"git{i}"] = colour
        variables[f"gitBranchLabel{i}"] = _SCALE_LABEL
    return variables


_LIGHT_VARIABLES: dict[str, str] = {
    **_scales(),
    "fontFamily": FONT_FAMILY,
    # Gantt bars: Mermaid's default is white text on #8a90dd (2.9:1).
    "taskBkgColor": "#c9ccf4",
    "taskBorderColor": "#5a60b8",
    "taskTextColor": "#131416",
    "taskTextLightColor": "#131416",
    "commitLabelColor": "#131416",
    "commitLabelBackground": "#f4f4f4",
}

# The dark palette is chosen for furo's dark background (#131416): every text colour
# is at least 4.5:1 against what it is drawn on, edge labels included, which
# Mermaid's own dark theme gets wrong.
_DARK_VARIABLES: dict[str, str] = {
    **_scales(),
    "darkMode": "true",
    "background": "#131416",
    "fontFamily": FONT_FAMILY,
    "primaryColor": "#1e3a5f",
    "primaryTextColor": "#f1f5f9",
    "primaryBorderColor": "#7fa6d6",
    "secondaryColor": "#3b2f5c",
    "secondaryTextColor": "#f1f5f9",
    "secondaryBorderColor": "#a996d6",
    "tertiaryColor": "#1f3b2d",
    "tertiaryTextColor": "#f1f5f9",
    "tertiaryBorderColor": "#7fc49b",
    "lineColor": "#c8d1dc",
    "textColor": "#e6e9ee",
    "mainBkg": "#1e3a5f",
    "nodeBorder": "#7fa6d6",
    "nodeTextColor": "#f1f5f9",
    "clusterBkg": "#1b1f27",
    "clusterBorder": "#8a94a3",
    "titleColor": "#f1f5f9",
    "edgeLabelBackground": "#131416",
    "labelBackground": "#131416",
    "actorBkg": "#1e3a5f",
    "actorBorder": "#7fa6d6",
    "actorTextColor": "#f1f5f9",
    "actorLineColor": "#c8d1dc",
    "signalColor": "#e6e9ee",
    "signalTextColor": "#e6e9ee",
    "labelBoxBkgColor": "#1e3a5f",
    "labelBoxBorderColor": "#7fa6d6",
    "labelTextColor": "#f1f5f9",
    "loopTextColor": "#e6e9ee",
    "noteBkgColor": "#3d3417",
    "noteBorderColor": "#d6b95a",
    "noteTextColor": "#f8f1d8",
    "activationBkgColor": "#2b4c75",
    "activationBorderColor": "#7fa6d6",
    "sequenceNumberColor": "#131416",
    "taskBkgColor": "#2b4c75",
    "taskBorderColor": "#7fa6d6",
    "taskTextColor": "#f1f5f9",
    "taskTextLightColor": "#f1f5f9",
    "taskTextDarkColor": "#e6e9ee",
    "taskTextOutsideColor": "#e6e9ee",
    "commitLabelColor": "#f1f5f9",
    "commitLabelBackground": "#1b1f27",
    "errorBkgColor": "#5c1f1f",
    "errorTextColor": "#ffd7d7",
    # Mermaid's light-grey shadow glows on a dark page.
    "dropShadow": "drop-shadow( 1px 2px 2px rgba(0,0,0,0.6))",
}

#: Mermaid settings per variant. The light one is Mermaid's default theme, corrected.
THEMES: dict[str, dict[str, Any]] = {
    "light": {**_COMMON, "theme": "default", "themeVariables": _LIGHT_VARIABLES},
    "dark": {**_COMMON, "theme": "base", "themeVariables": _DARK_VARIABLES},
}

_KEY = re.compile(r"^[0-9a-f]{64}$")


def cache_key(source: str, theme: str) -> str:
    """The content address of *source* rendered in *theme*.

    It covers everything that changes the output bytes: the source, the theme's
    full Mermaid settings, the Mermaid release and this module's post-processing.
    """
    material = json.dumps(
        {
            "source": source,
            "theme": theme,
            "settings": THEMES[theme],
            "mermaid": MERMAID_VERSION,
            "renderer": RENDERER_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def id_prefix(key: str) -> str:
    """The prefix every id inside the SVG for *key* carries."""
    return f"mermaid-{key[:12]}"


@dataclass(frozen=True)
class Job:
    """One diagram in one theme."""

    source: str
    theme: str

    @cached_property
    def key(self) -> str:
        """Content address, also the cache file name."""
        return cache_key(self.source, self.theme)

    @property
    def prefix(self) -> str:
        """The render id; Mermaid prefixes most (not all) inner ids with it."""
        return id_prefix(self.key)

    @property
    def settings(self) -> dict[str, Any]:
        """Mermaid's ``initialize`` settings for this job."""
        return {**THEMES[self.theme], "deterministicIDSeed": self.prefix}


@dataclass(frozen=True)
class Rendered:
    """What rendering a job gave: an SVG, or Mermaid's error message."""

    job: Job
    svg: str = ""
    error: str = ""


#: Anything that turns jobs into raw Mermaid SVG (or errors), in order.
Renderer = Callable[[Sequence[Job]], Sequence[Rendered]]


# -- post-processing ------------------------------------------------------------------

_ID_ATTR = re.compile(r'(?<=\s)id="([^"]*)"')
_IDREF_ATTR = re.compile(r'(?<=\s)(aria-labelledby|aria-describedby)="([^"]*)"')
_URL_REF = re.compile(r"url\(\s*(['\"]?)#([^'\")\s]+)\1\s*\)")
_HREF_REF = re.compile(r'(?<=\s)((?:xlink:)?href)="#([^"]+)"')
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S)
_CSS_ID = re.compile(r"#(-?[A-Za-z_][\w-]*)")
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
# A trailing counter: hex-ish characters with at least one digit, ending the id.
_VOLATILE = re.compile(r"[0-9a-f]*[0-9][0-9a-f]*$")
_ROLE = re.compile(r'\s(?:role|aria-roledescription|aria-label)="[^"]*"')


def _counter_stem(tail: str) -> str | None:
    """The part of an id before a trailing counter, or None when it has none."""
    match = _VOLATILE.search(tail)
    return tail[: match.start()] if match else None


def prefix_ids(svg: str, prefix: str) -> str:
    """Give every id in *svg* the *prefix* and a stable name; keep references intact.

    Mermaid prefixes most ids with the render id but not all (flowchart edge labels,
    some markers), sometimes writes the same id twice, and numbers some ids from
    counters that live on between renders (class and mindmap nodes, sequence actors,
    Iconify's time-seeded ids). So every id is renamed: *prefix*, then the original
    name with a trailing counter replaced by its rank among ids of the same stem in
    this SVG. Afterwards every id starts with *prefix*, occurs once, and does not
    depend on what else was rendered in the same session.
    """
    renames: dict[str, str] = {}
    ranks: dict[str, dict[str, int]] = {}
    used: set[str] = set()

    def canonical(old: str) -> str:
        tail = old
        for sep in ("-", "_"):
            if old.startswith(prefix + sep):
                tail = old[len(prefix) + 1 :]
        if old == prefix:
            return prefix
        stem = _counter_stem(tail)
        if stem is not None:
            rank = ranks.setdefault(stem, {})
            tail = f"{stem}{rank.setdefault(tail, len(rank))}"
        return f"{prefix}-{tail}"

    def rename(match: re.Match[str]) -> str:
        old = match.group(1)
        base = renames.get(old) or canonical(old)
        new, counter = base, 1
        while new in used:
            counter += 1
            new = f"{base}-{counter}"
        used.add(new)
        renames.setdefault(old, new)
        return f'id="{new}"'

    svg = _ID_ATTR.sub(rename, svg)

    def target(ident: str) -> str:
        return renames.get(ident, ident)

    svg = _URL_REF.sub(lambda m: f"url({m.group(1)}#{target(m.group(2))}{m.group(1)})", svg)
    svg = _HREF_REF.sub(lambda m: f'{m.group(1)}="#{target(m.group(2))}"', svg)
    svg = _IDREF_ATTR.sub(
        lambda m: f'{m.group(1)}="{" ".join(target(i) for i in m.group(2).split())}"', svg
    )

    def css(match: re.Match[str]) -> str:
        body = _CSS_ID.sub(lambda m: f"#{target(m.group(1))}", match.group(2))
        return f"{match.group(1)}{body}{match.group(3)}"

    return _STYLE_BLOCK.sub(css, svg)


def finish_svg(svg: str, prefix: str) -> str:
    """Mermaid's SVG made ready to cache: ids prefixed, a stable ending."""
    return prefix_ids(svg.strip(), prefix) + "\n"


_GEOMETRY = re.compile(
    r"""(\s(?:d|points|transform|x|y|x1|x2|y1|y2|cx|cy|r|rx|ry|width|height|viewBox|style)=")"""
    r"""([^"]*)(")"""
)
# Not inside another number: path data runs numbers together ("-.045.002" is two).
_LONG_DECIMAL = re.compile(r"(?<![\d.])-?\d+\.\d{3,}")


def _round_numbers(value: str) -> str:
    def two_places(match: re.Match[str]) -> str:
        text = f"{float(match.group()):.2f}"
        if value[match.end() : match.end() + 1] != ".":
            # only where no ".5"-style number follows, which a bare integer would absorb
            text = text.rstrip("0").rstrip(".")
        return "0" if text in {"-0", ""} else text

    return _LONG_DECIMAL.sub(two_places, value)


def compact_svg(svg: str) -> str:
    """Round geometry to hundredths of a pixel: Mermaid writes up to 15 decimals.

    Only attribute values that hold coordinates change, never text, so labels that
    contain numbers stay as written. About a tenth of a diagram's bytes.
    """
    return _GEOMETRY.sub(lambda m: m.group(1) + _round_numbers(m.group(2)) + m.group(3), svg)


_SVG_WITH_STYLE = re.compile(
    r'(?P<open><svg\b[^>]*?\sid="(?P<id>[^"]+)"[^>]*>)\s*<style>(?P<css>.*?)</style>', re.S
)
_CLASS_ATTR = re.compile(r'\sclass="([^"]*)"')


def share_styles(markup: str, seen: set[str]) -> str:
    """Let diagrams that share a stylesheet carry it once per page.

    Mermaid puts a ``<style>`` in every SVG, scoped to that SVG's id, and most of a
    book's diagrams share the same rules (about 5 KB each). The scope becomes a
    class named after the rules' hash; a ``<style>`` in inline SVG applies to the
    whole page, so only the first SVG with those rules keeps them. *seen* holds the
    classes already written on this page.
    """

    def share(match: re.Match[str]) -> str:
        scope = re.compile(rf"#{re.escape(match.group('id'))}(?![\w-])")
        css = scope.sub(".llmdoc-mmd-SCOPE", match.group("css"))
        name = f"llmdoc-mmd-{hashlib.sha256(css.encode('utf-8')).hexdigest()[:10]}"
        opening = match.group("open")
        classes = _CLASS_ATTR.search(opening)
        if classes:
            opening = (
                opening[: classes.start(1)]
                + f"{classes.group(1)} {name}"
                + opening[classes.end(1) :]
            )
        else:
            opening = opening[:-1].rstrip("/") + f' class="{name}">'
        if name in seen:
            return opening
        seen.add(name)
        return f"{opening}<style>{css.replace('llmdoc-mmd-SCOPE', name)}</style>"

    return _SVG_WITH_STYLE.sub(share, markup)


def inline_svg(svg: str, label: str, instance: int = 1) -> str:
    """A cached SVG ready to inline: an image with *label* as its accessible name.

    *instance* above 1 marks a repeat of the same diagram on one page; its ids get a
    further suffix so they stay unique.
    """
    match = _SVG_OPEN.search(svg)
    if match is None:
        return svg
    if instance > 1:
        prefix = re.search(r'\sid="([^"]*)"', match.group(0))
        if prefix:
            svg = svg.replace(prefix.group(1), f"{prefix.group(1)}-{instance}")
            match = _SVG_OPEN.search(svg)
            assert match is not None
    label = (
        label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
    head = _ROLE.sub("", match.group(0)[:-1]).rstrip("/")
    opening = f'{head} role="img" aria-label="{label}">'
    return compact_svg(svg[: match.start()] + opening + svg[match.end() :])


# -- the cache ------------------------------------------------------------------------


class DiagramCache:
    """SVGs on disk, one ``<key>.svg`` per diagram and theme, meant to be committed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """Where the SVG for *key* lives."""
        return self.folder / f"{key}.svg"

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> str | None:
        """The cached SVG for *key*, or None."""
        try:
            return self.path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def put(self, key: str, svg: str) -> None:
        """Store *svg* under *key*, atomically so a parallel reader never sees half."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{key}.partial"
        partial.write_bytes(svg.encode("utf-8"))
        partial.replace(self.path(key))

    def keys(self) -> set[str]:
        """Every key with an entry."""
        if not self.folder.is_dir():
            return set()
        return {p.stem for p in self.folder.glob("*.svg") if _KEY.match(p.stem)}

    def stale(self, used: Iterable[str]) -> list[Path]:
        """Entries no diagram uses any more, sorted."""
        return sorted(self.path(key) for key in self.keys() - set(used))

    def prune(self, used: Iterable[str]) -> list[Path]:
        """Delete the stale entries and return them."""
        stale = self.stale(used)
        for path in stale:
            path.unlink()
        return stale


# -- the Mermaid bundle ---------------------------------------------------------------


class RendererUnavailable(RuntimeError):
    """The browser, Playwright or the Mermaid bundle is missing; the message says which."""


def mermaid_home() -> Path:
    """The per-user folder holding the pinned Mermaid bundle (never committed)."""
    override = os.environ.get("LLMDOC_MERMAID_HOME")
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "sphinx-llmdoc" / f"mermaid-{MERMAID_VERSION}"


def mermaid_js(home: Path | None = None) -> Path:
    """Where the pinned ``mermaid.min.js`` is, once installed."""
    return (home or mermaid_home()) / "mermaid.min.js"


def integrity_of(data: bytes) -> str:
    """The npm-style ``sha512-<base64>`` integrity string of *data*."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def install_mermaid(home: Path | None = None, npm: str = "npm") -> Path:
    """Fetch the pinned Mermaid with ``npm pack``, verify it, and keep only its bundle.

    ``npm pack`` downloads one tarball and none of Mermaid's dependencies: the
    ``dist/mermaid.min.js`` inside already bundles them. The tarball must match
    :data:`MERMAID_INTEGRITY`, so every machine renders with the same bytes.
    """
    home = home or mermaid_home()
    target = mermaid_js(home)
    if target.is_file():
        return target
    executable = shutil.which(npm)
    if executable is None:
        msg = f"npm is not installed, and it is needed once to fetch mermaid@{MERMAID_VERSION}"
        raise RendererUnavailable(msg)
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home) as scratch:
        subprocess.run(
            [executable, "pack", f"mermaid@{MERMAID_VERSION}", "--silent"],
            cwd=scratch,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = Path(scratch) / f"mermaid-{MERMAID_VERSION}.tgz"
        found = integrity_of(tarball.read_bytes())
        if found != MERMAID_INTEGRITY:
            msg = f"mermaid-{MERMAID_VERSION}.tgz has integrity {found}, not the pinned one"
            raise RendererUnavailable(msg)
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/dist/mermaid.min.js")
            if member is None:
                msg = f"mermaid-{MERMAID_VERSION}.tgz has no dist/mermaid.min.js"
                raise RendererUnavailable(msg)
            partial = Path(scratch) / "mermaid.min.js"
            partial.write_bytes(member.read())
        partial.replace(target)
    return target


def unavailable_reason(chromium: str = CHROMIUM, home: Path | None = None) -> str | None:
    """Why :class:`ChromiumRenderer` cannot run here, or None when it can."""
    from importlib.util import find_spec

    if find_spec("playwright") is None:
        return "the Python package playwright is missing (pip install 'sphinx-llmdoc[render]')"
    if not os.access(chromium, os.X_OK):
        return f"no Chromium at {chromium} (apt-get install chromium)"
    if not mermaid_js(home).is_file():
        return f"mermaid@{MERMAID_VERSION} is not installed in {mermaid_home()}"
    return None


# -- rendering ------------------------------------------------------------------------

# Runs in the page. Math.random is reseeded per diagram because some diagram types
# (gitGraph commit ids, layout jitter) draw on it; a failed render leaves nothing
# behind in the page that could disturb the next one.
_PAGE_SCRIPT = """
window.llmdocRender = async (id, source, settings, seed) => {
  let state = seed >>> 0;
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  mermaid.initialize(settings);
  try {
    const { svg } = await mermaid.render(id, source);
    return { svg, error: "" };
  } catch (error) {
    for (const stray of document.querySelectorAll(`#${id}, #d${id}`)) stray.remove();
    return { svg: "", error: String((error && error.message) || error) };
  }
};
"""


class ChromiumRenderer:
    """Renders a batch in one headless Chromium session through Playwright."""

    def __init__(self, chromium: str = CHROMIUM, home: Path | None = None) -> None:
        self.chromium = chromium
        self.home = home

    def __call__(self, jobs: Sequence[Job]) -> list[Rendered]:
        """Render *jobs* in order; a syntax error becomes :attr:`Rendered.error`."""
        reason = unavailable_reason(self.chromium, self.home)
        if reason:
            raise RendererUnavailable(reason)
        if not jobs:
            return []
        # Playwright's sync API refuses to run where an asyncio loop is running (a
        # notebook, an async test, a Playwright session of the caller's): a thread of
        # its own keeps it out of the caller's way.
        from playwright.sync_api import Error as PlaywrightError

        with ThreadPoolExecutor(max_workers=1) as pool:
            try:
                return pool.submit(self._render, jobs).result()
            except PlaywrightError as error:
                msg = f"Chromium failed while rendering: {error.message.splitlines()[0]}"
                raise RendererUnavailable(msg) from error

    def _render(self, jobs: Sequence[Job]) -> list[Rendered]:
        from playwright.sync_api import sync_playwright

        results = []
        with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
            # Loading the bundle by URL (not as injected text) lets Chromium stream
            # and compile it off the main thread: seconds faster.
            host = Path(scratch) / "host.html"
            bundle = mermaid_js(self.home).resolve().as_uri()
            host.write_text(
                f'<!DOCTYPE html><html><head><script src="{bundle}"></script></head></html>',
                encoding="utf-8",
            )
            browser = playwright.chromium.launch(
                executable_path=self.chromium, args=list(CHROMIUM_ARGS)
            )
            try:
                # A fixed viewport: some layouts (gantt) size themselves to the page.
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.goto(host.as_uri())
                page.add_script_tag(content=_PAGE_SCRIPT)
                for job in jobs:
                    seed = int(job.key[:8], 16)
                    outcome = page.evaluate(
                        "([id, src, conf, seed]) => window.llmdocRender(id, src, conf, seed)",
                        [job.prefix, job.source, job.settings, seed],
                    )
                    results.append(Rendered(job, svg=outcome["svg"], error=outcome["error"]))
            finally:
                browser.close()
        return results


def render_batch(jobs: Sequence[Job], renderer: Renderer) -> list[Rendered]:
    """Render *jobs* (once each) with *renderer* and finish every SVG for the cache."""
    unique = list({job.key: job for job in jobs}.values())
    finished = []
    for rendered in renderer(unique):
        if rendered.svg and not rendered.error:
            svg = finish_svg(rendered.svg, rendered.job.prefix)
            finished.append(Rendered(rendered.job, svg=svg))
        else:
            error = rendered.error or "Mermaid produced no SVG"
            finished.append(Rendered(rendered.job, error=error))
    return finished


# -- command line ---------------------------------------------------------------------


def _render_command(args: argparse.Namespace) -> int:
    """Install Mermaid if needed, then let Sphinx read the docs and fill the cache."""
    if args.renderer == "auto":
        try:
            install_mermaid()
        except (RendererUnavailable, subprocess.CalledProcessError) as error:
            print(f"error: cannot install mermaid@{MERMAID_VERSION}: {error}", file=sys.stderr)
            return 2
        reason = unavailable_reason(args.chromium)
        if reason:
            print(f"error: cannot render diagrams here: {reason}", file=sys.stderr)
            return 2
    # Sphinx reads every document (the dummy builder writes nothing); the diagram
    # extension renders what is missing in one batch and, in refresh mode, deletes
    # the entries no document uses. Its log says how many of each.
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "dummy",
            "-E",
            "-d",
            str(Path(scratch) / "doctrees"),
            "-D",
            "llmdoc_diagram_refresh=1",
            "-D",
            f"llmdoc_mermaid_renderer={args.renderer}",
            "-D",
            f"llmdoc_chromium={args.chromium}",
            str(args.source),
            str(Path(scratch) / "out"),
        ]
        return subprocess.run(command, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sphinx_llmdoc.mermaid {render,install}``."""
    parser = argparse.ArgumentParser(
        prog="python -m sphinx_llmdoc.mermaid",
        description="Render the Mermaid diagrams of a Sphinx project into its diagram cache.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render", help="render missing diagrams and delete stale cache entries"
    )
    render.add_argument("source", type=Path, help="the Sphinx source folder (with conf.py)")
    render.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    render.add_argument(
        "--renderer",
        default="auto",
        help='"auto" (Chromium) or "module:function" naming another renderer',
    )
    commands.add_parser("install", help=f"fetch mermaid@{MERMAID_VERSION} into {mermaid_home()}")
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install_mermaid())
        return 0
    return _render_command(args)


if __name__ == "__main__":
    raise SystemExit(main())
