"""The pure Mermaid renderer: keys, id prefixing, the cache, installing, the CLI.

Tests marked ``browser`` render with the real pinned Mermaid in Debian's Chromium;
they skip, saying why, where Chromium, Playwright or npm is missing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sphinx_llmdoc import mermaid
from sphinx_llmdoc.mermaid import DiagramCache, Job, Rendered

if TYPE_CHECKING:
    from playwright.sync_api import Page

ID = re.compile(r'(?<=\s)id="([^"]+)"')
HERE = Path(__file__).parent
AXE = HERE / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = HERE.parent / "build" / "screenshots"

#: Shaped like Mermaid's output: some ids prefixed with the render id, some not, one
#: repeated, one from a counter, references by url(), href, aria and CSS.
RAW = (
    '<svg id="{p}" width="100%" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" '
    'role="graphics-document document" aria-roledescription="flowchart-v2" '
    'aria-labelledby="chart-title-{p}">'
    '<title id="chart-title-{p}">T</title>'
    "<style>#{p}{{fill:#333;}}#{p} .edge{{stroke:#ECECFF;}}#L_A_B_0{{fill:none;}}</style>"
    '<defs><marker id="{p}_flowchart-v2-pointEnd"><path d="M0 0"/></marker></defs>'
    '<g id="{p}-classId-Conversation-{n}"><path id="L_A_B_0" '
    'marker-end="url(#{p}_flowchart-v2-pointEnd)"/></g>'
    '<g id="L_A_B_0" data-id="L_A_B_0"><use href="#L_A_B_0"/></g></svg>'
)


def raw_svg(prefix: str, counter: int = 0) -> str:
    return RAW.format(p=prefix, n=counter)


# -- keys and post-processing ---------------------------------------------------------


def test_cache_key_covers_source_theme_and_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    key = mermaid.cache_key("graph LR\n A-->B\n", "light")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == mermaid.cache_key("graph LR\n A-->B\n", "light")
    assert key != mermaid.cache_key("graph LR\n A-->C\n", "light")
    assert key != mermaid.cache_key("graph LR\n A-->B\n", "dark")
    monkeypatch.setattr(mermaid, "MERMAID_VERSION", "0.0.1")
    assert key != mermaid.cache_key("graph LR\n A-->B\n", "light")
    monkeypatch.undo()
    monkeypatch.setattr(mermaid, "RENDERER_VERSION", "999")
    assert key != mermaid.cache_key("graph LR\n A-->B\n", "light")


def test_job_prefix_and_settings() -> None:
    job = Job("pie\n", "dark")
    assert job.prefix == f"mermaid-{job.key[:12]}"
    assert job.settings["deterministicIDSeed"] == job.prefix
    assert job.settings["theme"] == "base"
    assert job.settings["securityLevel"] == "strict"
    assert Job("pie\n", "light").settings["theme"] == "default"


def test_prefix_ids_prefixes_all_and_keeps_references() -> None:
    prefix = "mermaid-abc123abc123"
    svg = mermaid.prefix_ids(raw_svg(prefix), prefix)
    ids = ID.findall(svg)
    assert all(i == prefix or i.startswith(f"{prefix}-") for i in ids), ids
    assert len(ids) == len(set(ids))
    assert f'id="{prefix}-L_A_B_0"' in svg
    assert f'id="{prefix}-L_A_B_0-2"' in svg  # the repeated id
    assert f'marker-end="url(#{prefix}-flowchart-v2-pointEnd)"' in svg
    assert f'id="{prefix}-flowchart-v2-pointEnd"' in svg
    assert f'href="#{prefix}-L_A_B_0"' in svg
    title = re.search(r'<title id="([^"]+)"', svg)
    assert title is not None
    assert title[1].startswith(f"{prefix}-chart-title-")
    assert f'aria-labelledby="{title[1]}"' in svg
    assert f"#{prefix}-L_A_B_0{{fill:none;}}" in svg
    assert f"#{prefix}{{fill:#333;}}" in svg
    assert "stroke:#ECECFF" in svg  # colours are not ids
    assert 'data-id="L_A_B_0"' in svg  # data attributes are not ids


def test_prefix_ids_does_not_depend_on_counters_from_earlier_renders() -> None:
    prefix = "mermaid-abc123abc123"
    first = mermaid.prefix_ids(raw_svg(prefix, counter=0), prefix)
    later = mermaid.prefix_ids(raw_svg(prefix, counter=17), prefix)
    assert first == later
    iconify = '<svg id="{p}"><path id="{p}-IconifyId1a20f99d665a594bc{n}"/></svg>'
    assert mermaid.prefix_ids(iconify.format(p=prefix, n=0), prefix) == mermaid.prefix_ids(
        iconify.replace("99d665a594", "9e8acd4aa3").format(p=prefix, n=4), prefix
    )


def test_finish_svg_trims_and_ends_with_one_newline() -> None:
    prefix = "mermaid-abc123abc123"
    once = mermaid.finish_svg("\n" + raw_svg(prefix) + "  \n", prefix)
    assert once.startswith("<svg ")
    assert once.endswith("</svg>\n")
    assert once == mermaid.finish_svg(raw_svg(prefix), prefix)


def test_inline_svg_makes_an_image_with_a_name() -> None:
    prefix = "mermaid-abc123abc123"
    svg = mermaid.finish_svg(raw_svg(prefix), prefix)
    inline = mermaid.inline_svg(svg, 'Client -> "API" & <model>')
    opening = re.match(r"<svg\b[^>]*>", inline)
    assert opening is not None
    assert 'role="img"' in opening[0]
    assert 'aria-label="Client -&gt; &quot;API&quot; &amp; &lt;model&gt;"' in opening[0]
    assert "graphics-document" not in opening[0]
    assert "aria-roledescription" not in opening[0]
    assert inline.count('role="img"') == 1


def test_inline_svg_repeat_gets_its_own_ids() -> None:
    prefix = "mermaid-abc123abc123"
    svg = mermaid.finish_svg(raw_svg(prefix), prefix)
    first = mermaid.inline_svg(svg, "a")
    second = mermaid.inline_svg(svg, "a", instance=2)
    first_ids, second_ids = set(ID.findall(first)), set(ID.findall(second))
    assert not first_ids & second_ids
    assert all(i.startswith(f"{prefix}-2") for i in second_ids)
    assert f"url(#{prefix}-2-flowchart-v2-pointEnd)" in second


# -- rendering through a renderer -----------------------------------------------------


def test_render_batch_dedupes_finishes_and_keeps_errors() -> None:
    seen: list[Sequence[Job]] = []

    def renderer(jobs: Sequence[Job]) -> list[Rendered]:
        seen.append(jobs)
        return [
            Rendered(job, error="Parse error on line 1")
            if "bad" in job.source
            else Rendered(job, svg=raw_svg(job.prefix))
            for job in jobs
        ]

    good, bad = Job("graph LR\n", "light"), Job("bad\n", "dark")
    results = mermaid.render_batch([good, bad, good], renderer)
    assert len(seen) == 1
    assert [job.key for job in seen[0]] == [good.key, bad.key]
    assert results[0].svg.startswith(f'<svg id="{good.prefix}"')
    assert all(i.startswith(good.prefix) for i in ID.findall(results[0].svg))
    assert results[1] == Rendered(bad, error="Parse error on line 1")


def test_render_batch_reports_empty_output_as_error() -> None:
    job = Job("graph LR\n", "light")
    results = mermaid.render_batch([job], lambda jobs: [Rendered(j) for j in jobs])
    assert results == [Rendered(job, error="Mermaid produced no SVG")]


# -- the cache ------------------------------------------------------------------------


def test_cache_put_get_stale_and_prune(tmp_path: Path) -> None:
    cache = DiagramCache(tmp_path / "_diagrams")
    assert cache.keys() == set()
    a, b = "a" * 64, "b" * 64
    cache.put(a, "<svg>a</svg>\n")
    cache.put(b, "<svg>b</svg>\n")
    (cache.folder / "README.md").write_text("kept", encoding="utf-8")
    (cache.folder / "notakey.svg").write_text("kept", encoding="utf-8")
    assert a in cache
    assert cache.get(a) == "<svg>a</svg>\n"
    assert cache.get("c" * 64) is None
    assert cache.keys() == {a, b}
    assert cache.stale({a}) == [cache.path(b)]
    assert cache.prune({a}) == [cache.path(b)]
    assert cache.keys() == {a}
    assert (cache.folder / "README.md").exists()
    assert (cache.folder / "notakey.svg").exists()
    assert not list(cache.folder.glob(".*"))  # no partial files left behind


def test_cache_bytes_are_exactly_what_was_put(tmp_path: Path) -> None:
    cache = DiagramCache(tmp_path)
    cache.put("d" * 64, "<svg>é\n</svg>\n")
    assert cache.path("d" * 64).read_bytes() == "<svg>é\n</svg>\n".encode()


# -- installing Mermaid ---------------------------------------------------------------


def _fake_npm(tmp_path: Path, tarball: bytes) -> str:
    """An ``npm`` whose ``pack`` writes *tarball* as mermaid-<version>.tgz."""
    payload = tmp_path / "payload.tgz"
    payload.write_bytes(tarball)
    npm = tmp_path / "npm"
    npm.write_text(
        f'#!/bin/sh\ncp "{payload}" "mermaid-{mermaid.MERMAID_VERSION}.tgz"\n',
        encoding="utf-8",
    )
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return str(npm)


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_install_verifies_integrity(tmp_path: Path) -> None:
    npm = _fake_npm(tmp_path, _tarball({"package/dist/mermaid.min.js": b"tampered"}))
    with pytest.raises(mermaid.RendererUnavailable, match="integrity"):
        mermaid.install_mermaid(tmp_path / "home", npm=npm)
    assert not mermaid.mermaid_js(tmp_path / "home").exists()


def test_install_keeps_only_the_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tarball = _tarball({"package/dist/mermaid.min.js": b"window.mermaid = {};"})
    monkeypatch.setattr(mermaid, "MERMAID_INTEGRITY", mermaid.integrity_of(tarball))
    home = tmp_path / "home"
    installed = mermaid.install_mermaid(home, npm=_fake_npm(tmp_path, tarball))
    assert installed == mermaid.mermaid_js(home)
    assert installed.read_bytes() == b"window.mermaid = {};"
    assert sorted(p.name for p in home.iterdir()) == ["mermaid.min.js"]
    # Installed already: npm is not needed again.
    assert mermaid.install_mermaid(home, npm="/nonexistent/npm") == installed


def test_install_without_npm_says_so(tmp_path: Path) -> None:
    with pytest.raises(mermaid.RendererUnavailable, match="npm is not installed"):
        mermaid.install_mermaid(tmp_path, npm="/nonexistent/npm")


def test_mermaid_home_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLMDOC_MERMAID_HOME", str(tmp_path / "x"))
    assert mermaid.mermaid_home() == tmp_path / "x"
    monkeypatch.delenv("LLMDOC_MERMAID_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "sphinx-llmdoc" / f"mermaid-{mermaid.MERMAID_VERSION}"
    assert mermaid.mermaid_home() == expected


def test_unavailable_reason_names_what_is_missing(tmp_path: Path) -> None:
    reason = mermaid.unavailable_reason(str(tmp_path / "no-chromium"), tmp_path)
    assert reason is not None
    assert "no-chromium" in reason or "playwright" in reason
    with pytest.raises(mermaid.RendererUnavailable):
        mermaid.ChromiumRenderer(str(tmp_path / "no-chromium"), tmp_path)([Job("pie\n", "light")])


# -- the command line -----------------------------------------------------------------


def test_render_command_fills_the_cache_and_removes_stale_entries(
    tmp_path: Path, rootdir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "docs"
    shutil.copytree(rootdir / "test-diagram", source)
    stale = source / "_diagrams" / f"{'e' * 64}.svg"
    stale.parent.mkdir()
    stale.write_text("<svg/>", encoding="utf-8")

    code = mermaid.main(["render", str(source), "--renderer", "fake_mermaid:render"])
    assert code == 0
    assert not stale.exists()
    assert len(list((source / "_diagrams").glob("*.svg"))) == 12
    err = capfd.readouterr()
    assert "removed 1 stale diagram SVGs" in err.out + err.err
    assert "rendered 12 diagram SVGs" in err.out + err.err


# -- real rendering -------------------------------------------------------------------

SOURCES = {
    "flowchart": "flowchart LR\n  A[Client] -->|HTTPS| B(API)\n  B --> C{Cached?}\n"
    "  C -->|yes| D[Return]\n  C -->|no| E[(LLM)]\n  subgraph backend\n    E\n  end\n",
    "sequence": "sequenceDiagram\n  autonumber\n  actor U as User\n  participant S as Server\n"
    "  U->>S: POST /chat\n  Note right of S: stream tokens\n  loop tokens\n"
    "    S-->>U: delta\n  end\n",
    "class": "classDiagram\n  class Message {\n    +str role\n  }\n"
    '  Conversation "1" *-- "many" Message : holds\n',
    "state": "stateDiagram-v2\n  [*] --> Idle\n  Idle --> Busy: send\n  Busy --> Idle: done\n",
    "er": "erDiagram\n  USER ||--o{ CHAT : owns\n",
    "gantt": "gantt\n  dateFormat YYYY-MM-DD\n  section Build\n  API :a1, 2025-01-01, 5d\n"
    "  UI :after a1, 3d\n",
    "git": "gitGraph\n  commit\n  branch feature\n  commit\n  checkout main\n  merge feature\n",
    "mindmap": "mindmap\n  root((Bot))\n    Backend\n      API\n    Frontend\n",
    "timeline": "timeline\n  2024 : Prototype\n  2025 : Launch\n",
    "pie": 'pie title Spend\n  "Chat" : 60\n  "Search" : 40\n',
}

#: Page backgrounds of furo's light and dark themes.
BACKGROUNDS = {"light": "rgb(255, 255, 255)", "dark": "rgb(19, 20, 22)"}


@pytest.fixture(scope="module")
def renderer() -> mermaid.ChromiumRenderer:
    """The real renderer, with the pinned Mermaid installed (once) from npm."""
    if not os.access(mermaid.CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {mermaid.CHROMIUM}: apt-get install chromium")
    pytest.importorskip("playwright", reason="playwright is not installed")
    if not mermaid.mermaid_js().is_file():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so the pinned Mermaid cannot be fetched")
        mermaid.install_mermaid()
    return mermaid.ChromiumRenderer()


@pytest.fixture(scope="module")
def rendered(renderer: mermaid.ChromiumRenderer) -> dict[str, Rendered]:
    jobs = [Job(source, theme) for source in SOURCES.values() for theme in mermaid.THEMES]
    return {r.job.key: r for r in mermaid.render_batch(jobs, renderer)}


@pytest.mark.browser
def test_real_render_prefixes_every_id_uniquely(rendered: dict[str, Rendered]) -> None:
    all_ids: list[str] = []
    for result in rendered.values():
        assert result.error == "", result.error
        assert result.svg.startswith(f'<svg id="{result.job.prefix}"')
        ids = ID.findall(result.svg)
        assert all(i == result.job.prefix or i.startswith(f"{result.job.prefix}-") for i in ids)
        all_ids += ids
    assert len(all_ids) == len(set(all_ids))
    assert len(rendered) == 2 * len(SOURCES)


@pytest.mark.browser
def test_real_render_is_deterministic(
    renderer: mermaid.ChromiumRenderer, rendered: dict[str, Rendered]
) -> None:
    # A second session, in the opposite order: Mermaid's counters start elsewhere.
    jobs = [Job(source, theme) for source in SOURCES.values() for theme in mermaid.THEMES]
    again = mermaid.render_batch(list(reversed(jobs)), renderer)
    for result in again:
        assert result.svg == rendered[result.job.key].svg, result.job.source.split()[0]


@pytest.mark.browser
def test_real_syntax_error_is_mermaids_message(renderer: mermaid.ChromiumRenderer) -> None:
    good = Job("flowchart LR\n  A --> B\n", "light")
    bad = Job("flowchart LR\n  A -->\n", "light")
    results = mermaid.render_batch([bad, good], renderer)
    assert results[0].svg == ""
    assert "Parse error on line" in results[0].error
    assert results[1].error == ""  # a failure leaves the session usable


def _page_of(svgs: list[str], background: str) -> str:
    cells = "".join(f"<div>{svg}</div>" for svg in svgs)
    return (
        "<!DOCTYPE html><html lang='en'><head><title>diagrams</title><style>"
        f"body{{background:{background};margin:0}}"
        "main{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}"
        "</style></head><body><main>" + cells + "</main></body></html>"
    )


@pytest.fixture
def browser_page(renderer: mermaid.ChromiumRenderer) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=mermaid.CHROMIUM, args=list(mermaid.CHROMIUM_ARGS)
        )
        try:
            yield browser.new_page(viewport={"width": 1500, "height": 900})
        finally:
            browser.close()


#: In the page: every piece of text in every visible SVG, its colour against what is
#: painted under it (shapes hit-tested with isPointInFill, HTML label backgrounds,
#: opacity), and the WCAG ratio it needs. axe only reports SVG text as "incomplete",
#: so this check does what it cannot.
CONTRAST_JS = (HERE / "svg_contrast.js").read_text(encoding="utf-8")


@pytest.mark.browser
@pytest.mark.parametrize("theme", list(mermaid.THEMES))
def test_text_contrast_passes_wcag_aa(
    rendered: dict[str, Rendered], browser_page: Page, theme: str, tmp_path: Path
) -> None:
    svgs = [
        mermaid.inline_svg(r.svg, r.job.source.split()[0])
        for r in rendered.values()
        if r.job.theme == theme
    ]
    page_file = tmp_path / f"{theme}.html"
    page_file.write_text(_page_of(svgs, BACKGROUNDS[theme]), encoding="utf-8")
    browser_page.goto(page_file.as_uri())
    result: dict[str, Any] = browser_page.evaluate(CONTRAST_JS, BACKGROUNDS[theme])
    assert result["checked"] > 50
    assert result["problems"] == []

    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed at {AXE}: npm ci --prefix tests/browser")
    browser_page.add_script_tag(path=str(AXE))
    violations = browser_page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['color-contrast']})).violations"
    )
    assert violations == []


@pytest.mark.browser
def test_built_page_shows_the_variant_of_the_colour_scheme(
    make_app: Any, copy_root: Any, browser_page: Page, renderer: mermaid.ChromiumRenderer
) -> None:
    app = make_app(
        "singlehtml",
        srcdir=copy_root("diagram"),
        freshenv=True,
        confoverrides={"llmdoc_mermaid_renderer": "auto"},
    )
    app.build()
    browser_page.goto((app.outdir / "book.html").as_uri())
    figure = browser_page.locator("#fig-pipeline")

    def visible() -> list[str]:
        return [
            theme
            for theme in mermaid.THEMES
            if figure.locator(f".llmdoc-diagram-{theme} svg").is_visible()
        ]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for scheme, data_theme, expected in [
        ("light", "light", ["light"]),
        ("light", "dark", ["dark"]),
        ("dark", "auto", ["dark"]),
        ("light", "auto", ["light"]),
        ("dark", "light", ["light"]),
    ]:
        browser_page.emulate_media(color_scheme=scheme, media="screen")  # type: ignore[arg-type]
        browser_page.evaluate("t => { document.body.dataset.theme = t; }", data_theme)
        assert visible() == expected, (scheme, data_theme)
        if data_theme == "auto":  # one picture per variant, for a person to look at
            figure.screenshot(path=str(SCREENSHOTS / f"diagram-{scheme}.png"))
    browser_page.evaluate("() => { document.body.dataset.theme = 'dark'; }")
    browser_page.emulate_media(media="print")
    assert visible() == ["light"]
    label = figure.locator(".llmdoc-diagram-light svg").get_attribute("aria-label")
    assert label == "A question goes to the retriever, then the model, which writes the answer."
    assert "rendered 12 diagram SVGs" in app.status.getvalue()


def test_compact_svg_rounds_geometry_but_not_text() -> None:
    svg = (
        '<svg viewBox="0 0 588.546875 1743.75" style="max-width: 588.546875px;">'
        '<path d="M-143.3671875 64.125 C-30.260077615504997 64.125, 1.5 2"/>'
        '<text x="10.123456">pi is 3.14159265</text></svg>'
    )
    compact = mermaid.compact_svg(svg)
    assert 'viewBox="0 0 588.55 1743.75"' in compact
    assert "max-width: 588.55px;" in compact
    assert 'd="M-143.37 64.12 C-30.26 64.12, 1.5 2"' in compact
    assert 'x="10.12"' in compact
    assert "pi is 3.14159265" in compact
    assert mermaid.compact_svg(compact) == compact


def test_shared_styles_are_written_once_per_page_and_scoped_by_class() -> None:
    def svg(ident: str) -> str:
        return (
            f'<svg id="{ident}" class="flowchart" viewBox="0 0 1 1">'
            f"<style>#{ident}{{fill:#111;}}#{ident} .node rect{{fill:#eee;}}</style><g/></svg>"
        )

    seen: set[str] = set()
    first = mermaid.share_styles(svg("mermaid-a"), seen)
    second = mermaid.share_styles(svg("mermaid-b"), seen)
    (name,) = seen
    assert first.startswith(f'<svg id="mermaid-a" class="flowchart {name}"')
    assert f"<style>.{name}{{fill:#111;}}.{name} .node rect{{fill:#eee;}}</style>" in first
    assert second == f'<svg id="mermaid-b" class="flowchart {name}" viewBox="0 0 1 1"><g/></svg>'
    # a new page starts with nothing written
    assert "<style>" in mermaid.share_styles(svg("mermaid-c"), set())


def test_shared_styles_leave_longer_ids_alone() -> None:
    markup = '<svg id="m-1" viewBox="0 0 1 1"><style>#m-1_arrow{x:1}#m-1{y:2}</style></svg>'
    shared = mermaid.share_styles(markup, set())
    assert "#m-1_arrow{x:1}" in shared
    assert re.search(r"\.llmdoc-mmd-[0-9a-f]{10}\{y:2\}", shared)


def test_compact_svg_keeps_run_together_path_numbers_apart() -> None:
    # path data may write ".045.002" for 0.045 then 0.002, and "-1.0001.5" for -1 then .5
    path = '<path d="l.001-.045.002-.045v-17l-1.0001.5 2.34567.1"/>'
    compact = mermaid.compact_svg(path)
    assert "l.001-.045.002-.045v-17l-1.00.5 2.35.1" in compact
