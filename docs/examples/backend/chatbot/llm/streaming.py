"""Normalised provider events → the one Server-Sent Events schema clients parse.

| event       | data                                                        |
|-------------|-------------------------------------------------------------|
| ``token``     | ``{"delta": str}``                                            |
| ``tool_call`` | ``{"id": str, "name": str, "arguments": object}``              |
| ``done``      | ``{"finish_reason": str, "usage": object or null}``            |
| ``error``     | ``{"code": str, "retryable": bool, "retry_after_s": number or null}`` |

Every stream ends with exactly one ``done`` or ``error``; clients ignore unknown events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

from chatbot.providers.base import Finish, ProviderError, StreamEvent, TextDelta, ToolCall


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE event before serialisation; the web layer adds ``id`` and writes it."""

    event: str
    data: dict[str, Any]


# [start:frames]
def to_frame(event: StreamEvent) -> Frame:
    """The wire form of one provider-neutral event."""
    match event:
        case TextDelta(text=text):
            return Frame("token", {"delta": text})
        case ToolCall(id=call_id, name=name, arguments=arguments):
            return Frame("tool_call", {"id": call_id, "name": name, "arguments": arguments})
        case Finish(reason=reason, usage=usage):
            return Frame(
                "done", {"finish_reason": reason, "usage": asdict(usage) if usage else None}
            )


def error_frame(error: ProviderError) -> Frame:
    """What the client may do about a failure, never the provider's raw message."""
    data = {"code": error.code, "retryable": error.retryable, "retry_after_s": error.retry_after_s}
    return Frame("error", data)


INCOMPLETE = Frame(
    "error", {"code": "provider_incomplete", "retryable": True, "retry_after_s": None}
)


async def sse_frames(events: AsyncIterator[StreamEvent]) -> AsyncIterator[Frame]:
    """Frames for a whole turn, ending with exactly one ``done`` or ``error``.

    A stream that stops without a :class:`Finish` (a connection cut that the SDK saw as
    end-of-stream) becomes an error rather than a reply that silently stops mid-sentence.
    """
    try:
        async for event in events:
            yield to_frame(event)
            if isinstance(event, Finish):
                return
    except ProviderError as exc:
        yield error_frame(exc)
        return
    yield INCOMPLETE


# [end:frames]
