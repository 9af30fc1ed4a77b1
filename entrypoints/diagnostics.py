"""What an operator wants to know about the database before trusting it: ``tenantrag status``.

Backend, URL (password hidden), whether it answers and how fast, where its schema is in
the migration history, the server and extension versions, and how many rows each table
holds. It opens its own short-lived connection (no pool) as the connecting user, and
never creates anything: a SQLite file that is not there is reported, not made, and a
database without the schema is reported as such rather than failing on the first query.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import attrs
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.sql import migrations, schema
from tenantrag.entrypoints.backends import plain_engine
from tenantrag.entrypoints.settings import Settings


@attrs.frozen(kw_only=True)
class Diagnosis:
    backend: str
    database_url: str
    reachable: bool
    error: str | None = None
    latency_ms: float | None = None
    revision: str | None = None
    head: str
    versions: dict[str, str] = attrs.field(factory=dict)
    row_counts: dict[str, int] = attrs.field(factory=dict)

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head

    @property
    def healthy(self) -> bool:
        """Reachable with the newest schema (memory:// always is)."""
        return self.reachable and self.up_to_date


async def diagnose(settings: Settings) -> Diagnosis:
    base: dict[str, Any] = {
        "backend": settings.backend,
        "database_url": settings.redacted_database_url,
        "head": migrations.head(),
    }
    if settings.backend == "memory":
        # A new store per process, migrated when opened: nothing here to look at.
        versions = {"sqlite": sqlite3.sqlite_version}
        return Diagnosis(**base, reachable=True, revision=base["head"], versions=versions)
    path = settings.sqlite_path
    if path is not None and not path.exists():
        return Diagnosis(**base, reachable=False, error=f"no database file at {path}")
    engine = plain_engine(settings)
    try:
        started = time.perf_counter()
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            latency = round((time.perf_counter() - started) * 1000, 3)
            revision = await _revision(connection)
            versions = await _versions(connection, settings.backend)
            counts = await _row_counts(connection) if revision is not None else {}
    except DBAPIError as error:
        return Diagnosis(**base, reachable=False, error=str(error.orig))
    except OSError as error:
        return Diagnosis(**base, reachable=False, error=str(error))
    finally:
        await engine.dispose()
    return Diagnosis(
        **base, reachable=True, latency_ms=latency, revision=revision, versions=versions, row_counts=counts
    )


async def _revision(connection: AsyncConnection) -> str | None:
    exists = await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))
    if not exists:
        return None
    rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    return ",".join(sorted(rows)) or None


async def _versions(connection: AsyncConnection, backend: str) -> dict[str, str]:
    if backend == "sqlite":
        return {"sqlite": str((await connection.execute(text("SELECT sqlite_version()"))).scalar_one())}
    row = (
        await connection.execute(
            text(
                "SELECT current_setting('server_version'),"
                " (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'vector')"
            )
        )
    ).one()
    versions = {"postgresql": str(row[0])}
    if row[1] is not None:
        versions["pgvector"] = str(row[1])
    return versions


async def _row_counts(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in schema.metadata.sorted_tables:
        result = await connection.execute(select(func.count()).select_from(table))
        counts[table.name] = int(result.scalar_one())
    return counts
