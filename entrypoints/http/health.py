"""The detailed health report, and the optional hook a backend fills it with.

Every backend gets the same baseline without doing anything: a timed round trip
through a system unit of work (database reachability and latency) and, for the SQL
backends, the migration state. A backend's unit-of-work factory may add what only
it knows by defining :class:`HealthReporter`'s ``health()``, answering a mapping
(or an object with ``as_dict()``, as the PostgreSQL factory's ``HealthReport``)
with any of these keys:

- ``pool``: connection pool statistics; numeric values are shown
  (``{"size": 5, "checked_out": 1, "overflow": 0}``);
- ``<name>_version``: a version string, shown as ``versions[<name>]``
  (``server_version``, ``pgvector_version``);
- ``migration_revision``: the revision the database is at, which then spares the
  report its own Alembic round trip;
- ``replica``: the read replica's state (``ReadRouting``), shown as it is.

Readiness (``/health/ready``) is the cheap, unauthenticated part a load balancer polls:
the primary answers a round trip in time, or the instance is not ready (503). A replica
down or lagging leaves it ready (reads go to the primary) and is shown.

Other keys are ignored and values of the wrong type dropped, so a hook cannot
break the endpoint; a hook that raises is reported in ``errors`` by exception type
only, as messages may carry connection details.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tenantrag.domain.usecases.app import TenantRag

SQL_BACKENDS = frozenset({"sqlite", "postgresql"})


@runtime_checkable
class HealthReporter(Protocol):
    async def health(self) -> object: ...


class DatabaseHealth(BaseModel):
    reachable: bool
    latency_ms: float | None = Field(description="One round trip through a unit of work.")


class MigrationHealth(BaseModel):
    current: str | None = Field(description="The revision the database is at; null if never migrated.")
    head: str = Field(description="The newest revision this version of tenantrag ships.")
    up_to_date: bool


class EmbedderHealth(BaseModel):
    name: str
    dimension: int


class HealthDetail(BaseModel):
    status: Literal["ok", "degraded"]
    backend: str = Field(description="`memory`, `sqlite` or `postgresql`.")
    database: DatabaseHealth
    migrations: MigrationHealth | None = Field(
        description="Null for memory:// (a new in-memory database per process)."
    )
    pool: dict[str, float] | None = Field(
        description="Connection pool statistics, when the backend has a pool."
    )
    versions: dict[str, str] = Field(
        description="Database server and extension versions the backend reports."
    )
    embedder: EmbedderHealth
    replica: dict[str, object] | None = Field(
        default=None,
        description="With DATABASE_REPLICA_URL: its status (`ok`, `down`, `lagging`), where reads"
        " go, its lag and the reason it gets no reads.",
    )
    errors: list[str] = Field(description="What could not be checked, and why.")


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class ReplicaHealth(BaseModel):
    status: Literal["ok", "down", "lagging"] = Field(description="`ok`: reads go to the replica.")
    reads: Literal["replica", "primary"] = Field(description="Where read-only work goes now.")
    lag_seconds: float | None = Field(description="How far behind the replica was at its last check.")


class Readiness(BaseModel):
    """Whether this instance can serve: the database answers. A replica that is down or
    lagging does not make it unready (reads go to the primary), but is shown."""

    status: Literal["ready", "unavailable"]
    database: Literal["ok", "unavailable"]
    replica: ReplicaHealth | None = Field(description="Null without DATABASE_REPLICA_URL.")


# A load balancer polls often: a database slower than this to answer is not ready.
READINESS_TIMEOUT = 5.0


async def readiness(rag: TenantRag, *, within: float = READINESS_TIMEOUT) -> Readiness:
    """One round trip through a system unit of work (the primary), within ``within`` seconds."""
    try:
        reachable = (await asyncio.wait_for(_database(rag, []), within)).reachable
    except TimeoutError:
        reachable = False
    routing = getattr(rag.uow, "read_routing", None)
    replica = None
    if routing is not None:
        state = routing.state()
        replica = ReplicaHealth(status=state.status, reads=state.reads, lag_seconds=state.lag_seconds)
    return Readiness(
        status="ready" if reachable else "unavailable",
        database="ok" if reachable else "unavailable",
        replica=replica,
    )


async def probe(rag: TenantRag, *, backend: str, database_url: str | None) -> HealthDetail:
    errors: list[str] = []
    database = await _database(rag, errors)
    extra = await _hook(rag, errors)
    migrations = None
    if backend in SQL_BACKENDS:
        migrations = await _migrations(database_url, extra.get("migration_revision"), errors)
    degraded = not database.reachable or (migrations is not None and not migrations.up_to_date)
    return HealthDetail(
        status="degraded" if degraded or errors else "ok",
        backend=backend,
        database=database,
        migrations=migrations,
        pool=_numbers(extra.get("pool")),
        versions=_versions(extra),
        embedder=EmbedderHealth(name=rag.embedder.name, dimension=rag.embedder.dimension),
        replica=_replica(extra.get("replica")),
        errors=errors,
    )


async def _database(rag: TenantRag, errors: list[str]) -> DatabaseHealth:
    started = time.perf_counter()
    try:
        async with rag.uow.system() as uow:
            await uow.tenants.get(uuid.UUID(int=0))
    except Exception as exc:  # a health check reports failures rather than raising them
        errors.append(f"database: {type(exc).__name__}")
        return DatabaseHealth(reachable=False, latency_ms=None)
    return DatabaseHealth(reachable=True, latency_ms=round((time.perf_counter() - started) * 1000, 3))


async def _migrations(
    database_url: str | None, reported: object, errors: list[str]
) -> MigrationHealth | None:
    from tenantrag.adapters.sql import migrations

    try:
        if isinstance(reported, str):
            current: str | None = reported
        elif database_url is not None:
            current = await migrations.current_async(database_url)
        else:
            return None
        head = migrations.head()
    except Exception as exc:
        errors.append(f"migrations: {type(exc).__name__}")
        return None
    return MigrationHealth(current=current, head=head, up_to_date=current == head)


async def _hook(rag: TenantRag, errors: list[str]) -> Mapping[str, object]:
    if not isinstance(rag.uow, HealthReporter):
        return {}
    try:
        report = await rag.uow.health()
        as_dict = getattr(report, "as_dict", None)
        report = as_dict() if callable(as_dict) else report
    except Exception as exc:
        errors.append(f"backend: {type(exc).__name__}")
        return {}
    return report if isinstance(report, Mapping) else {}


def _numbers(value: object) -> dict[str, float] | None:
    if not isinstance(value, Mapping):
        return None
    return {
        str(k): float(v) for k, v in value.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _replica(value: object) -> dict[str, object] | None:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else None


def _versions(report: Mapping[str, object]) -> dict[str, str]:
    return {
        str(key).removesuffix("_version"): value
        for key, value in report.items()
        if str(key).endswith("_version") and isinstance(value, str)
    }
