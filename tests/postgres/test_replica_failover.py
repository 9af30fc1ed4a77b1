"""A read replica that is down or lagging does not take reads down: they go to the primary.

A real streaming replica (``pg_basebackup`` of a server of the test's own, from the same
PostgreSQL build, tests/postgres_cluster.py) serves searches and document lists. Stopped,
reads keep answering 200 from the primary, and readiness and the detailed health report
say so; started again, reads return to it. Its replay paused while the primary writes, it
falls behind more than DATABASE_REPLICA_MAX_LAG: reads leave it until it catches up.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tenantrag.adapters.postgres import open_postgres, provision
from tenantrag.adapters.sql.read_routing import ReadRouting
from tenantrag.domain.policy import Role
from tenantrag.entrypoints.http.app import create_app
from tests.http.helpers import BASE_URL, DIMENSION, make_container, make_settings
from tests.http.world import build_world
from tests.postgres_cluster import Cluster
from tests.postgres_server import admin_engine, with_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def primary_and_standby() -> Iterator[tuple[Cluster, Cluster, str]]:
    """A primary with a provisioned database, and a streaming replica of it."""
    primary = Cluster.initialised()
    standby: Cluster | None = None
    try:
        primary.start()
        name = f"tenantrag_replicated_{uuid.uuid4().hex[:8]}"
        _execute(primary.url(), f'CREATE DATABASE "{name}"')
        asyncio.run(provision(with_database(primary.url(), name), DIMENSION))
        standby = Cluster.standby_of(primary)
        standby.start()
        yield primary, standby, name
    finally:
        if standby is not None:
            standby.remove()
        primary.remove()


def _execute(url: str, statement: str) -> None:
    engine = admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


async def _until(condition_name: str, check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"{condition_name}: not after {within} s"
        await asyncio.sleep(0.2)


async def test_reads_leave_a_stopped_or_lagging_replica_for_the_primary_and_come_back(
    primary_and_standby: tuple[Cluster, Cluster, str], tmp_path: Path
) -> None:
    primary, standby, name = primary_and_standby
    settings = make_settings(
        with_database(primary.url(), name),
        database_replica_url=with_database(standby.url(), name),
        database_replica_max_lag=1.0,
        database_replica_check_interval=0.2,
        auto_migrate=False,
        blob_store_path=tmp_path / "blobs",
        db_connect_timeout=2.0,
    )
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        rag = app.state.tenantrag.rag
        routing = rag.uow.read_routing
        assert isinstance(routing, ReadRouting)
        world = await build_world(rag, app.state.tenantrag.config.tokens)
        root = await rag.users.register(email="root@example.com", is_superuser=True)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as client:
            base = f"/v1/tenants/{world.tenant.id}"
            viewer = world.as_role(Role.VIEWER)
            added = await client.post(
                f"{base}/documents?wait=true", json={"filename": "r.md", "text": "replicated words"},
                headers=world.owner_headers(),
            )  # fmt: skip
            assert added.status_code in (200, 201, 202), added.text

            async def reads_answer() -> list[int]:
                found = await client.post(f"{base}/search", json={"text": "replicated"}, headers=viewer)
                listed = await client.get(f"{base}/documents", headers=viewer)
                return [found.status_code, listed.status_code]

            async def found_on_the_replica() -> bool:
                found = await client.post(f"{base}/search", json={"text": "replicated"}, headers=viewer)
                assert found.status_code == 200, found.text
                return bool(found.json()["hits"]) and routing.state().reads == "replica"

            await _until("the replica serves the document", found_on_the_replica)

            # Down: reads go to the primary, and readiness and health say so.
            standby.stop()
            try:
                for _ in range(3):
                    assert await reads_answer() == [200, 200]
                assert routing.state().status == "down"
                ready = await client.get("/health/ready")
                assert ready.status_code == 200, ready.text
                assert ready.json()["replica"]["status"] == "down"
                assert ready.json()["replica"]["reads"] == "primary"
                detail = (await client.get("/health/detailed", headers=world.bearer(root))).json()
                assert detail["replica"]["status"] == "down"
                assert detail["replica"]["reads"] == "primary"
            finally:
                standby.start()

            async def back() -> bool:
                assert await reads_answer() == [200, 200]
                return routing.state().reads == "replica"

            await _until("reads return to the restarted replica", back)

            # Lagging: replay paused while the primary writes.
            _execute(standby.url(name), "SELECT pg_wal_replay_pause()")
            try:
                more = await client.post(
                    f"{base}/documents?wait=true", json={"filename": "s.md", "text": "written while paused"},
                    headers=world.owner_headers(),
                )  # fmt: skip
                assert more.status_code in (200, 201, 202), more.text

                async def lagging() -> bool:
                    assert await reads_answer() == [200, 200]
                    return routing.state().status == "lagging"

                await _until("the paused replica is found lagging", lagging)
                assert routing.state().reads == "primary"
                # Reads from the primary see what the replica has not replayed yet.
                found = await client.post(f"{base}/search", json={"text": "paused"}, headers=viewer)
                assert found.json()["hits"], found.text
            finally:
                _execute(standby.url(name), "SELECT pg_wal_replay_resume()")
            await _until("reads return to the replica once it caught up", back)


async def test_a_replica_down_at_start_does_not_stop_the_service(
    primary_and_standby: tuple[Cluster, Cluster, str],
) -> None:
    primary, standby, name = primary_and_standby
    standby.stop()
    try:
        factory = await open_postgres(
            with_database(primary.url(), name), DIMENSION, migrate=False,
            replica_url=with_database(standby.url(), name),
        )  # fmt: skip
    finally:
        standby.start()
    try:
        routing = factory.read_routing
        assert routing is not None
        assert (routing.state().status, routing.state().reads) == ("down", "primary")
        async with factory.tenant(uuid.uuid4(), read_only=True) as uow:
            assert await uow.chunks.count() == 0  # served by the primary
        assert (await routing.check()).status == "ok"
        assert routing.engine() is routing.replica
    finally:
        await factory.dispose()
