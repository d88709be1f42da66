"""Plug the security controls into the app: one call from the application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Imported for their tables: ``create_all`` and the migration test see every model.
from chatbot.security import access, apikeys, audit, erasure, privacy  # noqa: F401
from chatbot.security.settings import SecuritySettings


# [start:body-limit]
class BodyLimitMiddleware:
    """Reject request bodies over *max_bytes* with 413 before any of them is parsed.

    ``Content-Length`` is checked first. A chunked upload without one is read here, up to
    the limit, and replayed to the app: counting inside the app's ``receive`` would not work,
    because FastAPI turns any exception raised while it reads the body into a 400.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await _reject(send, 413, b'{"detail":"request body too large"}')
                return
            await self.app(scope, receive, send)  # the server enforces Content-Length
            return
        buffered: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # the client went away; let the app see it
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await _reject(send, 413, b'{"detail":"request body too large"}')
                return

        async def replay() -> Message:
            # After the body, hand over to the real receive so the app still hears
            # "http.disconnect" while it streams its answer.
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


async def _reject(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# [end:body-limit]


# [start:headers]
class SecurityHeadersMiddleware:
    """Headers every API response carries; the frontend sets its own CSP."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),  # conversations must not land in shared caches
        (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message["headers"]}
                extra = [(n, v) for n, v in self.HEADERS if n not in present]
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


# [end:headers]


# [start:install]
def install_security(app: FastAPI, settings: SecuritySettings) -> None:
    """Middleware, outermost last: CORS answers preflights before the body limit runs."""
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,  # exact origins; never "*" with credentials
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            max_age=600,  # browsers cap this anyway (Chromium: 2 hours)
        )


# [end:install]
