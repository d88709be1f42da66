"""The pure collapser, on adversarial input."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from sphinx_llmdoc.collapse import audit, collapse, escape_script, script_hashes

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def page(
    tmp_path: Path, body: str, head: str = "", files: dict[str, str | bytes] | None = None
) -> Path:
    for name, content in (files or {}).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    path = tmp_path / "index.html"
    path.write_text(
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n{head}\n</head>\n'
        f"<body>\n{body}\n</body></html>\n",
        encoding="utf-8",
    )
    return path


def test_css_urls_with_quotes_spaces_and_data_uris(tmp_path: Path) -> None:
    css = (
        '.a{background:url("img/a b.png")}\n'
        ".b{background:url( 'img/a b.png' )}\n"
        ".c{background:url(img/pixel.png?v=123#frag)}\n"
        '.d{background:url("data:image/gif;base64,R0lGOD")}\n'
        ".e{filter:url(#svg-filter)}\n"
    )
    files = {"_static/s.css": css, "_static/img/a b.png": PNG, "_static/img/pixel.png": PNG}
    result = collapse(
        page(tmp_path, "<p>x</p>", '<link rel="stylesheet" href="_static/s.css?v=abc">', files)
    )
    assert result.findings == []
    style = re.search(r"<style>(.*?)</style>", result.html, re.S)
    assert style is not None
    assert style.group(1).count('url("data:image/png;base64,') == 3
    assert 'url("data:image/gif;base64,R0lGOD")' in style.group(1)
    assert "url(#svg-filter)" in style.group(1)
    assert "?v=" not in result.html


def test_nested_imports_media_and_cycles(tmp_path: Path) -> None:
    files = {
        "_static/main.css": '@import url("parts/a.css");\n@import "parts/b.css" print;\nmain{x:1}',
        "_static/parts/a.css": "@import 'c.css';\na{y:2}",
        "_static/parts/c.css": "@import url(a.css);\nc{z:3}",  # cycle back to a.css
        "_static/parts/b.css": "b{w:4}",
    }
    result = collapse(page(tmp_path, "", '<link rel="stylesheet" href="_static/main.css">', files))
    assert result.findings == []
    assert "@import" not in result.html
    assert "c{z:3}" in result.html and "a{y:2}" in result.html
    assert "@media print{b{w:4}}" in result.html
    assert (
        result.html.index("c{z:3}") < result.html.index("a{y:2}") < result.html.index("main{x:1}")
    )


def test_missing_asset_is_a_located_finding(tmp_path: Path) -> None:
    files = {"_static/s.css": ".x{background:url(gone.png)}"}
    head = '<link rel="stylesheet" href="_static/s.css">\n<script src="_static/nope.js"></script>'
    result = collapse(page(tmp_path, "", head, files))
    kinds = sorted((f.kind, f.where) for f in result.findings)
    assert ("asset", "page") in kinds
    messages = " ".join(f.message for f in result.findings)
    assert "gone.png" in messages and "nope.js" in messages
    missing_script = next(
        f for f in result.findings if "nope.js" in f.message and f.kind == "asset"
    )
    assert missing_script.line == 4


def test_script_close_tag_in_js_is_escaped_and_source_maps_dropped(tmp_path: Path) -> None:
    js = (
        'var s = "</script><script>alert(1)</script>";\n'
        'var t = "</SCRIPT >";\n'
        "//# sourceMappingURL=app.js.map\n"
    )
    result = collapse(
        page(
            tmp_path, "", '<script src="_static/app.js?v=1" defer></script>', {"_static/app.js": js}
        )
    )
    scripts = re.findall(r"<script>(.*?)</script>", result.html, re.S)
    assert len(scripts) == 1
    assert "<\\/script><script>alert(1)<\\/script>" in scripts[0]
    assert "<\\/SCRIPT >" in scripts[0]
    assert "sourceMappingURL" not in result.html
    # a deferred script still runs after the document is parsed: it moves to the end of <body>
    assert result.html.index("<script>") > result.html.index("<body>")
    assert escape_script("a</script b") == "a<\\/script b"


def test_svg_case_and_untouched_bytes_are_preserved(tmp_path: Path) -> None:
    svg = (
        '<svg viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg"><foreignObject width="5">'
        '<div>x</div></foreignObject><linearGradient id="g"/></svg>'
    )
    result = collapse(page(tmp_path, f'{svg}\n<img src="i.png" alt="i.png">', files={"i.png": PNG}))
    assert svg in result.html
    assert '<img src="data:image/png;base64,' in result.html
    assert 'alt="i.png"' in result.html


def test_csp_lists_every_inline_script_hash(tmp_path: Path) -> None:
    head = '<script>var a = 1;</script>\n<script src="_static/b.js"></script>'
    result = collapse(page(tmp_path, "", head, {"_static/b.js": "var b = 2;"}))
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', result.html)
    assert csp is not None
    for body in ("var a = 1;", "var b = 2;"):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp.group(1)
    assert "default-src 'none'" in csp.group(1)
    assert result.html.index("Content-Security-Policy") < result.html.index("<script>")
    assert script_hashes("<p>no scripts</p>") == []


def test_outside_references_are_reported_and_plain_links_pass(tmp_path: Path) -> None:
    body = (
        '<a href="https://example.com/">fine</a>\n'
        '<img src="https://cdn.example.com/x.png">\n'
        '<a href="genindex.html">index</a>\n'
        '<a href="#here">ok</a> <a href="#nowhere">bad</a> <span id="here"></span>\n'
        '<p id="dup">1</p><p id="dup">2</p>\n'
    )
    head = '<script src="https://cdn.jsdelivr.net/npm/mermaid.min.js"></script>'
    result = collapse(page(tmp_path, body, head))
    found = {(f.kind, f.url) for f in result.findings}
    assert ("outside_resource", "https://cdn.jsdelivr.net/npm/mermaid.min.js") in found
    assert ("outside_resource", "https://cdn.example.com/x.png") in found
    assert ("outside_resource", "genindex.html") in found
    assert ("fragment", "#nowhere") in found
    assert any(f.kind == "duplicate_id" and "dup" in f.message for f in result.findings)
    assert not any(f.url == "https://example.com/" for f in result.findings)
    assert not any(f.url == "#here" for f in result.findings)


def test_findings_name_the_sphinx_document(tmp_path: Path) -> None:
    body = '<span id="document-chapters/two"></span>\n<a href="#gone">x</a>'
    (finding,) = audit(f"<html><head></head><body>{body}</body></html>".replace("<a", "\n<a"))
    assert finding.kind == "fragment"
    result = collapse(page(tmp_path, body))
    (located,) = result.findings
    assert located.document == "chapters/two"


def test_collapse_is_deterministic(tmp_path: Path) -> None:
    files = {
        "_static/s.css": ".x{background:url(i.png)}",
        "_static/i.png": PNG,
        "_static/a.js": "1;",
    }
    head = '<link rel="stylesheet" href="_static/s.css"><script src="_static/a.js"></script>'
    path = page(tmp_path, "<p>x</p>", head, files)
    assert collapse(path).html == collapse(path).html


def test_remote_css_import_is_one_finding() -> None:
    css = '@import url("https://fonts.example.com/a.css");\n.x{background:url(https://e.com/b.png)}'
    findings = audit(f"<html><head><style>{css}</style></head><body></body></html>")
    assert sorted((f.url, f.message.split(" still")[0]) for f in findings) == [
        ("https://e.com/b.png", "a stylesheet url()"),
        ("https://fonts.example.com/a.css", "a stylesheet @import"),
    ]
