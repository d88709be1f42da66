"""Timing, memory, size and profile helpers for the benchmark (no browser here).

Every comparison is made in one run: ``alternate`` interleaves the variants (ABBA...)
so drift on a shared machine hits both, and ratios are taken pair by pair.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@dataclass
class BuildRun:
    """One ``sphinx-build`` child process: wall time, peak memory, warnings."""

    seconds: float
    max_rss_mb: float
    warnings: int
    returncode: int
    log: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["log"] = self.log[-4000:]
        return data


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for build children: the checkout importable, no bytecode noise."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONHASHSEED"] = "0"
    env.update(extra or {})
    return env


def sphinx_build(
    source: Path,
    outdir: Path,
    *,
    confdir: Path | None = None,
    clean: bool = True,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    profile: Path | None = None,
) -> BuildRun:
    """Run ``sphinx-build -b singlehtml`` in a child and measure it alone.

    ``os.wait4`` returns the child's own resource usage, so ``ru_maxrss`` is the peak
    memory of this build rather than of the largest child so far.
    """
    if clean and outdir.exists():
        shutil.rmtree(outdir)
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "sphinx", "-b", "singlehtml", "-q"]
    if confdir is not None:
        command += ["-c", str(confdir)]
    command += [*args, str(source), str(outdir)]
    log_path = outdir.parent / f".{outdir.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=child_env(env))
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    text = log_path.read_text(errors="replace")
    return BuildRun(
        seconds=seconds,
        max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        warnings=text.count("WARNING:"),
        returncode=child.returncode,
        log=text,
    )


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min and max of *values* (empty: n = 0 only)."""
    if not values:
        return {"n": 0}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def alternate(tasks: dict[str, Callable[[], T]], reps: int) -> dict[str, list[T]]:
    """Run every task *reps* times, interleaved, reversing the order every other round."""
    names = list(tasks)
    results: dict[str, list[T]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            results[name].append(tasks[name]())
    return results


def ratios(baseline: Sequence[float], candidate: Sequence[float]) -> list[float]:
    """``candidate / baseline`` for each repetition (same round, same conditions)."""
    return [c / b for b, c in zip(baseline, candidate, strict=True) if b > 0]


def time_call(function: Callable[[], object], reps: int) -> list[float]:
    """Wall times of *reps* calls."""
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


# -- sizes -----------------------------------------------------------------------------

_DATA_URI = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)(?:;[\w=.-]+)*;base64,[A-Za-z0-9+/=]+")
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.I | re.S)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
_SVG_TAG = re.compile(r"<(/?)svg\b[^>]*>", re.I)
_DIAGRAM_MARKERS = ("aria-roledescription", "mermaid", "llmdoc-diagram")


def svg_elements(html: str) -> list[tuple[int, int]]:
    """Start and end offsets of every outermost ``<svg>`` element."""
    spans = []
    depth = 0
    start = 0
    for match in _SVG_TAG.finditer(html):
        if match.group(1):
            depth -= 1
            if depth == 0:
                spans.append((start, match.end()))
        else:
            if depth == 0:
                start = match.start()
            if not match.group().endswith("/>"):
                depth += 1
    return spans


def is_diagram(html: str, start: int) -> bool:
    """A Mermaid diagram, as opposed to an icon: marked on the tag or its container."""
    tag_end = html.find(">", start)
    context = html[max(0, start - 300) : tag_end]
    return any(marker in context for marker in _DIAGRAM_MARKERS)


def size_split(html: str) -> dict[str, int]:
    """Bytes of a self-contained page by kind; the kinds add up to ``total``.

    ``fonts`` and ``images`` are the data URIs wherever they sit (mostly inside CSS),
    ``css`` and ``js`` are the style and script bodies without them, ``diagrams`` the
    inline diagram SVGs, and ``text`` everything else: markup and prose.
    """

    def nbytes(text: str) -> int:
        return len(text.encode("utf-8"))

    split = dict.fromkeys(("text", "css", "js", "fonts", "images", "diagrams"), 0)
    for match in _DATA_URI.finditer(html):
        mime = match.group("mime")
        kind = (
            "fonts"
            if mime.startswith(("font/", "application/font", "application/x-font"))
            else "images"
        )
        split[kind] += len(match.group())
    data_free = _DATA_URI.sub("", html)
    split["css"] = sum(nbytes(m.group(1)) for m in _STYLE.finditer(data_free))
    split["js"] = sum(nbytes(m.group(1)) for m in _SCRIPT.finditer(data_free))
    split["diagrams"] = sum(
        nbytes(data_free[a:b]) for a, b in svg_elements(data_free) if is_diagram(data_free, a)
    )
    total = nbytes(html)
    split["text"] = total - sum(split.values())
    split["total"] = total
    return split


def strip_scripts(html: str) -> str:
    """*html* with every ``<script>`` element removed: the no-JavaScript lower bound."""
    return _SCRIPT.sub("", html)


# -- profiles --------------------------------------------------------------------------


def package_of(filename: str) -> str:
    """The top-level package a profiled function belongs to."""
    if filename.startswith(("~", "<")):
        return "(builtins)"
    path = Path(filename)
    parts = path.parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return parts[parts.index(marker) + 1].removesuffix(".py")
    if "sphinx_llmdoc" in parts:
        return "sphinx_llmdoc"
    if "lib" in parts and any(p.startswith("python3") for p in parts):
        return "(stdlib)"
    return path.name


def profile_by_package(profile: Path) -> dict[str, float]:
    """Own time (seconds) per top-level package in a cProfile dump."""
    stats = pstats.Stats(str(profile))
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[package_of(filename)] += tottime
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def top_functions(
    profile: Path | pstats.Stats, *, sort: str = "tottime", limit: int = 10, only: str | None = None
) -> list[dict[str, Any]]:
    """The heaviest functions of a profile, optionally only those whose file contains *only*."""
    stats = profile if isinstance(profile, pstats.Stats) else pstats.Stats(str(profile))
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if only and only not in filename:
            continue
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({name})",
                "package": package_of(filename),
                "calls": calls,
                "tottime": round(tottime, 4),
                "cumtime": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda row: -float(row[sort]))
    return rows[:limit]


def profile_call(function: Callable[[], object]) -> pstats.Stats:
    """cProfile one call."""
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    return pstats.Stats(profiler, stream=io.StringIO())
