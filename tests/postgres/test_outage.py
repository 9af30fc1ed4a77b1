"""The database going away is 503 with Retry-After, never 500, and the service recovers alone.

- a server stopped and started again (a server of the test's own, tests/postgres_cluster.py):
  while it is down every request that needs it answers 503 with ``Retry-After``, readiness
  answers 503, liveness 200 and the CLI exits 9; once it is back the same app answers 200,
  no restart;
- a worker running through the outage keeps running, and no job fails or loses an attempt;
- backends terminated (``pg_terminate_backend``) under concurrent requests, on the suite's
  server: only 200s, 202s and 503s, and every accepted document is ingested afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from typer.testing import CliRunner

from tenantrag.adapters.postgres import provision
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.cli.exit_codes import ExitCode
from tenantrag.entrypoints.cli.main import app as cli_app
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import Settings
from tenantrag.entrypoints.workers import make_worker
from tests.http.helpers import BASE_URL, DIMENSION, make_container, make_settings
from tests.http.world import World, build_world
from tests.postgres_cluster import Cluster
from tests.postgres_server import Databases, admin_engine, with_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    server = Cluster.initialised()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def cluster_database(cluster: Cluster) -> Iterator[str]:
    if not cluster.running():
        cluster.start()
    name = f"tenantrag_outage_{uuid.uuid4().hex[:12]}"
    _admin(cluster, f'CREATE DATABASE "{name}"')
    url = with_database(cluster.url(), name)
    asyncio.run(provision(url, DIMENSION))
    try:
        yield url
    finally:
        if not cluster.running():
            cluster.start()
        _admin(cluster, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(cluster: Cluster, statement: str) -> None:
    """One statement on a connection of its own (a pooled one may not have outlived a restart)."""
    engine = admin_engine(cluster.url())
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _settings(url: str, tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(
        url, auto_migrate=False, blob_store_path=tmp_path / "blobs", db_connect_timeout=2.0, **overrides
    )


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, World]]:
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        world = await build_world(app.state.tenantrag.rag, app.state.tenantrag.config.tokens)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as client:
            yield app, client, world


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] in ("unavailable", "database_unavailable")
    assert "/tmp" not in response.text  # nothing internal (the server's socket path)


async def test_a_server_restart_is_503_while_down_and_200_after_without_restarting_the_app(
    cluster: Cluster, cluster_database: str, tmp_path: Path
) -> None:
    async with _serving(_settings(cluster_database, tmp_path)) as (_app, client, world):
        search = f"/v1/tenants/{world.tenant.id}/search"
        documents = f"/v1/tenants/{world.tenant.id}/documents"
        viewer = world.as_role(Role.VIEWER)
        added = await client.post(
            f"{documents}?wait=true", json={"filename": "a.md", "text": "the outage test document"},
            headers=world.owner_headers(),
        )  # fmt: skip
        assert added.status_code in (200, 201, 202), added.text
        assert (await client.post(search, json={"text": "outage"}, headers=viewer)).status_code == 200
        assert (await client.get("/health/ready")).status_code == 200

        cluster.stop()
        try:
            for _ in range(3):  # the pool's connections are dead, and no new one can be made
                _assert_unavailable(await client.post(search, json={"text": "outage"}, headers=viewer))
                _assert_unavailable(await client.get(documents, headers=viewer))
            _assert_unavailable(await client.get("/health/ready"))
            assert (await client.get("/health")).status_code == 200  # alive, though not ready
            arguments = ["tenant", "list", "--database-url", cluster_database]
            result = await asyncio.to_thread(CliRunner().invoke, cli_app, arguments)  # its own loop
            assert result.exit_code == ExitCode.DATABASE, result.output
        finally:
            cluster.start()

        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "database": "ok", "replica": None}
        found = await client.post(search, json={"text": "outage"}, headers=viewer)
        assert found.status_code == 200, found.text
        assert found.json()["hits"]
        assert (await client.get(documents, headers=viewer)).status_code == 200


async def test_a_worker_keeps_running_through_an_outage_and_no_job_fails(
    cluster: Cluster, cluster_database: str, tmp_path: Path
) -> None:
    # One attempt per job: an outage that cost an attempt would fail the job.
    settings = _settings(cluster_database, tmp_path, worker_max_attempts=1, worker_poll_interval=0.1)
    async with _serving(settings) as (app, _client, world):
        rag = app.state.tenantrag.rag
        owner = Principal.user(world.users[Role.OWNER].id)
        for number in range(12):
            await rag.ingestion.submit(
                owner, world.tenant.id, filename=f"doc-{number}.md", wait=False,
                data=(f"document {number} " + "words to embed and chunk " * 200).encode(),
            )  # fmt: skip
        stop = asyncio.Event()
        worker = asyncio.create_task(make_worker(rag, settings).run(stop))
        try:
            await _until(lambda: _count_jobs(cluster_database, "succeeded"), at_least=1)
            cluster.stop("immediate")  # a crash: connections cut mid-statement
            await asyncio.sleep(3)
            assert not worker.done()
            cluster.start()
            await _until(lambda: _count_jobs(cluster_database, "succeeded"), at_least=12, within=120)
            assert not worker.done()
        finally:
            stop.set()
            await asyncio.wait_for(worker, 60)
        async with rag.uow.tenant(world.tenant.id) as uow:
            jobs = (await uow.jobs.list(PageRequest(limit=100))).items
        assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 12
        assert all(job.attempts == 1 for job in jobs)


_TERMINATE = text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name")


def _count_jobs(url: str, status: str) -> int:
    engine = admin_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT count(*) FROM jobs WHERE status = :s"), {"s": status})
            return int(found.scalar() or 0)
    except Exception:  # the server is down: nothing counted yet
        return -1
    finally:
        engine.dispose()


async def _until(count: Callable[[], int], *, at_least: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while (found := await asyncio.to_thread(count)) < at_least:
        assert time.monotonic() < deadline, f"only {found} of {at_least} after {within} s"
        await asyncio.sleep(0.2)


async def test_terminated_backends_under_concurrent_requests_are_503_never_500(
    postgres_database: Callable[[int], str], postgres_databases: Databases, tmp_path: Path
) -> None:
    url = postgres_database(DIMENSION)
    name = f"tenantrag-terminated-{uuid.uuid4().hex[:8]}"
    settings = _settings(url, tmp_path, db_application_name=name)
    statuses: list[int] = []
    accepted: list[str] = []
    async with _serving(settings) as (app, client, world):
        rag = app.state.tenantrag.rag
        owner = world.owner_headers()
        base = f"/v1/tenants/{world.tenant.id}"
        seeded = await client.post(
            f"{base}/documents?wait=true", json={"filename": "s.md", "text": "seed words"}, headers=owner
        )
        assert seeded.status_code in (200, 201, 202), seeded.text
        started = time.monotonic()
        terminated = 0

        async def terminator() -> None:
            nonlocal terminated
            admin = admin_engine(postgres_databases.server_url)
            try:
                while time.monotonic() - started < 6:
                    await asyncio.sleep(0.25)
                    with admin.connect() as connection:
                        killed = connection.execute(_TERMINATE, {"name": name}).all()
                    terminated += len(killed)
            finally:
                admin.dispose()

        async def client_loop(number: int) -> None:
            turn = 0
            while time.monotonic() - started < 6:
                turn += 1
                if turn % 3 == 0:
                    body = {"filename": f"c{number}-{turn}.md", "text": f"client {number} turn {turn} text"}
                    response = await client.post(f"{base}/documents", json=body, headers=owner)
                    if response.status_code == 202:
                        accepted.append(response.json()["document"]["id"])
                elif turn % 3 == 1:
                    response = await client.post(f"{base}/search", json={"text": "seed"}, headers=owner)
                else:
                    response = await client.get(f"{base}/documents", headers=owner)
                statuses.append(response.status_code)
                if response.status_code == 503:
                    assert int(response.headers["retry-after"]) >= 1

        await asyncio.gather(terminator(), *(client_loop(number) for number in range(8)))
        assert terminated > 0
        # Every accepted document is ingested once the terminations stop.
        worker = make_worker(rag, settings)
        while await worker.run_once() is not None:
            pass
        for document_id in accepted:
            got = await client.get(f"{base}/documents/{document_id}", headers=owner)
            assert got.status_code == 200, got.text
            assert got.json()["status"] == "completed", got.json()
    assert set(statuses) <= {200, 202, 503}, {status: statuses.count(status) for status in set(statuses)}
    assert statuses.count(200) > 0
