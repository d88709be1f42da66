"""Prompt compression: fewer input tokens for the same answer, and a report of what went.

Only transformations that cannot change the meaning of the *latest* message run here:
whitespace outside code, passages repeated from earlier in the conversation, and the
middle of very long tool results. Summarising old turns is the memory layer's job
(chapter 7); dropping words with a small model (LLMLingua-style) saves more and risks
more, and belongs behind an evaluation run, not in a default.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from chatbot.llm.tokens import TextCounter
from chatbot.providers.base import ChatMessage

FENCE = re.compile(r"(```.*?```)", re.DOTALL)
SPACES = re.compile(r"[ \t]+")
BLANK_LINES = re.compile(r"\n\s*\n+")
PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass
class CompressionReport:
    """Tokens before and after, and what each step removed."""

    before: int = 0
    after: int = 0
    saved_by: dict[str, int] = field(default_factory=dict)

    @property
    def saved_share(self) -> float:
        return 1 - self.after / self.before if self.before else 0.0


# [start:compressor]
class PromptCompressor:
    """Lossless-first compression of a conversation before it is sent.

    The latest message is never touched: it is what the user is asking now, and the
    one place where a dropped word changes the answer.
    """

    def __init__(
        self,
        counter: TextCounter,
        *,
        tool_result_tokens: int = 1_500,  # keep this much of a long tool result
        min_repeat_chars: int = 200,  # shorter repeats cost less than the marker
    ) -> None:
        self._counter = counter
        self._tool_result_tokens = tool_result_tokens
        self._min_repeat_chars = min_repeat_chars

    def compress(
        self, messages: Sequence[ChatMessage]
    ) -> tuple[list[ChatMessage], CompressionReport]:
        report = CompressionReport(before=self._tokens(messages))
        *history, latest = messages
        steps = (
            ("whitespace", self._squeeze_whitespace),
            ("repeats", self._drop_repeats),
            ("tool_results", self._trim_tool_results),
        )
        current = list(history)
        for name, step in steps:
            before = self._tokens(current)
            current = step(current)
            report.saved_by[name] = before - self._tokens(current)
        result = [*current, latest]
        report.after = self._tokens(result)
        return result, report

    def _squeeze_whitespace(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        return [replace(m, content=squeeze(m.content)) for m in messages]

    def _drop_repeats(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        """A paragraph seen earlier (a pasted log, a re-sent document) is sent once."""
        seen: set[str] = set()
        out = []
        for message in messages:
            kept = []
            for paragraph in PARAGRAPH.split(message.content):
                digest = hashlib.sha256(paragraph.strip().encode()).hexdigest()
                if len(paragraph) >= self._min_repeat_chars and digest in seen:
                    kept.append("[repeated text omitted; it appears earlier]")
                    continue
                seen.add(digest)
                kept.append(paragraph)
            out.append(replace(message, content="\n\n".join(kept)))
        return out

    def _trim_tool_results(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        """Keep the head and tail of a huge tool result: errors and totals live there."""
        return [
            replace(m, content=self._head_and_tail(m.content)) if m.role == "tool" else m
            for m in messages
        ]

    def _head_and_tail(self, text: str) -> str:
        tokens = self._counter.count(text)
        if tokens <= self._tool_result_tokens:
            return text
        keep_chars = int(len(text) * self._tool_result_tokens / tokens) // 2
        omitted = tokens - self._tool_result_tokens
        marker = f"\n[... about {omitted} tokens omitted ...]\n"
        return text[:keep_chars] + marker + text[-keep_chars:]

    def _tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self._counter.count(m.content) for m in messages)


def squeeze(text: str) -> str:
    """Collapse runs of spaces and blank lines outside fenced code (indentation matters)."""
    parts = FENCE.split(text)
    for index in range(0, len(parts), 2):  # even indices are outside the fences
        lines = (_squeeze_line(line) for line in parts[index].split("\n"))
        parts[index] = BLANK_LINES.sub("\n\n", "\n".join(lines))
    return "".join(parts).strip()


def _squeeze_line(line: str) -> str:
    indent = len(line) - len(line.lstrip(" \t"))  # unfenced code still needs its indent
    return line[:indent] + SPACES.sub(" ", line[indent:]).rstrip()


# [end:compressor]
