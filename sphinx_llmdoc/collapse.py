"""Collapse an HTML page and the local files it uses into one self-contained page.

No Sphinx import: ``collapse(page)`` takes a written page and returns the new text
plus findings. The page is edited surgically, tag by tag, at offsets found by the
standard library's HTML tokenizer; it is never re-serialised, so inline SVG keeps
its case (``viewBox``, ``foreignObject``) and everything not touched stays
byte-for-byte what Sphinx wrote.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape, unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Elements whose attribute loads a resource when the page is shown.
RESOURCE_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
#: Tags the collapse step may rewrite, and tags the audit reads beyond their ids.
_COLLAPSED_TAGS = frozenset({"link", "script", "style", *RESOURCE_ATTRIBUTES})
_AUDITED_TAGS = frozenset({"a", "area", "use", "link", "style", *RESOURCE_ATTRIBUTES})
_LOADING_LINK_RELS = frozenset({"stylesheet", "icon", "preload", "modulepreload", "prefetch"})
_MIME_OVERRIDES = {
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".js": "text/javascript",
    ".css": "text/css",
}

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(?P<q1>['"]?)(?P<u1>[^'")]*)(?P=q1)\s*\)|(?P<q2>['"])(?P<u2>[^'"]*)(?P=q2))"""
    r"""\s*(?P<media>[^;]*);""",
    re.I,
)
_CSS_URL = re.compile(r"""url\(\s*(?:"(?P<d>[^"]*)"|'(?P<s>[^']*)'|(?P<b>[^)'"\s]*))\s*\)""", re.I)
_SOURCE_MAP = re.compile(
    r"(?m)^[ \t]*(?://[#@]\s*sourceMappingURL=\S*|/\*[#@]\s*sourceMappingURL=[^*]*\*/)[ \t]*$\n?"
)
_SCRIPT_CLOSE = re.compile(r"</(script)", re.I)
_STYLE_CLOSE = re.compile(r"</(style)", re.I)
_INLINE_SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>", re.I | re.S)
_HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.I)
_META_CHARSET = re.compile(r"<meta\s+charset=[^>]*>", re.I)
_BODY_CLOSE = re.compile(r"</body\s*>", re.I)


@dataclass(frozen=True)
class Finding:
    """Something the single file still gets wrong, with where it is."""

    kind: str
    """``outside_resource``, ``asset``, ``fragment``, ``duplicate_id`` or ``size``."""
    message: str
    line: int | None = None
    """Line in the collapsed file."""
    document: str | None = None
    """Sphinx document the line came from, from the nearest ``document-X`` marker."""
    url: str | None = None
    where: str = "output"
    """``page`` for a line of the page Sphinx wrote, ``output`` for the collapsed file."""


@dataclass
class Collapsed:
    """The collapsed page, what is still wrong with it, and where its bytes went."""

    html: str
    findings: list[Finding] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)


def is_external(url: str) -> bool:
    """True for URLs that leave the file: a scheme other than ``data:``, or ``//host``."""
    parts = urlsplit(url)
    return url.startswith("//") or (bool(parts.scheme) and parts.scheme not in {"data"})


def is_inlinable(url: str) -> bool:
    """A relative reference to a local file (not a data URI, fragment or external URL)."""
    return bool(url) and not url.startswith(("#", "data:")) and not is_external(url)


def mime_type(path: Path) -> str:
    """The MIME type of *path*, preferring web-font and SVG types the stdlib may miss."""
    return _MIME_OVERRIDES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def data_uri(path: Path) -> str:
    """*path* as a base64 ``data:`` URI."""
    return f"data:{mime_type(path)};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def local_path(url: str, base: Path) -> Path:
    """The file a relative *url* names, ignoring ``?v=`` cache busters and fragments."""
    return (base / unquote(urlsplit(url).path)).resolve()


def strip_source_maps(text: str) -> str:
    """Remove ``sourceMappingURL`` comments, which point at files not shipped."""
    return _SOURCE_MAP.sub("", text)


def escape_script(js: str) -> str:
    """Make *js* safe between ``<script>`` tags: ``</script`` would end the element."""
    return _SCRIPT_CLOSE.sub(r"<\\/\1", js)


class _Assets:
    """Reads local assets once, and records findings and byte counts."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.findings: list[Finding] = []
        self.sizes: dict[str, int] = {"css": 0, "js": 0, "fonts": 0, "images": 0}

    def read(self, url: str, base: Path, what: str, line: int | None) -> Path | None:
        path = local_path(url, base)
        if not path.is_file():
            self.findings.append(
                Finding("asset", f"{what} {url!r} not found at {path}", line=line, url=url)
            )
            return None
        return path

    def uri(self, url: str, base: Path, what: str, line: int | None) -> str | None:
        path = self.read(url, base, what, line)
        if path is None:
            return None
        size = path.stat().st_size
        kind = "fonts" if path.suffix.lower() in {".woff2", ".woff", ".ttf", ".otf"} else "images"
        self.sizes[kind] += size
        return data_uri(path)

    def css(self, text: str, base: Path, line: int | None, seen: tuple[Path, ...] = ()) -> str:
        """Inline ``@import``s and ``url()``s of a stylesheet read from *base*."""
        text = strip_source_maps(text)
        pieces = []
        last = 0
        for comment in _CSS_COMMENT.finditer(text):
            pieces.append(self._css_code(text[last : comment.start()], base, line, seen))
            if "sourceMappingURL" not in comment.group():
                pieces.append(comment.group())
            last = comment.end()
        pieces.append(self._css_code(text[last:], base, line, seen))
        return _STYLE_CLOSE.sub(r"<\\/\1", "".join(pieces))

    def _css_code(self, code: str, base: Path, line: int | None, seen: tuple[Path, ...]) -> str:
        def imported(match: re.Match[str]) -> str:
            url = match.group("u1") or match.group("u2") or ""
            media = match.group("media").strip()
            if not is_inlinable(url):
                return match.group()
            path = self.read(url, base, "stylesheet @import", line)
            if path is None:
                return match.group()
            if path in seen:
                return ""  # an import cycle: the first copy already holds the rules
            body = self.css(path.read_text("utf-8"), path.parent, line, (*seen, path))
            return f"@media {media}{{{body}}}" if media else body

        def url(match: re.Match[str]) -> str:
            target = match.group("d") or match.group("s") or match.group("b") or ""
            if not is_inlinable(target):
                return match.group()
            uri = self.uri(target, base, "stylesheet url()", line)
            return f'url("{uri}")' if uri else match.group()

        return _CSS_URL.sub(url, _CSS_IMPORT.sub(imported, code))


class _Tag:
    __slots__ = ("attrs", "body_end", "end", "line", "name", "start")

    def __init__(
        self, name: str, attrs: dict[str, str], start: int, end: int, line: int, body_end: int
    ) -> None:
        self.name, self.attrs, self.start, self.end, self.line = name, attrs, start, end, line
        #: For ``script`` and ``style``: where their raw text ends (the closing tag starts).
        self.body_end = body_end


# One token at a time: comments, doctypes and end tags are skipped; a start tag's
# attributes may hold quoted ">" characters.
_TOKEN = re.compile(
    r"""<!--.*?-->|<![^>]*>|</[^>]*>"""
    r"""|<(?P<name>[A-Za-z][^\s/>]*)(?P<attrs>(?:[^>"']|"[^"]*"|'[^']*')*)>""",
    re.S,
)
_ATTRIBUTE = re.compile(
    r"""(?P<key>[^\s"'>/=]+)(?:\s*=\s*(?:"(?P<d>[^"]*)"|'(?P<s>[^']*)'|(?P<b>[^\s"'=<>`]+)))?"""
)
_RAW_TEXT = frozenset({"script", "style", "textarea", "title"})
_NEWLINE = re.compile("\n")


def parse_attributes(raw: str) -> dict[str, str]:
    """Attribute names (lower-cased) and unescaped values of a start tag; the first wins."""
    values: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw):
        key = match.group("key").lower()
        if key in values:
            continue
        value = match.group("d")
        if value is None:
            value = match.group("s")
        if value is None:
            value = match.group("b") or ""
        values[key] = unescape(value) if "&" in value else value
    return values


def start_tags(text: str, wanted: frozenset[str] | None = None) -> Iterator[_Tag]:
    """Every start tag of *text* in order, with exact offsets and line numbers.

    A regular-expression tokenizer rather than ``html.parser``: the collapse step
    reads every tag of a multi-megabyte page twice, and this is several times faster.
    The raw text of ``script``/``style``/``textarea``/``title`` is skipped, as a
    browser does, so markup inside scripts is never mistaken for tags. With
    *wanted*, only tags of those (lower-case) names have their attributes parsed.
    """
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    pos = 0
    search = _TOKEN.search
    while True:
        match = search(text, pos)
        if match is None:
            return
        pos = match.end()
        name = match.group("name")
        if name is None:
            continue
        lower = name.lower()
        body_end = pos
        if lower in _RAW_TEXT:
            close = re.compile(rf"</{lower}\s*>", re.I).search(text, pos)
            body_end = close.start() if close else len(text)
            pos = close.end() if close else len(text)
        raw = match.group("attrs")
        if wanted is not None and lower not in wanted and "id=" not in raw and "url(" not in raw:
            continue
        line = bisect_right(newlines, match.start()) + 1
        attrs = parse_attributes(raw)
        yield _Tag(lower, attrs, match.start(), match.end(), line, body_end)


def _element_end(text: str, tag: _Tag) -> int:
    """Offset just past the closing tag of a ``script`` or ``style`` element."""
    match = re.compile(rf"</{tag.name}\s*>", re.I).match(text, tag.body_end)
    return match.end() if match else tag.body_end


def _attrs_html(attrs: dict[str, str], drop: set[str]) -> str:
    return "".join(
        f' {k}="{escape(v)}"' if v else f" {k}" for k, v in attrs.items() if k not in drop
    )


def collapse(page: Path, root: Path | None = None) -> Collapsed:
    """Inline every local stylesheet, script, image and font *page* uses.

    *root* bounds nothing; it is where relative URLs in the page resolve (the
    page's own folder by default). External references are left in place and
    reported, never fetched.
    """
    text = page_text = page.read_text("utf-8")
    base = (root or page.parent).resolve()
    assets = _Assets(base)
    edits: list[tuple[int, int, str]] = []
    deferred: list[str] = []

    for tag in start_tags(text, _COLLAPSED_TAGS):
        if tag.name == "link":
            edit = _link(tag, text, base, assets)
        elif tag.name == "script":
            edit = _script(tag, text, base, assets, deferred)
        elif tag.name == "style":
            body = assets.css(text[tag.end : tag.body_end], base, tag.line)
            edit = (tag.start, tag.body_end, text[tag.start : tag.end] + body)
        elif tag.name in RESOURCE_ATTRIBUTES:
            edit = _resource(tag, text, base, assets)
        else:
            edit = None
        if edit is not None:
            edits.append(edit)

    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    if deferred:
        body_end = _BODY_CLOSE.search(text)
        at = body_end.start() if body_end else len(text)
        text = text[:at] + "".join(deferred) + text[at:]

    text = add_csp(text)
    # inlining moves lines: asset problems are located in the page, the rest in the output
    findings = _locate(assets.findings, page_text, "page") + _locate(audit(text), text, "output")
    sizes = dict(assets.sizes, total=len(text.encode("utf-8")))
    return Collapsed(html=text, findings=findings, sizes=sizes)


def _link(tag: _Tag, text: str, base: Path, assets: _Assets) -> tuple[int, int, str] | None:
    rels = set(tag.attrs.get("rel", "").lower().split())
    href = tag.attrs.get("href", "")
    if not rels & _LOADING_LINK_RELS:
        return None
    if not is_inlinable(href):
        return None
    if "stylesheet" in rels:
        path = assets.read(href, base, "stylesheet", tag.line)
        if path is None:
            return None
        css = assets.css(path.read_text("utf-8"), path.parent, tag.line, (path,))
        assets.sizes["css"] += len(css.encode("utf-8"))
        media = tag.attrs.get("media", "")
        media_attr = f' media="{escape(media)}"' if media and media != "all" else ""
        return tag.start, tag.end, f"<style{media_attr}>{css}</style>"
    if "icon" in rels:
        uri = assets.uri(href, base, "icon", tag.line)
        if uri is None:
            return None
        return tag.start, tag.end, f'<link{_attrs_html(tag.attrs, {"href"})} href="{uri}">'
    # preload/prefetch hints for files that are now inline have nothing left to load
    return tag.start, tag.end, ""


def _script(
    tag: _Tag, text: str, base: Path, assets: _Assets, deferred: list[str]
) -> tuple[int, int, str] | None:
    src = tag.attrs.get("src")
    if src is None:
        return None
    if not is_inlinable(src):
        return None
    path = assets.read(src, base, "script", tag.line)
    if path is None:
        return None
    js = escape_script(strip_source_maps(path.read_text("utf-8")))
    assets.sizes["js"] += len(js.encode("utf-8"))
    # `defer` and `async` mean nothing on inline scripts
    attrs = _attrs_html(tag.attrs, {"src", "defer", "async", "integrity", "crossorigin"})
    element = f"<script{attrs}>{js}</script>"
    end = _element_end(text, tag)
    if "defer" in tag.attrs and tag.attrs.get("type") != "module":
        # a deferred script runs after parsing, in order: the end of <body> keeps that
        deferred.append(element)
        return tag.start, end, ""
    return tag.start, end, element


def _resource(tag: _Tag, text: str, base: Path, assets: _Assets) -> tuple[int, int, str] | None:
    raw = text[tag.start : tag.end]
    new = raw
    for attr in RESOURCE_ATTRIBUTES[tag.name]:
        value = tag.attrs.get(attr)
        if not value:
            continue
        urls = (
            [c.strip().split()[0] for c in value.split(",") if c.strip()]
            if attr == "srcset"
            else [value]
        )
        replaced = value
        for url in urls:
            if is_inlinable(url):
                uri = assets.uri(url, base, f"<{tag.name} {attr}>", tag.line)
                if uri is not None:
                    replaced = replaced.replace(url, uri, 1)
        if replaced != value:
            new = _set_attribute(new, attr, replaced)
    return (tag.start, tag.end, new) if new != raw else None


def _set_attribute(raw: str, attr: str, value: str) -> str:
    """Replace one attribute's value inside a raw start tag, leaving the rest as written."""
    pattern = re.compile(rf"""(\s{attr}\s*=\s*)(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
    return pattern.sub(lambda m: f'{m.group(1)}"{escape(value)}"', raw, count=1)


def script_hashes(text: str) -> list[str]:
    """CSP source expressions for every inline script, in page order."""
    hashes = []
    for match in _INLINE_SCRIPT.finditer(text):
        if re.search(r"\bsrc\s*=", match.group("attrs"), re.I):
            continue
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
        source = f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
        if source not in hashes:
            hashes.append(source)
    return hashes


def add_csp(text: str) -> str:
    """Insert a Content-Security-Policy that lets only the page's own scripts run.

    Styles stay ``'unsafe-inline'``: inline SVG and the themes use ``style``
    attributes, and CSS cannot exfiltrate anything when nothing may be fetched.
    """
    scripts = " ".join(script_hashes(text)) or "'none'"
    policy = (
        "default-src 'none'; "
        f"script-src {scripts}; "
        "style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    anchor = _META_CHARSET.search(text) or _HEAD_OPEN.search(text)
    at = anchor.end() if anchor else 0
    return text[:at] + meta + text[at:]


# -- audit ----------------------------------------------------------------------------


class _Auditor:
    def __init__(self) -> None:
        self.ids: dict[str, list[int]] = {}
        self.fragments: list[tuple[str, int]] = []
        self.findings: list[Finding] = []

    def feed(self, text: str) -> None:
        for tag in start_tags(text, _AUDITED_TAGS):
            self.start_tag(tag.name, tag.attrs, tag.line)
            if tag.name == "style":
                self._css(text[tag.end : tag.body_end], tag.line)

    def start_tag(self, tag: str, values: dict[str, str], line: int) -> None:
        if "id" in values:
            self.ids.setdefault(values["id"], []).append(line)
        for attr in RESOURCE_ATTRIBUTES.get(tag, ()):
            url = values.get(attr)
            if url and not url.startswith("data:"):
                self._outside(url, f"<{tag} {attr}>", line)
        href = values.get("href", "")
        if tag == "link" and href and set(values.get("rel", "").split()) & _LOADING_LINK_RELS:
            if not href.startswith("data:"):
                self._outside(href, "<link>", line)
        elif tag in {"a", "area", "use"} and href.startswith("#"):
            self.fragments.append((unquote(href[1:]), line))
        elif (
            tag in {"a", "area", "link"}
            and href
            and not is_external(href)
            and not href.startswith(("#", "data:"))
        ):
            self.findings.append(
                Finding(
                    "outside_resource",
                    f"<{tag}> links {href}, which is not part of the file",
                    line,
                    url=href,
                )
            )
        if tag == "use" and values.get("xlink:href", "").startswith("#"):
            self.fragments.append((values["xlink:href"][1:], line))
        if "url(" in values.get("style", ""):
            self._css(values["style"], line)

    def _css(self, css: str, line: int) -> None:
        code = _CSS_COMMENT.sub("", css)
        for match in _CSS_IMPORT.finditer(code):
            self._outside(
                match.group("u1") or match.group("u2") or "", "a stylesheet @import", line
            )
        # an `@import url(...)` is one reference, already reported as the @import
        for match in _CSS_URL.finditer(_CSS_IMPORT.sub("", code)):
            url = match.group("d") or match.group("s") or match.group("b") or ""
            if url and not url.startswith(("data:", "#")):
                self._outside(url, "a stylesheet url()", line)

    def _outside(self, url: str, what: str, line: int) -> None:
        self.findings.append(
            Finding("outside_resource", f"{what} still references {url}", line, url=url)
        )


def audit(text: str) -> list[Finding]:
    """Everything in *text* that breaks the single-file promise.

    Outside references (anything that would load), fragments with no matching id,
    and ids used twice. Plain hyperlinks to other sites load nothing and pass.
    """
    auditor = _Auditor()
    auditor.feed(text)
    findings = list(auditor.findings)
    for ident, lines in sorted(auditor.ids.items(), key=lambda item: item[1][0]):
        if len(lines) > 1:
            where = ", ".join(str(n) for n in lines)
            findings.append(
                Finding(
                    "duplicate_id",
                    f'id="{ident}" is used {len(lines)} times (lines {where})',
                    lines[1],
                )
            )
    for fragment, line in auditor.fragments:
        if fragment not in auditor.ids and fragment not in {"", "top"}:
            findings.append(
                Finding(
                    "fragment", f"link to #{fragment} has no matching id", line, url=f"#{fragment}"
                )
            )
    return sorted(findings, key=lambda f: (f.line or 0, f.kind, f.message))


_DOC_MARKER = re.compile(r'<span id="document-([^"]+)"></span>')


def _locate(findings: list[Finding], text: str, where: str) -> list[Finding]:
    """Attach the Sphinx document each finding's line belongs to, where known."""
    markers: list[tuple[int, str]] = []
    for match in _DOC_MARKER.finditer(text):
        markers.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    located = []
    for finding in findings:
        document = None
        for line, docname in markers:
            if finding.line is not None and line <= finding.line:
                document = docname
            else:
                break
        located.append(
            Finding(finding.kind, finding.message, finding.line, document, finding.url, where)
        )
    return located
