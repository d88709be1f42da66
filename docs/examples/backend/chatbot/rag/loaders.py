"""Document loaders and the metadata extractor.

Loaders turn bytes into clean text; the extractor turns text into the fields retrieval
filters and cites on. HTML is reduced to its readable text with the standard library's
parser (navigation, scripts and styles dropped), because boilerplate repeated on every page
otherwise becomes the most "similar" chunk to every query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from chatbot.rag.models import Document, Metadata

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")


class _TextExtractor(HTMLParser):
    """Readable text of an HTML page: block elements become paragraph breaks."""

    SKIP = frozenset({"script", "style", "nav", "header", "footer", "aside", "noscript"})
    BLOCK = frozenset({"p", "div", "li", "br", "tr", "section", "article", "pre", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skipping = 0
        self._heading: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = tag
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "title":
            self._in_title = False
        elif tag == self._heading:
            self._heading = None
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> tuple[str, str]:
    """Return ``(title, text)``; headings become Markdown ``#`` lines for the chunker."""
    parser = _TextExtractor()
    parser.feed(html)
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return parser.title, text


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


# [start:metadata]
@dataclass(frozen=True, slots=True)
class MetadataExtractor:
    """Fields every chunk carries: where it came from, what it is, and who may see it.

    ``acl`` (groups allowed to read) and ``product``/``lang`` come from front matter when
    the source has it; ``title`` falls back to the first heading, then the file name.
    Everything here is filterable in every backend, so keep values short and
    low-cardinality: a filter on a field with a million distinct values defeats the
    index's pre-filtering in Pinecone and pgvector alike.
    """

    default_lang: str = "en"

    def extract(self, text: str, *, source: str, title_hint: str = "") -> tuple[str, Metadata]:
        """Return the body without front matter, and its metadata."""
        meta: Metadata = {"source": source, "lang": self.default_lang}
        match = _FRONT_MATTER.match(text)
        if match:
            for line in match.group(1).splitlines():
                key, sep, value = line.partition(":")
                if not sep:
                    continue
                key, value = key.strip(), value.strip()
                if value.startswith("[") and value.endswith("]"):
                    meta[key] = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v]
                else:
                    meta[key] = value.strip("'\"")
            text = text[match.end() :]
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        title = meta.get("title") or title_hint or (heading.group(1).strip() if heading else "")
        meta["title"] = str(title or Path(source).stem.replace("-", " ").title())
        meta["doc_type"] = Path(source).suffix.lstrip(".") or "txt"
        meta["words"] = len(text.split())
        return text, meta


# [end:metadata]


# [start:loader]
def load_document(
    path: Path,
    *,
    tenant_id: str,
    root: Path,
    extractor: MetadataExtractor | None = None,
) -> Document:
    """Read one file into a :class:`Document` whose id is its path under ``root``."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        msg = f"{path}: unsupported type {path.suffix!r}; convert it to Markdown or HTML first"
        raise ValueError(msg)
    raw = path.read_text(encoding="utf-8", errors="replace")
    title = ""
    if path.suffix.lower() in (".html", ".htm"):
        title, raw = html_to_text(raw)
    source = path.relative_to(root).as_posix()
    text, meta = (extractor or MetadataExtractor()).extract(raw, source=source, title_hint=title)
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    meta["updated_at"] = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Document(doc_id=source, tenant_id=tenant_id, text=text, metadata=meta)


def iter_documents(root: Path, *, tenant_id: str) -> list[Document]:
    """Every supported file under ``root``, in a stable order."""
    return [
        load_document(path, tenant_id=tenant_id, root=root)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES
    ]


# [end:loader]
