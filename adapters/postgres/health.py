"""The PostgreSQL health probe: is the server there, how fast, which versions, how busy the pool,
and, with a read replica, whether reads are going to it (read_routing.py)."""

from __future__ import annotations

import time
from typing import Any

import attrs
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from tenantrag.adapters.sql.read_routing import ReadRouting


@attrs.frozen(kw_only=True)
class HealthReport:
    backend: str
    latency_ms: float
    server_version: str
    pgvector_version: str | None
    migration_revision: str | None
    pool: dict[str, Any]
    replica: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


async def probe(engine: AsyncEngine, routing: ReadRouting | None = None) -> HealthReport:
    """One round trip on a pooled connection, as the connecting user (not the runtime role);
    with a replica, its state after a fresh check."""
    started = time.perf_counter()
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT current_setting('server_version'),"
                    " (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vector'),"
                    " CASE WHEN to_regclass('alembic_version') IS NOT NULL"
                    " THEN (SELECT string_agg(version_num, ',') FROM alembic_version) END"
                )
            )
        ).one()
    latency = (time.perf_counter() - started) * 1000
    replica = None if routing is None else (await routing.check()).as_dict()
    return HealthReport(
        backend="postgresql",
        latency_ms=round(latency, 3),
        server_version=str(row[0]),
        pgvector_version=row[1],
        migration_revision=row[2],
        pool=pool_statistics(engine),
        replica=replica,
    )


def pool_statistics(engine: AsyncEngine) -> dict[str, Any]:
    pool = engine.pool
    if not isinstance(pool, QueuePool):  # pragma: no cover - open_postgres always pools
        return {"kind": type(pool).__name__}
    return {
        "size": pool.size(),
        "checked_out": pool.checkedout(),
        "checked_in": pool.checkedin(),
        "overflow": pool.overflow(),
    }
