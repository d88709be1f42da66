"""Database connection-pool sizing: pods x workers x pool size must fit the server.

Every worker process owns its own SQLAlchemy pool, so the number of server connections
the fleet can open is ``pods x workers x (pool_size + max_overflow)``. Size against the
largest fleet that can exist at once: the autoscaler's maximum plus the pods a rolling
update adds on top, not the replica count on a quiet afternoon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


class PoolBudgetError(ValueError):
    """The fleet cannot fit in the server's connection limit."""


# [start:budget]
@dataclass(frozen=True, slots=True)
class PoolBudget:
    """The inputs of the arithmetic, all read from configuration you already have."""

    server_max_connections: int  # PostgreSQL max_connections (or PgBouncer's pool size)
    reserved: int  # superuser_reserved_connections + migrations + admin shells + monitoring
    max_pods: int  # HorizontalPodAutoscaler maxReplicas
    surge_pods: int  # Deployment maxSurge: old and new pods overlap during a rollout
    workers_per_pod: int  # uvicorn --workers
    other_clients: int = 0  # stream consumers, cron jobs and anything else with a pool

    @property
    def processes(self) -> int:
        return (self.max_pods + self.surge_pods) * self.workers_per_pod

    @property
    def available(self) -> int:
        return self.server_max_connections - self.reserved - self.other_clients

    def per_process(self, *, overflow_share: float = 0.25) -> tuple[int, int]:
        """Return ``(pool_size, max_overflow)`` so the whole fleet stays under the limit.

        ``overflow_share`` of each process's connections are overflow: opened for a burst
        and closed again, so quiet processes don't pin connections they do not use.
        """
        per_process = self.available // self.processes
        if per_process < 2:
            msg = (
                f"{self.processes} processes share {self.available} connections "
                f"({per_process} each): put PgBouncer in front or raise max_connections"
            )
            raise PoolBudgetError(msg)
        max_overflow = int(per_process * overflow_share)
        return per_process - max_overflow, max_overflow


# [end:budget]


# [start:engine-options]
def engine_options(
    budget: PoolBudget, *, application_name: str, statement_timeout_ms: int = 5_000
) -> dict[str, Any]:
    """Keyword arguments for ``create_async_engine`` with the asyncpg driver."""
    pool_size, max_overflow = budget.per_process()
    return {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        # Fail fast: a request queued 30 s (the default) for a connection is already lost.
        "pool_timeout": 2.0,
        # Below typical load-balancer/NAT idle cut-offs, so no half-dead sockets.
        "pool_recycle": 1_800,
        "pool_pre_ping": True,
        "connect_args": {
            "server_settings": {
                "application_name": application_name,  # visible in pg_stat_activity
                "statement_timeout": str(statement_timeout_ms),
            }
        },
    }


# [end:engine-options]


async def budget_from_server(
    connection: AsyncConnection,
    *,
    max_pods: int,
    surge_pods: int,
    workers_per_pod: int,
    operator_reserve: int = 5,
) -> PoolBudget:
    """Read ``max_connections`` and the superuser reserve from the server itself."""
    max_connections = int((await connection.execute(text("SHOW max_connections"))).scalar_one())
    superuser = int(
        (await connection.execute(text("SHOW superuser_reserved_connections"))).scalar_one()
    )
    return PoolBudget(
        server_max_connections=max_connections,
        reserved=superuser + operator_reserve,
        max_pods=max_pods,
        surge_pods=surge_pods,
        workers_per_pod=workers_per_pod,
    )
