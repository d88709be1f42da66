"""Probes: ``/healthz`` says the process runs, ``/readyz`` that its dependencies answer."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from chatbot.db.session import ping

router = APIRouter(tags=["health"])


# [start:probes]
@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: no dependency checks, so a database outage does not restart every pod."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, response: Response) -> dict[str, str]:
    """Readiness: take this replica out of the load balancer while a dependency is down."""
    checks = {"database": "ok"}
    try:
        await ping(request.app.state.engine)
    except Exception:  # any failure means "not ready"; the logs carry the detail
        checks["database"] = "unavailable"
    if request.app.state.redis is not None:
        try:
            await request.app.state.redis.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unavailable"
    if any(value != "ok" for value in checks.values()):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return checks


# [end:probes]
