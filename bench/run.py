"""Benchmark sphinx-llmdoc against a plain Sphinx ``singlehtml`` build, side by side.

Usage: ``nox -s bench`` (or ``python bench/run.py [--reps N] [--quick] ...``). Writes
``build/bench/results.json`` and prints a table. Every comparison is a ratio measured
in this run, with the variants interleaved, reported as median [min-max].

Figures, for the generated fixture book and for the flagship document under ``docs/``:
clean and incremental build time, peak memory, collapse time, output size by kind,
page load in headless Chromium against the same file without scripts, search latency
per keystroke, and Lighthouse scores. Where a goal is missed the runner profiles the
step and names what takes the time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import browser
import measure
from fixture import Book, write_book
from measure import ROOT, summary

GOALS = {
    "build_ratio": 1.3,
    "collapse_s": 0.5,
    "size_bytes": 2560 * 1024,
    "noscript_ratio": 1.3,
    "search_ms": 50.0,
    "lighthouse": 100,
}
FIXTURE_QUERY = "retry policy"
FLAGSHIP_QUERY = "streaming tokens"
TOUCHED_CHAPTER = 6
FLAGSHIP_IGNORE = shutil.ignore_patterns(
    "node_modules", ".pytest_cache", "__pycache__", "_build", ".next", ".venv", ".mypy_cache"
)


# -- diagrams --------------------------------------------------------------------------


def diagram_support() -> dict[str, Any]:
    """Whether sphinx-llmdoc renders diagrams yet, and how to empty its cache.

    The diagram feature lands separately; until it does, both variants leave Mermaid
    to the browser and there is no cold/warm difference to report.
    """
    if importlib.util.find_spec("sphinx_llmdoc.diagram") is None:
        return {"available": False, "reason": "sphinx_llmdoc.diagram is not there yet"}
    from sphinx_llmdoc import config as llmdoc_config

    source = Path(llmdoc_config.__file__).read_text()
    for module in ("diagram", "mermaid"):
        path = ROOT / "sphinx_llmdoc" / f"{module}.py"
        if path.exists():
            source += path.read_text()
    names = sorted(set(re.findall(r'"(llmdoc_(?:diagram|mermaid)\w*cache\w*)"', source)))
    return {"available": True, "cache_options": names}


def cold_args(scratch: Path, support: dict[str, Any]) -> list[str]:
    """``-D`` overrides pointing the diagram cache at an empty directory."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    return [arg for name in support.get("cache_options", []) for arg in ("-D", f"{name}={scratch}")]


# -- builds ----------------------------------------------------------------------------


def bench_fixture_builds(
    book: Book, out: Path, reps: int, support: dict[str, Any]
) -> dict[str, Any]:
    """Clean (warm and cold diagram cache) and incremental builds, plain against llmdoc."""
    dirs = {variant: out / "fixture-out" / variant for variant in book.confdirs}

    def build(variant: str, *, clean: bool = True, args: tuple[str, ...] = ()) -> measure.BuildRun:
        run = measure.sphinx_build(
            book.source, dirs[variant], confdir=book.confdirs[variant], clean=clean, args=args
        )
        if run.returncode != 0:
            raise SystemExit(f"{variant} build failed:\n{run.log[-3000:]}")
        return run

    print("fixture: warm-up builds (fill OS and diagram caches)", flush=True)
    warmup = {variant: build(variant) for variant in dirs}

    result: dict[str, Any] = {"warmup": {k: v.as_dict() for k, v in warmup.items()}}
    print(f"fixture: {reps} clean builds of each variant, interleaved", flush=True)
    clean = measure.alternate({v: (lambda v=v: build(v)) for v in dirs}, reps)
    result["clean"] = compare(clean)

    if support["available"]:
        cold_reps = max(2, reps // 2)
        print(f"fixture: {cold_reps} clean builds with an empty diagram cache", flush=True)
        scratch = out / "diagram-cache-cold"
        cold = measure.alternate(
            {
                "plain": lambda: build("plain"),
                "llmdoc": lambda: build("llmdoc", args=tuple(cold_args(scratch, support))),
            },
            cold_reps,
        )
        result["clean_cold_diagrams"] = compare(cold)
        # what rendering costs: the same llmdoc build, cold minus warm
        result["diagram_render_s"] = (
            result["clean_cold_diagrams"]["seconds"]["llmdoc"]["median"]
            - result["clean"]["seconds"]["llmdoc"]["median"]
        )
    else:
        result["clean_cold_diagrams"] = {"available": False, "reason": support["reason"]}

    build("plain")
    build("llmdoc")  # leave full outputs behind for the incremental runs
    chapter = book.chapters[TOUCHED_CHAPTER - 1]
    incremental_reps = min(reps, 3)
    print(
        f"fixture: {incremental_reps} incremental builds after touching {chapter.name}", flush=True
    )
    incremental: dict[str, list[measure.BuildRun]] = {v: [] for v in dirs}
    for rep in range(incremental_reps):
        os.utime(chapter)  # newer than either environment's last read
        for variant in list(dirs) if rep % 2 == 0 else reversed(list(dirs)):
            incremental[variant].append(build(variant, clean=False))
    result["incremental"] = compare(incremental)
    result["outdirs"] = {k: str(v) for k, v in dirs.items()}
    return result


def compare(runs: dict[str, list[measure.BuildRun]]) -> dict[str, Any]:
    """Seconds and peak memory per variant, and llmdoc/plain ratios per repetition."""
    seconds = {v: [r.seconds for r in rs] for v, rs in runs.items()}
    memory = {v: [r.max_rss_mb for r in rs] for v, rs in runs.items()}
    return {
        "seconds": {v: summary(s) for v, s in seconds.items()},
        "max_rss_mb": {v: summary(m) for v, m in memory.items()},
        "warnings": {v: rs[-1].warnings for v, rs in runs.items()},
        "ratio": summary(measure.ratios(seconds["plain"], seconds["llmdoc"])),
        "memory_ratio": summary(measure.ratios(memory["plain"], memory["llmdoc"])),
    }


def profile_builds(book: Book, out: Path) -> dict[str, Any]:
    """cProfile one clean build of each variant; own time per package and the difference."""
    profiles = {}
    for variant, confdir in book.confdirs.items():
        path = out / f"profile-build-{variant}.prof"
        measure.sphinx_build(
            book.source, out / "profile-out" / variant, confdir=confdir, profile=path
        )
        profiles[variant] = measure.profile_by_package(path)
    packages = set(profiles["plain"]) | set(profiles["llmdoc"])
    delta = {p: profiles["llmdoc"].get(p, 0.0) - profiles["plain"].get(p, 0.0) for p in packages}
    ranked = sorted(delta.items(), key=lambda item: -item[1])[:8]
    return {
        "extra_seconds_by_package": [{"package": p, "seconds": round(s, 3)} for p, s in ranked],
        "sphinx_llmdoc_functions": measure.top_functions(
            out / "profile-build-llmdoc.prof", sort="cumtime", limit=10, only="sphinx_llmdoc"
        ),
    }


#: Features a build can switch off with ``-D``, to measure what each one costs.
ABLATIONS = {"llmdoc_fonts": "0"}


def ablate_builds(book: Book, out: Path, reps: int) -> list[dict[str, Any]]:
    """llmdoc builds with and without each costly feature, interleaved: the time it adds."""
    source = "".join(p.read_text() for p in (ROOT / "sphinx_llmdoc").glob("*.py"))
    outdir = out / "ablation-out"
    confdir = book.confdirs["llmdoc"]
    found = []
    for name, value in ABLATIONS.items():
        if f'"{name}"' not in source:
            continue
        runs = measure.alternate(
            {
                "on": lambda: measure.sphinx_build(book.source, outdir, confdir=confdir),
                "off": lambda name=name, value=value: measure.sphinx_build(
                    book.source, outdir, confdir=confdir, args=("-D", f"{name}={value}")
                ),
            },
            reps,
        )
        on, off = ([r.seconds for r in runs[k]] for k in ("on", "off"))
        found.append(
            {
                "option": f"{name}={value}",
                "seconds_on": measure.summary(on),
                "seconds_off": measure.summary(off),
                "saves_s": measure.summary([a - b for a, b in zip(on, off, strict=True)]),
            }
        )
    return found


# -- collapse and sizes ------------------------------------------------------------------


def bench_collapse(page: Path, reps: int, *, goal: float | None) -> dict[str, Any]:
    """Time ``collapse`` on the written page, in this process; profile it if over *goal*."""
    from sphinx_llmdoc.collapse import collapse

    collapse(page)  # warm imports and the file cache
    times = measure.time_call(lambda: collapse(page), reps)
    result: dict[str, Any] = {"seconds": summary(times), "page_bytes": page.stat().st_size}
    if goal is not None and result["seconds"]["median"] > goal:
        stats = measure.profile_call(lambda: collapse(page))
        result["profile"] = measure.top_functions(stats, sort="tottime", limit=10)
    return result


def bench_sizes(single: Path, plain_page: Path | None) -> dict[str, Any]:
    """The single file by kind, and the plain build's page plus the local files it loads."""
    from sphinx_llmdoc.collapse import collapse

    result: dict[str, Any] = {"llmdoc": measure.size_split(single.read_text("utf-8"))}
    if plain_page is not None:
        collapsed = collapse(plain_page)
        split = measure.size_split(collapsed.html)
        split["outside_resources"] = sorted(
            {
                f.url or ""
                for f in collapsed.findings
                if f.kind == "outside_resource" and f.url and "://" in f.url
            }
        )
        split["page_bytes"] = plain_page.stat().st_size
        result["plain"] = split
    return result


# -- browser ---------------------------------------------------------------------------


def bench_page(single: Path, samples: int, query: str, *, search_goal: bool) -> dict[str, Any]:
    """Page load of *single* against itself without scripts; search latency."""
    noscript = single.with_name(f"{single.stem}.noscript.html")
    html = single.read_text("utf-8")
    noscript.write_text(measure.strip_scripts(html), "utf-8")
    labels = browser.script_labels(html)
    urls = {"full": single.resolve().as_uri(), "noscript": noscript.resolve().as_uri()}
    result: dict[str, Any] = {}
    with browser.browser() as instance:
        instance.new_context().close()  # first context pays one-off start-up costs
        runs = measure.alternate(
            {k: (lambda u=u: browser.page_load(instance, u)) for k, u in urls.items()}, samples
        )
        for key in ("dcl_ms", "load_ms", "fcp_ms"):
            full = [r[key] for r in runs["full"] if r[key] is not None]
            bare = [r[key] for r in runs["noscript"] if r[key] is not None]
            result[key] = {"full": summary(full), "noscript": summary(bare)}
            if len(full) == len(bare):
                result[key]["ratio"] = summary(measure.ratios(bare, full))
        for key in ("cls", "longest_task_after_load_ms", "longest_task_ms", "dom_nodes"):
            result[key] = {k: summary([r[key] for r in rs]) for k, rs in runs.items()}
        result["chromium_ms"] = {
            k: {
                m: summary([r["chromium_ms"].get(m, 0.0) for r in rs]) for m in rs[0]["chromium_ms"]
            }
            for k, rs in runs.items()
        }
        ratio = result["load_ms"].get("ratio", {}).get("median", 0)
        if ratio > GOALS["noscript_ratio"]:
            result["cpu_profile"] = browser.page_load(
                instance, urls["full"], cpu_profile=True, labels=labels
            )["cpu_profile"]
        search = browser.search_latency(instance, urls["full"], query)
        if search.get("latencies_ms"):
            search["summary"] = summary(search["latencies_ms"])
            if search_goal and search["summary"]["max"] > GOALS["search_ms"]:
                search["profile"] = browser.search_profile(
                    instance, urls["full"], search["selector"], query, labels
                )
        result["search"] = search
    return result


# -- flagship --------------------------------------------------------------------------


def flagship_names(confpy: Path) -> tuple[str, str]:
    """The root document and the single file's name, read from the flagship's conf.py."""
    text = confpy.read_text()
    root = re.search(r"""^root_doc\s*=\s*["']([^"']+)""", text, re.M)
    name = re.search(r"""^llmdoc_singlefile_name\s*=\s*["']([^"']+)""", text, re.M)
    root_doc = root.group(1) if root else "index"
    return root_doc, name.group(1) if name else f"{root_doc}-single.html"


def bench_flagship(out: Path, reps: int, support: dict[str, Any]) -> dict[str, Any]:
    """Build the flagship from a copy of ``docs/`` (so touching and cache-emptying are safe)."""
    source = out / "flagship-src"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(ROOT / "docs", source, ignore=FLAGSHIP_IGNORE)
    outdir = out / "flagship-out"
    root_doc, name = flagship_names(source / "conf.py")
    result: dict[str, Any] = {"single_file": name}

    def build(*, clean: bool = True, args: tuple[str, ...] = ()) -> measure.BuildRun:
        return measure.sphinx_build(source, outdir, clean=clean, args=args)

    print("flagship: warm-up build", flush=True)
    first = build()
    result["warmup"] = first.as_dict()
    if first.returncode != 0 or not (outdir / name).exists():
        result["error"] = f"flagship build failed (exit {first.returncode})"
        return result
    clean_reps = max(2, reps // 2)
    print(f"flagship: {clean_reps} clean builds", flush=True)
    runs = [build() for _ in range(clean_reps)]
    result["clean"] = {
        "seconds": summary([r.seconds for r in runs]),
        "max_rss_mb": summary([r.max_rss_mb for r in runs]),
        "warnings": runs[-1].warnings,
    }
    if support["available"]:
        print("flagship: clean build with an empty diagram cache", flush=True)
        cold = build(args=tuple(cold_args(out / "flagship-cold-cache", support)))
        result["clean_cold_diagrams"] = {"seconds": cold.seconds, "max_rss_mb": cold.max_rss_mb}
        build()
    chapters = sorted((source / "chapters").glob("*.md")) or sorted(source.glob("*.md"))
    if chapters:
        chapter = chapters[min(len(chapters) - 1, TOUCHED_CHAPTER - 1)]
        incremental = []
        for _ in range(clean_reps):
            os.utime(chapter)
            incremental.append(build(clean=False))
        result["incremental"] = {
            "touched": chapter.name,
            "seconds": summary([r.seconds for r in incremental]),
        }
    result["collapse"] = bench_collapse(outdir / f"{root_doc}.html", reps, goal=GOALS["collapse_s"])
    result["size"] = bench_sizes(outdir / name, None)
    result["path"] = str(outdir / name)
    return result


# -- report ----------------------------------------------------------------------------


def span(stat: dict[str, Any], unit: str = "", scale: float = 1.0, digits: int = 2) -> str:
    """``median [min-max]`` of a summary."""
    if not stat or not stat.get("n"):
        return "n/a"
    fmt = f"{{:.{digits}f}}"
    med, low, high = (fmt.format(stat[k] * scale) for k in ("median", "min", "max"))
    return f"{med}{unit} [{low}-{high}]"


def verdict(value: float | None, goal: float, *, higher_is_better: bool = False) -> str:
    if value is None:
        return "?"
    met = value >= goal if higher_is_better else value <= goal
    return "met" if met else "MISSED"


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of the issue, the figure it is judged on, and whether it is met."""
    goals = []

    def add(name: str, value: float | None, goal: float, unit: str, higher: bool = False) -> None:
        goals.append(
            {
                "goal": name,
                "value": value,
                "target": goal,
                "unit": unit,
                "status": verdict(value, goal, higher_is_better=higher),
            }
        )

    fixture = results["fixture"]
    add(
        "fixture clean build ratio, warm diagram cache (median)",
        fixture["builds"]["clean"]["ratio"].get("median"),
        GOALS["build_ratio"],
        "x",
    )
    for doc in ("fixture", "flagship"):
        page = results.get(doc, {}).get("page")
        if page and "ratio" in page.get("load_ms", {}):
            add(
                f"{doc} load / no-script load (median)",
                page["load_ms"]["ratio"]["median"],
                GOALS["noscript_ratio"],
                "x",
            )
    flagship = results.get("flagship")
    if flagship and "collapse" in flagship:
        add(
            "flagship collapse time (median)",
            flagship["collapse"]["seconds"]["median"],
            GOALS["collapse_s"],
            "s",
        )
        add(
            "flagship single-file size",
            flagship["size"]["llmdoc"]["total"],
            GOALS["size_bytes"],
            "bytes",
        )
        search = flagship.get("page", {}).get("search", {})
        add(
            "flagship search latency per keystroke (max)",
            search.get("summary", {}).get("max"),
            GOALS["search_ms"],
            "ms",
        )
    for run in results.get("lighthouse", {}).get("runs", []):
        for name, score in run.get("scores", {}).items():
            add(
                f"lighthouse {name} ({run['form_factor']})",
                score,
                GOALS["lighthouse"],
                "",
                higher=True,
            )
    return goals


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB"


def print_table(results: dict[str, Any]) -> None:
    """The readable summary of ``results.json``."""
    meta = results["meta"]
    book = results["fixture"]["book"]
    print()
    print(
        f"sphinx-llmdoc benchmark  ({meta['python']}, Sphinx {meta['sphinx']}, "
        f"{meta['cpus']} CPUs, load {meta['loadavg']}, {meta['reps']} reps)"
    )
    print(
        f"fixture: {book['words']:,} words, {book['chapters']} chapters, {book['code_blocks']} "
        f"code blocks in {book['languages']} languages, {book['diagrams']} diagrams"
    )
    rows: list[tuple[str, str, str, str]] = []
    builds = results["fixture"]["builds"]

    def build_row(label: str, data: dict[str, Any]) -> None:
        if data.get("available") is False:
            rows.append((label, "-", "-", f"not measured: {data['reason']}"))
            return
        rows.append(
            (
                label,
                span(data["seconds"]["plain"], " s"),
                span(data["seconds"]["llmdoc"], " s"),
                span(data["ratio"], "x"),
            )
        )

    build_row("clean build, warm diagram cache", builds["clean"])
    build_row("clean build, cold diagram render", builds["clean_cold_diagrams"])
    if "diagram_render_s" in builds:
        render = f"{builds['diagram_render_s']:.2f} s"
        rows.append(("  of which diagram rendering", "-", render, "cold median - warm median"))
    build_row("incremental, 1 chapter touched", builds["incremental"])
    clean = builds["clean"]
    rows.append(
        (
            "peak memory (clean build)",
            span(clean["max_rss_mb"]["plain"], " MB", digits=0),
            span(clean["max_rss_mb"]["llmdoc"], " MB", digits=0),
            span(clean["memory_ratio"], "x"),
        )
    )
    rows.append(
        ("build warnings", str(clean["warnings"]["plain"]), str(clean["warnings"]["llmdoc"]), "")
    )
    rows.append(
        ("collapse (in process)", "-", span(results["fixture"]["collapse"]["seconds"], " s"), "")
    )
    sizes = results["fixture"]["size"]
    for kind in ("total", "text", "css", "js", "fonts", "images", "diagrams"):
        rows.append((f"size: {kind}", kb(sizes["plain"][kind]), kb(sizes["llmdoc"][kind]), ""))
    outside = sizes["plain"].get("outside_resources", [])
    if outside:
        rows.append(("plain page still loads", "; ".join(outside)[:60], "", ""))
    _print_rows("fixture book", ("plain", "sphinx_llmdoc", "ratio llmdoc/plain"), rows)

    for doc in ("fixture", "flagship"):
        page = results.get(doc, {}).get("page")
        if not page:
            continue
        if "error" in page:
            print(f"\n{doc} page load: {page['error']}")
            continue
        rows = []
        for key, label in (
            ("dcl_ms", "DOMContentLoaded"),
            ("load_ms", "load"),
            ("fcp_ms", "first contentful paint"),
        ):
            rows.append(
                (
                    label,
                    span(page[key]["noscript"], " ms", digits=0),
                    span(page[key]["full"], " ms", digits=0),
                    span(page[key].get("ratio", {}), "x"),
                )
            )
        for key, label, digits in (
            ("cls", "CLS", 3),
            ("longest_task_after_load_ms", "longest task after load", 0),
            ("longest_task_ms", "longest task (whole load)", 0),
        ):
            rows.append(
                (
                    label,
                    span(page[key]["noscript"], digits=digits),
                    span(page[key]["full"], digits=digits),
                    "",
                )
            )
        for metric in ("script", "layout", "recalcstyle", "task"):
            rows.append(
                (
                    f"chromium {metric} time",
                    span(page["chromium_ms"]["noscript"][metric], " ms", digits=0),
                    span(page["chromium_ms"]["full"][metric], " ms", digits=0),
                    "",
                )
            )
        search = page["search"]
        if search.get("available"):
            rows.append(
                (
                    f"search per keystroke ({search['query']!r})",
                    "-",
                    span(search.get("summary", {}), " ms", digits=1),
                    f"{search['rendered']}/{search['keystrokes']} keystrokes rendered",
                )
            )
        else:
            rows.append(("search per keystroke", "-", "not available", search.get("reason", "")))
        _print_rows(
            f"{doc}: page load from file:// ({results['meta']['samples']} fresh contexts)",
            ("no <script>", "single file", "ratio full/no-script"),
            rows,
        )

    flagship = results.get("flagship")
    if flagship is None:
        print(f"\nflagship: skipped ({results['meta'].get('flagship_skipped', '')})")
    elif "error" in flagship:
        print(f"\nflagship: {flagship['error']}")
    else:
        rows = [("clean build", span(flagship["clean"]["seconds"], " s"), "", "")]
        if "clean_cold_diagrams" in flagship:
            rows.append(
                (
                    "clean build, cold diagram render",
                    f"{flagship['clean_cold_diagrams']['seconds']:.2f} s",
                    "",
                    "",
                )
            )
        if "incremental" in flagship:
            rows.append(
                (
                    f"incremental ({flagship['incremental']['touched']})",
                    span(flagship["incremental"]["seconds"], " s"),
                    "",
                    "",
                )
            )
        rows.append(("peak memory", span(flagship["clean"]["max_rss_mb"], " MB", digits=0), "", ""))
        rows.append(("build warnings", str(flagship["clean"]["warnings"]), "", ""))
        rows.append(("collapse", span(flagship["collapse"]["seconds"], " s"), "", ""))
        for kind in ("total", "text", "css", "js", "fonts", "images", "diagrams"):
            rows.append((f"size: {kind}", kb(flagship["size"]["llmdoc"][kind]), "", ""))
        _print_rows(f"flagship ({flagship['single_file']})", ("sphinx_llmdoc", "", ""), rows)

    lighthouse = results.get("lighthouse", {})
    print()
    if lighthouse.get("available"):
        for run in lighthouse["runs"]:
            if not run["available"]:
                print(f"lighthouse: {run['reason']}")
                continue
            scores = ", ".join(f"{k} {v}" for k, v in run["scores"].items())
            print(
                f"lighthouse {run['version']} on the {lighthouse['target']} file over "
                f"http://127.0.0.1 ({run['form_factor']}): {scores}"
            )
            for item in run.get("failing_audits", []):
                print(
                    f"    {item['score']:<4} {item['id']}: {item['title']}"
                    + (f" ({item['detail']})" if item["detail"] else "")
                )
    else:
        print(f"lighthouse: not run: {lighthouse.get('reason', 'skipped')}")

    print("\ngoals")
    for goal in results["goals"]:
        value, unit = goal["value"], goal["unit"]
        if unit == "bytes":
            shown = "n/a" if value is None else kb(value)
            target = kb(goal["target"])
        else:
            shown = "n/a" if value is None else f"{value:,.3g}{unit}"
            target = f"{goal['target']}{unit}"
        relation = ">=" if unit == "" else "<="
        print(f"  {goal['status']:<7} {goal['goal']}: {shown} (goal {relation} {target})")
    for cause in results.get("causes", []):
        print(f"  cause: {cause}")


def _print_rows(
    title: str, headers: tuple[str, str, str], rows: list[tuple[str, str, str, str]]
) -> None:
    widths = [max(len(r[i]) for r in [("", *headers), *rows]) for i in range(4)]
    print(f"\n{title}")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(("", *headers), widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def name_causes(results: dict[str, Any]) -> list[str]:
    """One line per missed goal, from the profiles taken for it."""
    causes = []
    profile = results["fixture"].get("build_profile")
    if profile:
        top = ", ".join(
            f"{p['package']} +{p['seconds']:.2f} s" for p in profile["extra_seconds_by_package"][:4]
        )
        causes.append(f"build ratio: extra own time by package under cProfile: {top}")
        for item in profile.get("ablations", []):
            causes.append(
                f"build ratio: -D {item['option']} saves {item['saves_s']['median']:.2f} s of "
                f"{item['seconds_on']['median']:.2f} s per clean llmdoc build"
            )
    for doc in ("fixture", "flagship"):
        data = results.get(doc, {})
        if "profile" in data.get("collapse", {}):
            top = ", ".join(
                f"{p['function']} {p['tottime']:.3f} s" for p in data["collapse"]["profile"][:3]
            )
            causes.append(f"{doc} collapse: {top}")
        page = data.get("page", {})
        if "cpu_profile" in page:
            full, bare = page["chromium_ms"]["full"], page["chromium_ms"]["noscript"]
            extra = {m: full[m]["median"] - bare[m]["median"] for m in full}
            parts = ", ".join(
                f"{m} +{v:.0f} ms" for m, v in sorted(extra.items(), key=lambda i: -i[1])
            )
            top = ", ".join(f"{p['function']} {p['self_ms']} ms" for p in page["cpu_profile"][:4])
            causes.append(f"{doc} page load vs no-script: {parts}; hottest JS: {top}")
        if page.get("search", {}).get("profile"):
            top = ", ".join(
                f"{p['function']} {p['self_ms']} ms" for p in page["search"]["profile"][:4]
            )
            causes.append(f"{doc} search: hottest JS while typing: {top}")
    return causes


# -- main ------------------------------------------------------------------------------


def meta(reps: int, samples: int) -> dict[str, Any]:
    import sphinx

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    chromium = ""
    if browser.CHROMIUM.exists():
        chromium = subprocess.run(
            [str(browser.CHROMIUM), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return {
        "python": f"Python {platform.python_version()}",
        "sphinx": sphinx.__version__,
        "cpus": os.cpu_count(),
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "commit": commit,
        "chromium": chromium,
        "reps": reps,
        "samples": samples,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4, help="repetitions per timing (default 4)")
    parser.add_argument("--samples", type=int, default=7, help="fresh browser contexts per page")
    parser.add_argument("--quick", action="store_true", help="3 reps, 3 samples, no lighthouse")
    parser.add_argument("--no-browser", action="store_true", help="skip page load and search")
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--no-flagship", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.samples, args.no_lighthouse = 3, 3, True
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    results: dict[str, Any] = {"meta": meta(args.reps, args.samples), "goals_config": GOALS}
    support = diagram_support()
    results["diagrams"] = support
    book = write_book(out / "fixture")
    fixture: dict[str, Any] = {
        "book": {
            "words": book.words,
            "chapters": len(book.chapters),
            "code_blocks": book.code_blocks,
            "languages": book.languages,
            "diagrams": book.diagrams,
        }
    }
    results["fixture"] = fixture
    fixture["builds"] = bench_fixture_builds(book, out, args.reps, support)
    outdirs = {k: Path(v) for k, v in fixture["builds"]["outdirs"].items()}
    fixture["collapse"] = bench_collapse(outdirs["llmdoc"] / "index.html", args.reps, goal=None)
    fixture["size"] = bench_sizes(outdirs["llmdoc"] / "book.html", outdirs["plain"] / "index.html")
    if fixture["builds"]["clean"]["ratio"]["median"] > GOALS["build_ratio"]:
        print("fixture: build ratio over goal; profiling both variants", flush=True)
        fixture["build_profile"] = profile_builds(book, out)
        fixture["build_profile"]["ablations"] = ablate_builds(book, out, 2)

    if args.no_flagship:
        results["meta"]["flagship_skipped"] = "--no-flagship"
    elif not (ROOT / "docs" / "conf.py").exists():
        results["meta"]["flagship_skipped"] = "docs/conf.py does not exist"
    else:
        results["flagship"] = bench_flagship(out, args.reps, support)

    why_not = browser.available() if not args.no_browser else "--no-browser"
    targets = {"fixture": (outdirs["llmdoc"] / "book.html", FIXTURE_QUERY, False)}
    flagship = results.get("flagship", {})
    if "path" in flagship:
        targets["flagship"] = (Path(flagship["path"]), FLAGSHIP_QUERY, True)
    for doc, (single, query, search_goal) in targets.items():
        if why_not:
            results[doc]["page"] = {"error": f"not measured: {why_not}"}
            continue
        print(f"{doc}: page load, {args.samples} fresh contexts each", flush=True)
        results[doc]["page"] = bench_page(single, args.samples, query, search_goal=search_goal)

    if args.no_lighthouse or why_not:
        results["lighthouse"] = {
            "available": False,
            "reason": "--no-lighthouse" if args.no_lighthouse else why_not,
        }
    else:
        doc = "flagship" if "flagship" in targets else "fixture"
        print(f"lighthouse on the {doc} file", flush=True)
        runs = [
            browser.lighthouse(targets[doc][0], out / "lighthouse", preset=preset)
            for preset in (None, "desktop")
        ]
        results["lighthouse"] = {
            "available": any(r["available"] for r in runs),
            "target": doc,
            "runs": runs,
            "reason": "; ".join(r.get("reason", "") for r in runs),
        }

    results["goals"] = evaluate_goals(results)
    results["causes"] = name_causes(results)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_table(results)
    print(f"\nwrote {out / 'results.json'} in {results['meta']['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
