"""Fit a conversation into the model's context window: budget, then choose what to drop.

The budget is computed from the window size, minus the reply we reserve room for, minus
everything that is not history (system prompt, memory, retrieved documents), minus a
safety margin for tokenizer disagreement. History gets what is left, and a strategy
decides which turns survive. Turns, not messages, are the unit: dropping a user question
but keeping its answer (or a tool result without its call, which providers reject) leaves
the model reading a conversation that never happened.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chatbot.memory.conversation import Message
from chatbot.memory.tokens import PER_MESSAGE_OVERHEAD, REPLY_PRIMING

Strategy = Literal["truncate", "sliding_window", "importance"]


# [start:budget]
@dataclass(frozen=True, slots=True)
class ContextBudget:
    """Token arithmetic for one request; every number comes from settings."""

    context_window: int
    max_output_tokens: int
    safety_margin: float = 0.05  # tokenizer drift between our count and the provider's

    def for_history(self, *, system_tokens: int, memory_tokens: int, retrieval_tokens: int) -> int:
        usable = int(self.context_window * (1 - self.safety_margin)) - self.max_output_tokens
        left = usable - system_tokens - memory_tokens - retrieval_tokens - REPLY_PRIMING
        if left <= 0:
            msg = f"no room for history: {left} tokens after system, memory and retrieval"
            raise ContextOverflow(msg)
        return left


# [end:budget]


class ContextOverflow(Exception):
    """Even the newest turn does not fit; the caller must shrink or reject the request."""


@dataclass(frozen=True, slots=True)
class Turn:
    """A user message and everything that answered it."""

    messages: tuple[Message, ...]

    @property
    def tokens(self) -> int:
        return sum(m.token_count + PER_MESSAGE_OVERHEAD for m in self.messages)

    @property
    def pinned(self) -> bool:
        return any(m.pinned for m in self.messages)


def group_turns(messages: Sequence[Message]) -> list[Turn]:
    """Split a path into turns; leading system messages form their own pinned turn."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.role == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return [Turn(tuple(t)) for t in turns]


_SIGNALS = re.compile(
    r"\b(remember|always|never|my name|i am|i'm|prefer|deadline|account|order)\b|\d{3,}|@",
    re.IGNORECASE,
)


# [start:manager]
@dataclass(frozen=True, slots=True)
class Selection:
    kept: list[Message]
    dropped: list[Message]
    tokens: int


class ContextManager:
    """Choose the turns that fit ``budget`` tokens, using one of three strategies.

    * ``truncate``: newest turns first until the budget is spent. Simple, predictable.
    * ``sliding_window``: at most ``window_turns`` recent turns, then truncate. Bounds
      cost and latency per request regardless of the model's window.
    * ``importance``: score each older turn (pins, recency, facts the user stated) and drop
      the lowest first. Keeps "my account id is 4411" from turn 2 alive at turn 40.

    The newest turn and pinned turns are never dropped; order is always preserved.
    """

    def __init__(self, *, window_turns: int = 12, recency_half_life: int = 6) -> None:
        self._window = window_turns
        self._half_life = recency_half_life

    def select(
        self, messages: Sequence[Message], *, budget: int, strategy: Strategy = "truncate"
    ) -> Selection:
        turns = group_turns(messages)
        if not turns:
            return Selection([], [], 0)
        newest = len(turns) - 1
        if strategy == "sliding_window":
            keep = {i for i in range(len(turns)) if i > newest - self._window or turns[i].pinned}
        else:
            keep = set(range(len(turns)))
        order = self._drop_order(turns, strategy)
        used = sum(turns[i].tokens for i in keep)
        for index in order:
            if used <= budget:
                break
            if index in keep and index != newest and not turns[index].pinned:
                keep.discard(index)
                used -= turns[index].tokens
        if used > budget:
            msg = f"{used} tokens of newest and pinned turns exceed the budget of {budget}"
            raise ContextOverflow(msg)
        kept = [m for i, t in enumerate(turns) if i in keep for m in t.messages]
        dropped = [m for i, t in enumerate(turns) if i not in keep for m in t.messages]
        return Selection(kept, dropped, used)

    def importance(self, turn: Turn, age: int) -> float:
        """Higher survives longer: recency halves every ``recency_half_life`` turns."""
        score = math.pow(0.5, age / self._half_life)
        text = " ".join(m.content for m in turn.messages)
        score += 0.3 * min(3, len(_SIGNALS.findall(text)))
        if any(m.role == "tool" for m in turn.messages):
            score -= 0.2  # tool output is bulky and usually re-derivable
        return score

    def _drop_order(self, turns: list[Turn], strategy: Strategy) -> list[int]:
        """Indices in the order they should be dropped."""
        if strategy != "importance":
            return list(range(len(turns)))  # oldest first
        newest = len(turns) - 1
        scored = [(self.importance(t, newest - i), i) for i, t in enumerate(turns)]
        return [i for _, i in sorted(scored)]


# [end:manager]
