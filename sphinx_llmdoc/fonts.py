"""Subset web fonts to the glyphs a document uses, as WOFF2, with the CSS that loads them.

No Sphinx import. The book's text face is Inter and its code face JetBrains Mono, taken
from the files the operating system's packages install (Debian's ``fonts-inter`` and
``fonts-jetbrains-mono``), never from a CDN. Subsetting is deterministic and cached by a
hash of the font file, the glyph set and the options, so a rebuild of unchanged text
costs a file read.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Where Linux, macOS and per-user installs keep font files.
FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
    Path("/Library/Fonts"),
    Path.home() / "Library/Fonts",
)

#: furo's own stacks, kept as the fallback behind the embedded faces.
TEXT_FALLBACK = (
    "-apple-system, BlinkMacSystemFont, Segoe UI, Helvetica, Arial, sans-serif, "
    "Apple Color Emoji, Segoe UI Emoji"
)
CODE_FALLBACK = (
    '"SFMono-Regular", Menlo, Consolas, Monaco, Liberation Mono, Lucida Console, monospace'
)

#: Always in the subset: what a reader may type into the search box, and what the
#: scripts write into the page after it is built (labels, "Copied", snippets' ellipsis).
BASE_CHARACTERS = frozenset(range(0x20, 0x7F)) | frozenset(
    # ellipsis, dashes, curly quotes, bullet, arrow, middle dot, multiplication sign
    (0x2026, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2192, 0x00B7, 0x00D7)
)

#: Bump when the subsetting options change, so cached subsets are rebuilt.
_SUBSET_VERSION = "1"

_NOT_TEXT = re.compile(r"<(script|style|svg)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>", re.S)
_SHOWN_ATTRIBUTE = re.compile(r"""\b(?:placeholder|data-tooltip)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


#: Prefix of the embedded families' CSS names. A name of our own, so that a different
#: version of the font installed on the reader's machine never stands in for the subset.
FAMILY_PREFIX = "llmdoc "


@dataclass(frozen=True)
class Face:
    """One embedded font face: the CSS descriptors and the file names that provide it."""

    family: str
    weight: int
    style: str
    files: tuple[str, ...]
    """Candidate file names, best first (any of them provides the face)."""
    features: tuple[str, ...] | None = None
    """OpenType layout features to keep; ``None`` keeps fonttools' defaults."""

    @property
    def slug(self) -> str:
        """A file-name-safe name for the subset, e.g. ``inter-400-normal``."""
        return f"{self.family.lower().replace(' ', '-')}-{self.weight}-{self.style}"


#: furo sets body text at 400 and headings and ``strong`` at 700; Pygments styles
#: bold some tokens. Weights not listed (500, 600) resolve to the nearest one listed.
FACES = (
    Face("Inter", 400, "normal", ("Inter-Regular.otf", "Inter-Regular.ttf")),
    Face("Inter", 400, "italic", ("Inter-Italic.otf", "Inter-Italic.ttf")),
    Face("Inter", 700, "normal", ("Inter-Bold.otf", "Inter-Bold.ttf")),
    # Code keeps only kerning: programming ligatures would show `->` as an arrow.
    Face("JetBrains Mono", 400, "normal", ("JetBrainsMono-Regular.ttf",), ("kern",)),
    Face("JetBrains Mono", 700, "normal", ("JetBrainsMono-Bold.ttf",), ("kern",)),
)


def find_faces(
    faces: Iterable[Face] = FACES, dirs: Iterable[Path] = FONT_DIRS
) -> dict[Face, Path | None]:
    """The installed file for each face, or ``None`` where none of its files exists."""
    index: dict[str, Path] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if path.suffix.lower() in {".otf", ".ttf"}:
                index.setdefault(path.name, path)
    return {face: next((index[f] for f in face.files if f in index), None) for face in faces}


def visible_text(page: str) -> str:
    """The text a reader can see on an HTML page: element text and placeholders.

    Scripts, stylesheets and inline SVG (whose labels are drawn in the diagram's own
    fonts) are dropped; character references are decoded.
    """
    shown = " ".join(a or b for a, b in _SHOWN_ATTRIBUTE.findall(page))
    return html.unescape(_TAG.sub(" ", _NOT_TEXT.sub(" ", page)) + " " + shown)


def codepoints(texts: Iterable[str]) -> frozenset[int]:
    """Every printable character in *texts*, plus :data:`BASE_CHARACTERS`."""
    used = set(BASE_CHARACTERS)
    for text in texts:
        used.update(ord(c) for c in text if c.isprintable() or c == "\u00a0")
    return frozenset(used)


def subset_key(font: bytes, chars: frozenset[int], face: Face) -> str:
    """Content hash naming a subset: the font, the glyph set and the options."""
    digest = hashlib.sha256(font)
    digest.update(_SUBSET_VERSION.encode())
    digest.update(repr(face.features).encode())
    digest.update(",".join(f"{c:x}" for c in sorted(chars)).encode())
    return digest.hexdigest()[:16]


def subset_woff2(font: bytes, chars: frozenset[int], face: Face) -> bytes:
    """*font* cut down to *chars* and compressed as WOFF2.

    Hinting is dropped (screens at these sizes and PDF output ignore it) and CFF
    outlines are desubroutinised, which WOFF2's Brotli stage compresses better.
    """
    from fontTools import subset  # imported here: only builds with fonts pay for it

    # fontTools reports every pruned table at INFO level; a build log has no use for it.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = [1, 2, 4, 6]
    if face.features is not None:
        options.layout_features = list(face.features)
    ttfont = subset.load_font(io.BytesIO(font), options, dontLoadGlyphNames=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(chars))
    subsetter.subset(ttfont)
    out = io.BytesIO()
    # fonttools stamps the current time into `head.modified` unless told otherwise.
    ttfont["head"].modified = ttfont["head"].created
    subset.save_font(ttfont, out, options)
    return out.getvalue()


def user_cache() -> Path:
    """Per-user folder for subsets, shared by clean builds (keys hash every input)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sphinx-llmdoc" / "fonts"


def cached_subset(font_path: Path, chars: frozenset[int], face: Face, cache: Path) -> bytes:
    """:func:`subset_woff2`, reusing an earlier result for the same inputs from *cache*."""
    font = font_path.read_bytes()
    cached = cache / f"{face.slug}-{subset_key(font, chars, face)}.woff2"
    if cached.is_file():
        return cached.read_bytes()
    data = subset_woff2(font, chars, face)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data


def font_css(faces: Iterable[Face], url_prefix: str = "fonts/") -> str:
    """``@font-face`` rules for *faces* and the furo variables that put them to use.

    Inlined as data URIs the faces are decoded within milliseconds, so
    ``font-display: block`` holds text back for that long rather than painting it in
    a fallback and moving it when the face arrives: no layout shift (CLS 0). Measured
    in Chromium: ``optional`` gives up on data-URI faces and draws the fallback,
    ``swap`` shifts the layout, ``block`` draws the faces with no shift and no later
    first paint.
    """
    faces = list(faces)
    rules = [
        f'@font-face{{font-family:"{FAMILY_PREFIX}{f.family}";font-style:{f.style};font-weight:{f.weight};'
        f'font-display:block;src:url("{url_prefix}{f.slug}.woff2") format("woff2")}}'
        for f in faces
    ]
    families = {f.family for f in faces}
    stacks = []
    if "Inter" in families:
        stacks.append(f'--font-stack:"{FAMILY_PREFIX}Inter",{TEXT_FALLBACK};')
    if "JetBrains Mono" in families:
        stacks.append(f'--font-stack--monospace:"{FAMILY_PREFIX}JetBrains Mono",{CODE_FALLBACK};')
    if stacks:
        rules.append("body{" + "".join(stacks) + "}")
    return "\n".join(rules) + "\n"
