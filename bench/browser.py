"""Page-load, search and Lighthouse figures in Debian's headless Chromium.

Never a browser download: Playwright drives ``/usr/bin/chromium``. Each sample is a
fresh browser context, so nothing is cached between samples. Observers are injected
with ``add_init_script``, which runs before the page's own scripts and is not subject
to the page's Content-Security-Policy.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
#: How long to keep observing after ``load`` for late layout shifts and long tasks.
SETTLE_MS = 1000
LIGHTHOUSE_VERSION = "12.8.2"  # 13.x needs Node 22.19; Debian ships Node 20
LIGHTHOUSE_CATEGORIES = ("performance", "accessibility", "best-practices", "seo")

OBSERVERS = """
window.__bench = {shifts: [], tasks: []};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!e.hadRecentInput) window.__bench.shifts.push([e.startTime, e.value]);
  }
}).observe({type: "layout-shift", buffered: true});
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.tasks.push([e.startTime, e.duration]);
}).observe({type: "longtask", buffered: true});
"""

COLLECT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  // CLS as web-vitals defines it: the largest session window of shifts
  // (gaps under 1 s, windows at most 5 s long).
  let cls = 0, window_ = 0, first = 0, last = 0;
  for (const [t, v] of window.__bench.shifts) {
    if (window_ && t - last < 1000 && t - first < 5000) { window_ += v; }
    else { window_ = v; first = t; }
    last = t;
    cls = Math.max(cls, window_);
  }
  const after = window.__bench.tasks.filter(([t]) => t >= nav.loadEventStart);
  const longest = (tasks) => tasks.reduce((m, [, d]) => Math.max(m, d), 0);
  return {
    dcl_ms: nav.domContentLoadedEventEnd,
    load_ms: nav.loadEventEnd,
    fcp_ms: fcp ? fcp.startTime : null,
    cls: cls,
    longest_task_after_load_ms: longest(after),
    longest_task_ms: longest(window.__bench.tasks),
    long_tasks: window.__bench.tasks.length,
    dom_nodes: document.getElementsByTagName("*").length,
  };
}
"""

#: Input elements the in-page search may use, most specific first.
SEARCH_SELECTORS = (
    "[data-llmdoc-search] input",
    "#llmdoc-search-input",
    ".llmdoc-search input",
    "input[type=search]",
)

SEARCH_PROBE = """
() => {
  window.__search = [];
  document.addEventListener("input", (event) => {
    const record = {t0: event.timeStamp, t1: null};
    window.__search.push(record);
    const done = () => requestAnimationFrame(() => requestAnimationFrame(() => {
      if (record.t1 === null) record.t1 = performance.now();
    }));
    const observer = new MutationObserver((mutations) => {
      if (mutations.every((m) => m.target === event.target)) return;
      observer.disconnect();
      done();
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true,
                                      attributes: true, attributeFilter: ["hidden", "class"]});
    setTimeout(() => observer.disconnect(), 2000);
  }, {capture: true});
}
"""


def available() -> str | None:
    """Why the browser figures cannot run, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for a whole measurement series."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def page_load(
    instance: Any,
    url: str,
    *,
    cpu_profile: bool = False,
    labels: list[tuple[int, str]] | None = None,
) -> dict[str, Any]:
    """Load *url* in a fresh context; timings, CLS, long tasks and Chromium's own metrics."""
    context = instance.new_context(viewport=VIEWPORT)
    context.add_init_script(OBSERVERS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "timeTicks"})
    if cpu_profile:
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 100})
        cdp.send("Profiler.start")
    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(SETTLE_MS)
        sample: dict[str, Any] = page.evaluate(COLLECT)
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        sample["chromium_ms"] = {
            name.removesuffix("Duration").lower(): round(metrics[name] * 1000, 1)
            for name in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
            if name in metrics
        }
        if cpu_profile:
            sample["cpu_profile"] = hot_functions(cdp.send("Profiler.stop")["profile"], labels)
        return sample
    finally:
        context.close()


#: Recognisable text near the top of each inline script, and the file it came from.
SCRIPT_MARKERS = (
    ("furo.js", "furo.js"),
    ("clipboard.js", "clipboard.min.js"),
    ("Localization support", "copybutton.js"),
    ("sphinx-llmdoc", "llmdoc.js"),
    ("data-sd-tabs", "sphinx-design design-tabs.js"),
    ("Highlighting utilities", "sphinx_highlight.js"),
    ("Base JavaScript utilities", "doctools.js"),
    ("DOCUMENTATION_OPTIONS", "documentation_options.js"),
    ("mermaid", "sphinxcontrib-mermaid loader"),
    ('localStorage.getItem("theme")', "furo theme init"),
)
_SCRIPT_START = re.compile(r"<script\b[^>]*>", re.I)


def script_labels(html: str) -> list[tuple[int, str]]:
    """(first line, origin) of each inline script, so profile lines name a file."""
    labels = []
    for match in _SCRIPT_START.finditer(html):
        head = html[match.start() : match.end() + 300]
        label = next((name for marker, name in SCRIPT_MARKERS if marker in head), "inline script")
        labels.append((html.count("\n", 0, match.start()) + 1, label))
    return labels


def _origin(line: int, labels: list[tuple[int, str]]) -> str:
    found = "page"
    for start, label in labels:
        if start > line:
            break
        found = label
    return found


def hot_functions(
    profile: dict[str, Any], labels: list[tuple[int, str]] | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """Self time per JavaScript function in a CDP CPU profile, heaviest first.

    ``(program)`` is native work: style, layout and parsing outside any script.
    ``(idle)`` is left out.
    """
    nodes = {node["id"]: node for node in profile["nodes"]}
    self_us: dict[str, float] = defaultdict(float)
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
        frame = nodes[node_id]["callFrame"]
        name = frame["functionName"] or "(anonymous)"
        if name == "(idle)":
            continue
        if frame["url"]:
            line = frame["lineNumber"] + 1
            origin = (
                _origin(line, labels or [])
                if frame["url"].endswith(".html")
                else Path(frame["url"]).name
            )
            name = f"{name} [{origin}, line {line}:{frame['columnNumber'] + 1}]"
        self_us[name] += delta
    ranked = sorted(self_us.items(), key=lambda item: -item[1])[:limit]
    return [{"function": key, "self_ms": round(us / 1000, 1)} for key, us in ranked]


def search_latency(instance: Any, url: str, query: str) -> dict[str, Any]:
    """Per-keystroke time from the ``input`` event to the results painted.

    Types *query* one key at a time into the in-page search; a keystroke counts once
    anything outside the input changes, measured to the second animation frame after
    it (the frame that shows it).
    """
    context = instance.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        selector = next((s for s in SEARCH_SELECTORS if page.locator(s).count()), None)
        if selector is None:
            return {"available": False, "reason": "no search input in the page (not available yet)"}
        field = page.locator(selector).first
        if not field.is_visible():
            page.keyboard.press("/")  # the documented shortcut opens the search
        if not field.is_visible():
            return {"available": False, "reason": f"{selector} exists but never becomes visible"}
        field.click()
        page.evaluate(SEARCH_PROBE)
        for key in query:
            page.keyboard.type(key)
            with contextlib.suppress(Exception):
                page.wait_for_function(
                    "() => window.__search.length && window.__search.at(-1).t1 !== null",
                    timeout=2000,
                )
        records = page.evaluate("() => window.__search")
        latencies = [r["t1"] - r["t0"] for r in records if r["t1"] is not None]
        return {
            "available": True,
            "selector": selector,
            "query": query,
            "keystrokes": len(records),
            "rendered": len(latencies),
            "latencies_ms": [round(x, 1) for x in latencies],
        }
    finally:
        context.close()


def search_profile(
    instance: Any, url: str, selector: str, query: str, labels: list[tuple[int, str]] | None = None
) -> list[dict[str, Any]]:
    """CPU profile of typing *query*, for naming the cause of slow keystrokes."""
    context = instance.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        field = page.locator(selector).first
        if not field.is_visible():
            page.keyboard.press("/")
        field.click()
        cdp = context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 100})
        cdp.send("Profiler.start")
        for key in query:
            page.keyboard.type(key)
            page.wait_for_timeout(100)
        return hot_functions(cdp.send("Profiler.stop")["profile"], labels)
    finally:
        context.close()


# -- Lighthouse ------------------------------------------------------------------------


def lighthouse_bin(cache: Path) -> tuple[Path | None, str]:
    """The pinned npm ``lighthouse`` under *cache*, installed there on first use."""
    binary = cache / "node_modules" / ".bin" / "lighthouse"
    if binary.exists():
        return binary, ""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None, "node/npm are not installed"
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
            str(cache),
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not binary.exists():
        return None, f"npm install lighthouse@{LIGHTHOUSE_VERSION} failed: {done.stderr[-300:]}"
    return binary, ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``python -m http.server`` on 127.0.0.1 for *directory*, yielding its base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def lighthouse(page: Path, cache: Path, *, preset: str | None = None) -> dict[str, Any]:
    """Lighthouse's four category scores (0-100) for *page*, or why they are missing."""
    binary, why = lighthouse_bin(cache)
    if binary is None:
        return {"available": False, "reason": why}
    report = cache / f"report-{page.stem}-{preset or 'mobile'}.json"
    flags = " ".join(["--headless=new", *LAUNCH_ARGS])
    with serve(page.parent) as base:
        command = [
            str(binary),
            f"{base}/{page.name}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
            f"--chrome-flags={flags}",
            f"--only-categories={','.join(LIGHTHOUSE_CATEGORIES)}",
        ]
        if preset:
            command.append(f"--preset={preset}")
        env = dict(os.environ, CHROME_PATH=str(CHROMIUM))
        started = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=300, check=False
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0 or not report.exists():
        return {
            "available": False,
            "reason": f"lighthouse exited {done.returncode}: {done.stderr.strip()[-400:]}",
        }
    data = json.loads(report.read_text())
    scores = {
        name: round(data["categories"][name]["score"] * 100)
        if data["categories"][name]["score"] is not None
        else None
        for name in LIGHTHOUSE_CATEGORIES
    }
    failing = [
        {
            "id": audit_id,
            "title": audit["title"],
            "score": audit["score"],
            "detail": audit.get("explanation") or audit.get("displayValue") or "",
        }
        for audit_id, audit in data["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in {"binary", "numeric", "metricSavings"}
    ]
    return {
        "available": True,
        "version": data.get("lighthouseVersion"),
        "form_factor": preset or "mobile",
        "scores": scores,
        "failing_audits": failing[:15],
        "seconds": round(seconds, 1),
        "report": str(report),
    }
