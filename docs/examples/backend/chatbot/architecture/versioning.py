"""API versioning middleware: major version in the path, lifecycle in the headers.

Each major version is its own router (``/v1``, ``/v2``) over the same service layer.
This middleware owns only the lifecycle: it rejects unknown versions, announces
deprecation with the ``Deprecation`` (RFC 9745) and ``Sunset`` (RFC 8594) headers plus
a ``successor-version`` link, and answers ``410 Gone`` once a version's sunset passes.
It is plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, so it adds headers to
a streaming response without touching, buffering or re-chunking its body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VERSION = re.compile(r"^/(v\d+)(?:/|$)")


# [start:policy]
@dataclass(frozen=True, slots=True)
class VersionPolicy:
    """The lifecycle of one major version."""

    name: str  # "v1"
    deprecated_at: datetime | None = None
    sunset_at: datetime | None = None
    successor: str | None = None  # e.g. "/v2" or a migration guide URL

    def lifecycle_headers(self) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = []
        if self.deprecated_at:
            stamp = int(self.deprecated_at.timestamp())
            headers.append((b"deprecation", f"@{stamp}".encode()))
        if self.sunset_at:
            headers.append((b"sunset", format_datetime(self.sunset_at, usegmt=True).encode()))
        if self.successor:
            headers.append((b"link", f'<{self.successor}>; rel="successor-version"'.encode()))
        return headers


# [end:policy]


# [start:middleware]
class ApiVersionMiddleware:
    """Route-agnostic lifecycle enforcement for ``/vN/...`` paths."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        versions: Sequence[VersionPolicy],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self._versions = {policy.name: policy for policy in versions}
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _VERSION.match(scope.get("path", "")) if scope["type"] != "lifespan" else None
        if match is None:  # /healthz, /metrics, /docs: unversioned by design
            await self.app(scope, receive, send)
            return
        policy = self._versions.get(match.group(1))
        if policy is None:
            await self._reject(scope, send, 404, "unknown API version")
            return
        if policy.sunset_at and self._clock() >= policy.sunset_at:
            await self._reject(scope, send, 410, f"{policy.name} was retired", policy)
            return
        scope.setdefault("state", {})["api_version"] = policy.name
        extra = policy.lifecycle_headers()
        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _reject(
        self,
        scope: Scope,
        send: Send,
        status: int,
        detail: str,
        policy: VersionPolicy | None = None,
    ) -> None:
        if scope["type"] == "websocket":
            # Closing before accept makes the server refuse the handshake (HTTP 403).
            await send({"type": "websocket.close", "code": 1008, "reason": detail})
            return
        body = json.dumps({"detail": detail, "supported": sorted(self._live())}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if policy:
            headers += policy.lifecycle_headers()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _live(self) -> list[str]:
        now = self._clock()
        return [n for n, p in self._versions.items() if not p.sunset_at or p.sunset_at > now]


# [end:middleware]
