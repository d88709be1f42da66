"""Error handling: a request id on every response, JSON for every failure, nothing leaked.

Two layers. Exception handlers turn *known* failures (an LLM provider down, a circuit
open) into the right status with ``Retry-After``. An ASGI middleware around the routes catches
everything else: before the response has started it answers a JSON ``500`` that names
the request id; after it has started (a stream half sent) the status can no longer
change, so it logs and lets the connection drop, which the stream contract defines as
"cut off".
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatbot.architecture.circuit import CircuitOpen
from chatbot.providers import ProviderError, ProviderRateLimited

logger = logging.getLogger(__name__)

#: The current request's id, for log records (a logging filter can copy it in).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# [start:middleware]
class ErrorMiddleware:
    """Around the routes, inside CORS: request ids, and a JSON 500 for anything unhandled."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # Trust the gateway's id only if it looks like one: it ends up in our logs.
        rid = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": rid})
            if started:
                raise  # mid-stream: the server closes the connection; the client sees a cut
            body = json.dumps({"detail": "internal error", "request_id": rid}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", rid.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            request_id.reset(token)


# [end:middleware]


# [start:handlers]
def provider_error_response(exc: ProviderError) -> JSONResponse:
    """Upstream trouble is *our* outage: 503 if retrying may help, 502 if it cannot.

    A provider's 429 becomes 503, not 429: the client did nothing wrong, and a 429 would
    make well-behaved clients slow down against their own quota.
    """
    retryable = exc.retryable or isinstance(exc, ProviderRateLimited)
    headers = {}
    if retryable:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s or 5)))
    return JSONResponse(
        {
            "detail": "the language model is unavailable",
            "code": exc.code,
            "request_id": request_id.get(),
        },
        status_code=503 if retryable else 502,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_provider_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProviderError)
        logger.warning("provider error: %s", exc.code, extra={"provider": exc.provider})
        return provider_error_response(exc)

    async def on_circuit_open(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CircuitOpen)
        return JSONResponse(
            {
                "detail": "the language model is unavailable",
                "code": "circuit_open",
                "request_id": request_id.get(),
            },
            status_code=503,
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))},
        )

    app.add_exception_handler(ProviderError, on_provider_error)
    app.add_exception_handler(CircuitOpen, on_circuit_open)


# [end:handlers]
