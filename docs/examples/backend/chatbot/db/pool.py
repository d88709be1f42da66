"""Engine options per database: pool sized from the fleet for PostgreSQL, defaults for SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from chatbot.architecture.pools import PoolBudget, engine_options
from chatbot.settings import DatabasePool


# [start:pool]
def budget(pool: DatabasePool) -> PoolBudget:
    return PoolBudget(
        server_max_connections=pool.server_max_connections,
        reserved=pool.reserved,
        max_pods=pool.max_pods,
        surge_pods=pool.surge_pods,
        workers_per_pod=pool.workers_per_pod,
        other_clients=pool.other_clients,
    )


def engine_kwargs(database_url: str, pool: DatabasePool) -> dict[str, Any]:
    """Keyword arguments for ``create_async_engine``.

    PostgreSQL through asyncpg gets a pool derived from the fleet: if the autoscaler's
    maximum no longer fits ``max_connections``, :class:`PoolBudgetError` stops the process
    at start-up, not at peak traffic. SQLite keeps SQLAlchemy's defaults.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return {"pool_pre_ping": True}
    options = engine_options(budget(pool), application_name="chatbot-api")
    if url.get_driver_name() != "asyncpg":
        options.pop("connect_args")  # server_settings is asyncpg's spelling
    return options


# [end:pool]
