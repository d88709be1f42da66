"""Build other people's Sphinx projects with and without ``sphinx_llmdoc``, and audit both.

Usage: ``python bench/real_projects.py [--only NAME]``. Each project's sdist is fetched
from PyPI by pinned version (``pip download --no-binary :all:``), unpacked under
``build/real/``, and its ``conf.py`` patched in that copy only: furo, no network
(intersphinx off), and for the second build ``sphinx_llmdoc`` appended to
``extensions``. Nothing of theirs is committed here.

For each project the report gives build times, collapse time, sizes, and what the
audit of ``sphinx_llmdoc.collapse`` finds before (the plain ``singlehtml`` page) and
after (the collapsed single file): fragments that go nowhere, duplicate ids, and
references to files or sites outside the page. Results go to
``build/real/results.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import measure
from measure import ROOT

from sphinx_llmdoc.collapse import audit, collapse, is_external

OUT = ROOT / "build" / "real"
SINGLE = "single.html"


@dataclass(frozen=True)
class Project:
    """One sdist on PyPI whose documentation we build."""

    name: str
    version: str
    docs: str
    """Folder of the Sphinx project inside the sdist."""
    markup: str
    python_path: tuple[str, ...] = ()
    """Folders of the sdist to import from (autodoc of the matching version)."""
    doc_requirements: tuple[str, ...] = ()
    """Their extra Sphinx extensions, pinned, installed with ``--no-deps`` to a side folder."""
    notes: tuple[str, ...] = field(default=())


PROJECTS = (
    Project(
        name="attrs",
        version="25.4.0",
        docs="docs",
        markup="MyST (Markdown), some reST",
        python_path=("src",),
        doc_requirements=(
            "sphinx-notfound-page==1.1.0",
            "sphinxcontrib-towncrier==0.5.0a0",
            "towncrier==25.8.0",
        ),
    ),
    Project(
        name="sphinx",
        version="9.0.4",
        docs="doc",
        markup="reStructuredText, 150+ documents",
        notes=("graphviz's `dot` is not installed here: its diagrams are warnings, not images",),
    ),
)

PATCH = """

# -- appended by sphinx-llmdoc's bench/real_projects.py ----------------------------------
import sys as _bench_sys
_bench_sys.path[:0] = {python_path!r}
if globals().get("html_theme") != "furo":
    html_theme_options = {{}}  # the previous theme's options mean nothing to furo
html_theme = "furo"
intersphinx_mapping = {{}}  # this machine is offline
nitpicky = False
{llmdoc}"""

LLMDOC = """extensions.append("sphinx_llmdoc")
llmdoc_singlefile_name = "{single}"
"""


def sdist(project: Project, cache: Path) -> Path:
    """The project's source distribution from PyPI, downloaded once."""
    pattern = re.compile(
        rf"(?i){re.sub(r'[-_.]+', '[-_.]', project.name)}-{re.escape(project.version)}\.tar\.gz"
    )
    cache.mkdir(parents=True, exist_ok=True)
    if not any(pattern.fullmatch(p.name) for p in cache.iterdir()):
        command = ["pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(cache)]
        subprocess.run(
            [sys.executable, "-m", *command, f"{project.name}=={project.version}"], check=True
        )
    return next(p for p in cache.iterdir() if pattern.fullmatch(p.name))


def requirements(project: Project, site: Path) -> None:
    """Install the project's own doc extensions, without dependencies, into *site*."""
    marker = site / f".{project.name}-installed"
    if not project.doc_requirements or marker.exists():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            *project.doc_requirements,
        ],
        check=True,
    )
    marker.write_text("\n".join(project.doc_requirements))


def unpack(archive: Path, dest: Path) -> Path:
    """A fresh copy of the sdist under *dest*; returns its top folder."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return next(p for p in dest.iterdir() if p.is_dir())


def patch_conf(top: Path, project: Project, variant: str) -> Path:
    """Patch the docs' conf.py in this unpacked copy for *variant* (``plain``/``llmdoc``)."""
    docs = top / project.docs
    python_path = [str(top / p) for p in project.python_path]
    llmdoc = LLMDOC.format(single=SINGLE) if variant == "llmdoc" else ""
    with (docs / "conf.py").open("a") as conf:
        conf.write(PATCH.format(python_path=python_path, llmdoc=llmdoc))
    return docs


def root_doc(outdir: Path) -> Path:
    """The page singlehtml wrote (``<root_doc>.html``)."""
    for name in ("index.html", "contents.html"):
        if (outdir / name).exists():
            return outdir / name
    pages = [p for p in outdir.glob("*.html") if p.name != SINGLE]
    return max(pages, key=lambda p: p.stat().st_size)


def summarise_audit(text: str) -> dict[str, Any]:
    """Counts per audit finding kind, outside references split into local files and sites."""
    findings = audit(text)
    kinds = Counter(f.kind for f in findings)
    outside = [f for f in findings if f.kind == "outside_resource"]
    remote = sorted({f.url or "" for f in outside if f.url and is_external(f.url)})
    return {
        "fragments": kinds["fragment"],
        "duplicate_ids": kinds["duplicate_id"],
        "outside_local": sum(1 for f in outside if not (f.url and is_external(f.url))),
        "outside_remote": len([f for f in outside if f.url and is_external(f.url)]),
        "remote_urls": remote[:20],
        "examples": [f.message for f in findings[:0]]
        + [f.message for f in findings if f.kind == "fragment"][:5]
        + [f.message for f in findings if f.kind == "duplicate_id"][:5],
    }


def llmdoc_warnings(log: str) -> dict[str, Any]:
    """Our warnings in a build log, by subtype, with a few examples."""
    lines = [line for line in log.splitlines() if "[llmdoc" in line]
    subtypes = Counter(m.group(1) for line in lines if (m := re.search(r"\[llmdoc\.(\w+)\]", line)))
    return {"count": len(lines), "by_subtype": dict(subtypes), "examples": lines[:8]}


def bench_project(project: Project, cache: Path, site: Path, reps: int) -> dict[str, Any]:
    """Build *project* plain and with sphinx_llmdoc, interleaved; audit both outputs."""
    work = OUT / project.name
    archive = sdist(project, cache)
    requirements(project, site)
    # one unpacked sdist per variant: conf.py files reach into their project by relative path
    tops = {variant: unpack(archive, work / f"sdist-{variant}") for variant in ("plain", "llmdoc")}
    sources = {variant: patch_conf(top, project, variant) for variant, top in tops.items()}
    top = tops["plain"]
    outdirs = {variant: work / f"out-{variant}" for variant in sources}
    env = {"PYTHONPATH": f"{ROOT}:{site}"}

    def build(variant: str) -> measure.BuildRun:
        print(f"{project.name}: {variant} build", flush=True)
        return measure.sphinx_build(sources[variant], outdirs[variant], env=env)

    runs = measure.alternate({v: (lambda v=v: build(v)) for v in sources}, reps)
    result: dict[str, Any] = {
        "project": f"{project.name}=={project.version}",
        "docs": project.docs,
        "markup": project.markup,
        "documents": sum(1 for p in (top / project.docs).rglob("*") if p.suffix in {".md", ".rst"}),
        "notes": list(project.notes),
    }
    for variant, variant_runs in runs.items():
        last = variant_runs[-1]
        result[f"build_{variant}"] = {
            "seconds": measure.summary([r.seconds for r in variant_runs]),
            "max_rss_mb": last.max_rss_mb,
            "returncode": last.returncode,
            "warnings": last.warnings,
        }
        if last.returncode != 0:
            result[f"build_{variant}"]["log"] = last.log[-3000:]
    result["build_ratio"] = measure.summary(
        measure.ratios([r.seconds for r in runs["plain"]], [r.seconds for r in runs["llmdoc"]])
    )
    result["llmdoc_warnings"] = llmdoc_warnings(runs["llmdoc"][-1].log)
    other = [
        line
        for line in runs["llmdoc"][-1].log.splitlines()
        if "WARNING" in line and "[llmdoc" not in line
    ]
    result["other_warnings_examples"] = other[:5]

    plain_page = root_doc(outdirs["plain"])
    result["before"] = summarise_audit(plain_page.read_text("utf-8"))
    result["before"]["page"] = plain_page.name
    result["before"]["bytes"] = plain_page.stat().st_size
    single = outdirs["llmdoc"] / SINGLE
    if single.exists():
        text = single.read_text("utf-8")
        result["after"] = summarise_audit(text)
        result["after"]["bytes"] = len(text.encode("utf-8"))
        result["after"]["split"] = measure.size_split(text)
        page = root_doc(outdirs["llmdoc"])
        times = measure.time_call(lambda: collapse(page), 3)
        result["collapse_s"] = measure.summary(times)
    else:
        result["after"] = {"error": f"{SINGLE} was not written"}
    result["outdirs"] = {k: str(v) for k, v in outdirs.items()}
    return result


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} KB"


def measure_span(stat: dict[str, Any]) -> str:
    return f"{stat['median']:.2f}x [{stat['min']:.2f}-{stat['max']:.2f}]"


def print_table(results: list[dict[str, Any]]) -> None:
    headers = ("", *(r["project"] for r in results))

    def row(label: str, values: list[str]) -> tuple[str, ...]:
        return (label, *values)

    def build(r: dict[str, Any], variant: str) -> str:
        data = r[f"build_{variant}"]
        failed = "" if data["returncode"] == 0 else f" (exit {data['returncode']})"
        return f"{data['seconds']['median']:.1f} s, {data['max_rss_mb']:.0f} MB{failed}"

    def audit_cell(r: dict[str, Any], when: str, key: str) -> str:
        return str(r[when].get(key, "-"))

    rows = [
        row("markup", [r["markup"] for r in results]),
        row("source documents", [str(r["documents"]) for r in results]),
        row("build plain singlehtml", [build(r, "plain") for r in results]),
        row("build with sphinx_llmdoc", [build(r, "llmdoc") for r in results]),
        row(
            "ratio (median [min-max])",
            [measure_span(r["build_ratio"]) for r in results],
        ),
        row(
            "collapse (in process)",
            [f"{r['collapse_s']['median']:.2f} s" if "collapse_s" in r else "-" for r in results],
        ),
        row(
            "warnings plain / llmdoc",
            [f"{r['build_plain']['warnings']} / {r['build_llmdoc']['warnings']}" for r in results],
        ),
        row(
            "  of which llmdoc.*",
            [
                ", ".join(f"{k} {v}" for k, v in r["llmdoc_warnings"]["by_subtype"].items()) or "0"
                for r in results
            ],
        ),
        row(
            "size: plain page / single file",
            [f"{kb(r['before']['bytes'])} / {kb(r['after'].get('bytes', 0))}" for r in results],
        ),
    ]
    for key, label in (
        ("fragments", "dangling fragments"),
        ("duplicate_ids", "duplicate ids"),
        ("outside_local", "outside refs: local files"),
        ("outside_remote", "outside refs: other sites"),
    ):
        rows.append(
            row(
                f"{label} before -> after",
                [
                    f"{audit_cell(r, 'before', key)} -> {audit_cell(r, 'after', key)}"
                    for r in results
                ],
            )
        )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    for r in [headers, *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    for r in results:
        for note in r["notes"]:
            print(f"  note ({r['project']}): {note}")
        for url in r["after"].get("remote_urls", []):
            print(f"  still remote in {r['project']} single file: {url}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="project name (repeatable)")
    parser.add_argument("--reps", type=int, default=1, help="builds per variant (default 1)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [
        bench_project(p, OUT / "sdists", OUT / "site", args.reps)
        for p in PROJECTS
        if not args.only or p.name in args.only
    ]
    path = OUT / "results.json"
    # keep earlier results of projects not rebuilt this time (``--only``)
    earlier = json.loads(path.read_text()) if path.exists() else []
    names = {r["project"] for r in results}
    results = [r for r in earlier if r["project"] not in names] + results
    path.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nwrote {OUT / 'results.json'} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
