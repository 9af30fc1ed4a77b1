"""/health for load balancers, /health/detailed for operators, and the backend's health hook."""

from __future__ import annotations

import attrs
import httpx

from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import SystemUnitOfWork
from tenantrag.entrypoints.bootstrap import bootstrap
from tenantrag.entrypoints.http.context import ApiContext
from tenantrag.entrypoints.http.health import HealthReporter, probe
from tests.http.helpers import assert_problem
from tests.http.world import World
from tests.wrapped_store import WrappedStore


async def test_liveness_needs_no_credentials_and_no_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_the_detailed_report_is_for_superusers(
    client: httpx.AsyncClient, world: World, context: ApiContext
) -> None:
    assert_problem(await client.get("/health/detailed"), 401, "authentication_failed")
    owner_key = await world.key_as(Role.OWNER)
    for headers in (world.as_role(Role.OWNER), owner_key):
        assert_problem(await client.get("/health/detailed", headers=headers), 403, "permission_denied")
    root = await context.rag.users.register(email="root@example.com", is_superuser=True)
    response = await client.get("/health/detailed", headers=world.bearer(root))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["backend"] == context.config.backend
    assert report["database"]["reachable"] is True
    assert report["database"]["latency_ms"] >= 0
    assert report["embedder"]["dimension"] == 64
    assert report["errors"] == []
    assert report["status"] == "ok"
    assert report["migrations"]["up_to_date"] is True
    assert report["migrations"]["current"] == report["migrations"]["head"]
    assert "database_url" not in response.text


class _PooledMemory(WrappedStore):
    """A backend that fills in the health hook, as the PostgreSQL factory does."""

    def __init__(self, dimension: int, report: object) -> None:
        super().__init__(dimension)
        self.report = report

    async def health(self) -> object:
        if isinstance(self.report, Exception):
            raise self.report
        return self.report


@attrs.frozen
class _Report:
    """Shaped like the PostgreSQL factory's HealthReport."""

    server_version: str = "18.1"
    pgvector_version: str | None = "0.8.1"
    migration_revision: str | None = None
    pool: dict[str, object] = attrs.field(factory=lambda: {"size": 5, "checked_out": 2, "kind": "QueuePool"})

    def as_dict(self) -> dict[str, object]:
        return attrs.asdict(self)


async def test_the_health_hook_adds_pool_statistics_and_versions() -> None:
    factory = _PooledMemory(8, _Report())
    assert isinstance(factory, HealthReporter)
    report = await probe(bootstrap(uow=factory), backend="memory", database_url=None)
    assert report.pool == {"size": 5.0, "checked_out": 2.0}
    assert report.versions == {"server": "18.1", "pgvector": "0.8.1"}
    assert (report.status, report.migrations) == ("ok", None)
    mapping = _PooledMemory(8, {"pool": "not a mapping", "pgvector_version": 8, "x": 1})
    report = await probe(bootstrap(uow=mapping), backend="memory", database_url=None)
    assert (report.pool, report.versions, report.status) == (None, {}, "ok")
    await factory.dispose()
    await mapping.dispose()


async def test_a_reported_migration_revision_is_compared_with_the_head() -> None:
    from tenantrag.adapters.sql import migrations

    at_head = _PooledMemory(8, _Report(migration_revision=migrations.head()))
    report = await probe(bootstrap(uow=at_head), backend="postgresql", database_url=None)
    assert report.migrations is not None
    assert (report.migrations.up_to_date, report.status) == (True, "ok")
    behind = _PooledMemory(8, _Report(migration_revision="0000"))
    report = await probe(bootstrap(uow=behind), backend="postgresql", database_url=None)
    assert report.migrations is not None
    assert (report.migrations.current, report.migrations.up_to_date, report.status) == (
        "0000",
        False,
        "degraded",
    )
    await at_head.dispose()
    await behind.dispose()


async def test_a_failing_hook_or_database_degrades_the_report_without_leaking_details() -> None:
    failing = _PooledMemory(8, RuntimeError("password=hunter2"))
    report = await probe(bootstrap(uow=failing), backend="memory", database_url=None)
    assert (report.status, report.errors, report.pool) == ("degraded", ["backend: RuntimeError"], None)
    assert "hunter2" not in report.model_dump_json()

    class _Down(WrappedStore):
        def system(self) -> SystemUnitOfWork:
            raise ConnectionError("host=db password=hunter2")

    broken = _Down(8)
    down = await probe(bootstrap(uow=broken), backend="memory", database_url=None)
    assert (down.status, down.database.reachable, down.errors) == (
        "degraded",
        False,
        ["database: ConnectionError"],
    )
    await failing.dispose()
    await broken.dispose()
