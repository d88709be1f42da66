"""Content moderation through a provider's moderation endpoint, with our own thresholds.

The provider's ``flagged`` bit uses the provider's thresholds. An enterprise assistant
usually wants some categories stricter (self-harm: answer with resources, do not refuse
silently) and some looser (violence in a security team's incident reports), so the
decision is made here from ``category_scores``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import openai
from openai import AsyncOpenAI

log = logging.getLogger("chatbot.moderation")


@dataclass(frozen=True, slots=True)
class ModerationResult:
    flagged: bool
    categories: tuple[str, ...]  # the ones over their threshold
    error: bool = False  # the moderation call failed and the failure policy decided


class Moderator(Protocol):
    async def check(self, text: str) -> ModerationResult: ...


# [start:moderation]
class OpenAIModerator:
    """``client.moderations.create`` with per-category thresholds and a failure policy."""

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        model: str,
        thresholds: Mapping[str, float],
        default_threshold: float = 0.5,
        timeout_s: float = 2.0,
        on_error: Literal["allow", "block"] = "allow",
    ) -> None:
        self._client = client
        self._model = model  # from settings; the provider renames moderation models too
        self._thresholds = thresholds
        self._default = default_threshold
        self._timeout = timeout_s
        self._on_error = on_error

    async def check(self, text: str) -> ModerationResult:
        try:
            response = await self._client.moderations.create(
                model=self._model, input=text, timeout=self._timeout
            )
        except openai.APIError as exc:  # timeouts and connection errors are APIErrors too
            log.warning(
                "moderation unavailable (%s); policy=%s", type(exc).__name__, self._on_error
            )
            return ModerationResult(self._on_error == "block", (), error=True)
        scores = response.results[0].category_scores.model_dump()
        over = tuple(
            sorted(
                name
                for name, score in scores.items()
                if score is not None and score >= self._thresholds.get(name, self._default)
            )
        )
        return ModerationResult(bool(over), over)


# [end:moderation]
