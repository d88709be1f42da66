"""The guardrail chain around one chat turn, including filtering a streamed answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from fastapi import Depends, HTTPException, Request, status
from openai import AsyncOpenAI
from pydantic import BaseModel, ConfigDict, ValidationError

from chatbot.security.guardrails import InjectionDetector, OutputFilter, Verdict
from chatbot.security.moderation import Moderator, OpenAIModerator
from chatbot.security.sanitize import InputTooLong, sanitize_input

if TYPE_CHECKING:
    from chatbot.settings import Settings


@dataclass(frozen=True, slots=True)
class InputDecision:
    allowed: bool
    text: str  # sanitised: what is stored and sent to the model
    reasons: tuple[str, ...]  # for the audit log and metrics; never shown to the user


# [start:chain]
class GuardrailChain:
    """sanitise -> injection detector -> moderation, then the model, then the output filter.

    The cheap checks run first so that most blocked requests never cost a network call.
    """

    def __init__(
        self,
        *,
        detector: InjectionDetector,
        output_filter: OutputFilter,
        moderator: Moderator | None = None,
        max_chars: int = 8000,
    ) -> None:
        self._detector = detector
        self._filter = output_filter
        self._moderator = moderator
        self._max_chars = max_chars

    async def check_input(self, raw: str) -> InputDecision:
        clean = sanitize_input(raw, max_chars=self._max_chars)  # raises InputTooLong
        reasons = list(clean.findings)
        # The raw text, because obfuscation is evidence. Scanning costs ~10 ms per 1,000
        # characters of CPU; long inputs go to a thread so other streams keep flowing.
        if len(raw) > 2000:
            detection = await anyio.to_thread.run_sync(self._detector.scan, raw)
        else:
            detection = self._detector.scan(raw)
        reasons += [f"rule:{r}" for r in detection.rules]
        if detection.verdict is Verdict.BLOCK:
            return InputDecision(False, clean.text, tuple(reasons))
        if self._moderator is not None:
            moderation = await self._moderator.check(clean.text)
            reasons += [f"moderation:{c}" for c in moderation.categories]
            if moderation.flagged:
                return InputDecision(False, clean.text, tuple(reasons))
        return InputDecision(True, clean.text, tuple(reasons))

    def stream_filter(self) -> StreamingOutputFilter:
        return StreamingOutputFilter(self._filter)


# [end:chain]


# [start:stream-filter]
_RISKY = ("![", "[", "<", "http")


class StreamingOutputFilter:
    """Apply ``OutputFilter`` to a token stream without waiting for the whole answer.

    A link can arrive split over many deltas (``![x](https://ev`` ... ``il.test/?q=``), so
    text is released only up to the first character that could start a link, an image or a
    tag; the rest waits for the end of its line (or 2,000 characters). Plain prose streams
    with no delay; a line holding a link is delayed until the line is complete.
    """

    def __init__(self, output_filter: OutputFilter, *, max_hold: int = 2000) -> None:
        self._filter = output_filter
        self._max_hold = max_hold
        self._pending = ""
        self._recent = ""  # tail of released text, to catch a canary split across deltas
        self.findings: list[str] = []
        self.blocked = False

    def feed(self, delta: str) -> str:
        """Text that is safe to send now (possibly empty)."""
        if self.blocked:
            return ""
        self._pending += delta
        complete, newline, partial = self._pending.rpartition("\n")
        ready = complete + newline
        if not newline:
            ready, partial = "", self._pending
        cut = _first_risky(partial)
        if cut is None or len(partial) > self._max_hold:
            ready, partial = ready + partial, ""
        elif cut > 0:
            ready, partial = ready + partial[:cut], partial[cut:]
        self._pending = partial
        return self._release(ready)

    def close(self) -> str:
        """Flush what is left at the end of the stream."""
        rest, self._pending = self._pending, ""
        return self._release(rest) if not self.blocked else ""

    def _release(self, text: str) -> str:
        if not text:
            return ""
        result = self._filter.apply(self._recent + text)
        if result.blocked:
            self.blocked = True
            self.findings += result.findings
            return "\n\n[answer withheld]"
        filtered = self._filter.apply(text)
        self.findings += filtered.findings
        self._recent = (self._recent + text)[-200:]
        return filtered.text


def _first_risky(text: str) -> int | None:
    positions = [i for marker in _RISKY if (i := text.find(marker)) >= 0]
    # A trailing "!" may become "![", a trailing "h", "ht", "htt" may become "http".
    for tail in ("htt", "ht", "h", "!"):
        if text.endswith(tail):
            positions.append(len(text) - len(tail))
            break
    return min(positions) if positions else None


async def filtered_stream(
    deltas: AsyncIterator[str], stream_filter: StreamingOutputFilter
) -> AsyncIterator[str]:
    async for delta in deltas:
        if out := stream_filter.feed(delta):
            yield out
        if stream_filter.blocked:
            return  # stop reading: closing the generator closes the upstream model stream
    if tail := stream_filter.close():
        yield tail


# [end:stream-filter]


# [start:guarded]
def build_guardrails(settings: Settings) -> GuardrailChain:
    """The chain the app uses; moderation only when configured with a key and a model."""
    moderator: Moderator | None = None
    security = settings.security
    if security.moderation_enabled and settings.openai_api_key and security.moderation_model:
        client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value())
        moderator = OpenAIModerator(
            client, model=security.moderation_model, thresholds={"self_harm_intent": 0.2}
        )
    return GuardrailChain(
        detector=InjectionDetector(),
        output_filter=OutputFilter(
            allowed_hosts=security.link_allowlist, system_prompt=settings.system_prompt
        ),
        moderator=moderator,
    )


def guardrails_of(request: Request) -> GuardrailChain:
    """The app's chain, built on first use from the settings the lifespan stored."""
    chain: GuardrailChain | None = getattr(request.app.state, "guardrails", None)
    if chain is None:
        chain = request.app.state.guardrails = build_guardrails(request.app.state.settings)
    return chain


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: str


async def guarded_message(request: Request) -> InputDecision:
    """Run the input guardrails before a chat turn starts streaming; 400 if blocked.

    The refusal is deliberately vague: the reasons go to the audit log, not the caller.
    """
    chain = guardrails_of(request)
    try:
        message = _Message.model_validate_json(await request.body()).message
        decision = await chain.check_input(message)
    except (ValidationError, InputTooLong) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid message") from exc
    if not decision.allowed:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "I can't help with that request.")
    return decision


GuardedMessage = Annotated[InputDecision, Depends(guarded_message)]
# [end:guarded]
