"""Chunking strategies: fixed windows, recursive separators, and Markdown sections.

Every chunker returns :class:`~chatbot.rag.models.Chunk` objects whose ``start``/``end``
are offsets into the original text, so ``text[start:end] == chunk.text`` always holds. The
offsets are what lets the UI highlight a citation in the source document and lets the
ingestion pipeline prove that no text was lost between chunks.

Sizes are in tokens of the *embedding* model, measured with the ``length`` function the
caller passes (see :mod:`chatbot.memory.tokens`); characters would make a chunk of code or
Japanese text two to three times larger, in tokens, than a chunk of English prose.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chatbot.rag.models import Chunk, Document

LengthFn = Callable[[str], int]
Span = tuple[int, int]


def approx_tokens(text: str) -> int:
    """Four characters per token: a safe default when no tokenizer is at hand."""
    return max(1, (len(text) + 3) // 4) if text else 0


class Chunker(Protocol):
    """Turns one document into chunks."""

    def chunk(self, document: Document) -> list[Chunk]: ...


def _make_chunks(document: Document, spans: list[Span], extra: list[dict[str, str]]) -> list[Chunk]:
    return [
        Chunk(
            doc_id=document.doc_id,
            tenant_id=document.tenant_id,
            ordinal=ordinal,
            text=document.text[start:end],
            start=start,
            end=end,
            metadata={**document.metadata, **meta},
        )
        for ordinal, ((start, end), meta) in enumerate(zip(spans, extra, strict=True))
        if document.text[start:end].strip()
    ]


# [start:fixed]
@dataclass(frozen=True, slots=True)
class FixedSizeChunker:
    """Windows of ``max_tokens`` words-as-tokens with ``overlap`` tokens repeated.

    The baseline: cheap, predictable, and blind to structure, so it cuts sentences,
    tables and code blocks in half.
    """

    max_tokens: int = 256
    overlap: int = 32
    length: LengthFn = approx_tokens

    def chunk(self, document: Document) -> list[Chunk]:
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", document.text)]
        costs = [self.length(document.text[s:e]) for s, e in words]
        spans: list[Span] = []
        first = 0
        while first < len(words):
            last, used = first, 0
            while last < len(words) and (used + costs[last] <= self.max_tokens or last == first):
                used += costs[last]
                last += 1
            spans.append((words[first][0], words[last - 1][1]))
            if last == len(words):
                break
            back, kept = last, 0
            while back - 1 > first and kept + costs[back - 1] <= self.overlap:
                back -= 1
                kept += costs[back]
            first = back
        return _make_chunks(document, spans, [{} for _ in spans])


# [end:fixed]


# [start:recursive]
@dataclass(frozen=True, slots=True)
class RecursiveChunker:
    """Split on the coarsest separator that works, then merge pieces up to the budget.

    Paragraphs stay whole when they fit; a paragraph that does not is split into lines,
    then sentences, then words. Adjacent small pieces are merged so chunks are close to
    ``max_tokens`` rather than one sentence each, and the last ``overlap`` tokens of a
    chunk are repeated at the start of the next so an answer that straddles a boundary
    is still retrievable.
    """

    max_tokens: int = 256
    overlap: int = 32
    length: LengthFn = approx_tokens
    separators: tuple[str, ...] = ("\n\n", "\n", ". ", " ")

    def chunk(self, document: Document) -> list[Chunk]:
        spans = self.split_spans(document.text, 0, len(document.text))
        return _make_chunks(document, spans, [{} for _ in spans])

    def split_spans(self, text: str, start: int, end: int) -> list[Span]:
        """Chunk spans covering ``text[start:end]``."""
        pieces = self._pieces(text, start, end, 0)
        return self._merge(text, pieces)

    def _pieces(self, text: str, start: int, end: int, level: int) -> list[Span]:
        if self.length(text[start:end]) <= self.max_tokens or level >= len(self.separators):
            return [(start, end)]
        sep = self.separators[level]
        spans: list[Span] = []
        cursor = start
        while cursor < end:
            hit = text.find(sep, cursor, end)
            stop = end if hit == -1 else hit + len(sep)
            spans.append((cursor, stop))
            cursor = stop
        if len(spans) == 1:
            return self._pieces(text, start, end, level + 1)
        out: list[Span] = []
        for s, e in spans:
            out.extend(self._pieces(text, s, e, level + 1))
        return out

    def _merge(self, text: str, pieces: list[Span]) -> list[Span]:
        chunks: list[Span] = []
        current: list[Span] = []
        for piece in pieces:
            candidate = [*current, piece]
            if current and self.length(text[candidate[0][0] : piece[1]]) > self.max_tokens:
                chunks.append((current[0][0], current[-1][1]))
                current = [*self._tail(text, current), piece]
                if self.length(text[current[0][0] : piece[1]]) > self.max_tokens:
                    current = [piece]
            else:
                current = candidate
        if current:
            chunks.append((current[0][0], current[-1][1]))
        return chunks

    def _tail(self, text: str, pieces: list[Span]) -> list[Span]:
        """The trailing pieces that fit in the overlap budget."""
        tail: list[Span] = []
        for piece in reversed(pieces):
            if self.length(text[piece[0] : (tail[-1][1] if tail else piece[1])]) > self.overlap:
                break
            tail.insert(0, piece)
        return tail


# [end:recursive]


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)


# [start:markdown]
@dataclass(frozen=True, slots=True)
class MarkdownChunker:
    """One chunk per section where it fits; long sections fall back to :class:`RecursiveChunker`.

    Each chunk records its heading path (``"Billing > Refunds"``) as ``section`` metadata.
    The ingestion pipeline prepends that path to the text it *embeds* (not to the text it
    stores), which is what lets "how long do refunds take" match a paragraph that never
    uses the word "refund" because its heading already did.
    """

    max_tokens: int = 256
    overlap: int = 32
    length: LengthFn = approx_tokens

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        fences = self._fenced_ranges(text)
        headings = [
            m for m in _HEADING.finditer(text) if not any(a <= m.start() < b for a, b in fences)
        ]
        bounds = [0] + [m.start() for m in headings] + [len(text)]
        inner = RecursiveChunker(self.max_tokens, self.overlap, self.length)
        path: list[tuple[int, str]] = []
        spans: list[Span] = []
        extra: list[dict[str, str]] = []
        for index, (start, end) in enumerate(itertools.pairwise(bounds)):
            if index > 0:
                match = headings[index - 1]
                level = len(match.group(1))
                path = [(lvl, title) for lvl, title in path if lvl < level]
                path.append((level, match.group(2).strip()))
            section = " > ".join(title for _, title in path)
            for span in inner.split_spans(text, start, end):
                spans.append(span)
                extra.append({"section": section} if section else {})
        return _make_chunks(document, spans, extra)

    @staticmethod
    def _fenced_ranges(text: str) -> list[Span]:
        """Code fences, inside which a ``#`` line is a comment, not a heading."""
        marks = [m.start() for m in _FENCE.finditer(text)]
        return [(a, b) for a, b in zip(marks[::2], marks[1::2], strict=False)]


# [end:markdown]
