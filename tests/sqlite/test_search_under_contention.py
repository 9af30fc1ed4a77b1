"""On SQLite, searches never fail or wait because the database is busy with writes.

Twenty clients search through the HTTP API while two `tenantrag worker` processes ingest
queued documents and a `tenantrag ingest` process ingests a folder, all on one SQLite file.
The API's engine is given a busy timeout of 0.2 s (the default is 10 s), so anything a
search had to write would fail at once with 409 whenever a writer holds the lock: a search
writes nothing (its query log goes to the background writer), so every search answers 200.
After the app shuts down gracefully, every answered search's query log is in the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from tenantrag.adapters.sql import migrations
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, create_sqlite_engine
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.app import create_app
from tests.http.helpers import BASE_URL, DIMENSION, SECRET, make_container, make_settings
from tests.http.world import build_world

pytestmark = [pytest.mark.sqlite, pytest.mark.slow]

CLIENTS = 20
QUEUED = 12  # documents queued for the two workers
INGESTED = 12  # files the CLI ingests itself
DEADLINE = 240.0  # seconds: the writers finish well before this, even on a loaded machine


def _text(number: int) -> str:
    words = " ".join(f"topic{(number * 7 + i) % 50} measure{i % 13}" for i in range(120))
    return f"Document {number} about retrieval under contention.\n\n{words}\n"


def _environment(database: Path, blobs: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ENVIRONMENT": "test",
        "JWT_SECRET_KEY": SECRET,
        "EMBEDDER": "hashing",
        "EMBEDDING_DIMENSION": str(DIMENSION),
        "BLOB_STORE_PATH": str(blobs),
        "WORKER_POLL_INTERVAL": "0.1",
    }


def _cli(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tenantrag.entrypoints.cli", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextmanager
def _stopped_at_the_end(processes: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


def _pending_jobs(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
        ).fetchone()
    return int(count)


async def test_searches_answer_while_workers_and_a_cli_ingest_write(tmp_path: Path) -> None:
    database, blobs = tmp_path / "busy.sqlite", tmp_path / "blobs"
    migrations.upgrade(f"sqlite:///{database}", embedding_dimension=DIMENSION)
    settings = make_settings(f"sqlite:///{database}", blob_store_path=blobs)
    container = make_container(settings)
    # The API's own engine gives up on a lock after 0.2 s: a search that wrote would fail.
    impatient = SqliteUnitOfWorkFactory(
        create_sqlite_engine(settings.database_url, busy_timeout=0.2), DIMENSION
    )
    container.uow_factory.override(providers.Object(impatient))
    app = create_app(container)
    env = _environment(database, blobs)
    folder = tmp_path / "incoming"
    folder.mkdir()
    for number in range(INGESTED):
        (folder / f"file-{number}.md").write_text(_text(1000 + number))

    statuses: list[int] = []
    log_ids: list[str] = []
    async with app.router.lifespan_context(app):
        rag = app.state.tenantrag.rag
        world = await build_world(rag, app.state.tenantrag.config.tokens)
        owner = Principal.user(world.users[Role.OWNER].id)
        for number in range(3):  # something to find from the start
            await rag.ingestion.add_text(
                owner, world.tenant.id, filename=f"seed-{number}.md", text=_text(number)
            )
        for number in range(QUEUED):
            await rag.ingestion.submit(
                owner, world.tenant.id, filename=f"queued-{number}.md", data=_text(100 + number).encode(),
                wait=False,
            )  # fmt: skip
        headers = world.as_role(Role.VIEWER)
        url = f"/v1/tenants/{world.tenant.id}/search"
        writers = [
            _cli("worker", "--poll-interval", "0.1", env=env),
            _cli("worker", "--poll-interval", "0.1", env=env),
        ]
        ingest = _cli("ingest", world.tenant.slug, str(folder), env=env)
        writers.append(ingest)
        with _stopped_at_the_end(writers):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as client:
                started = time.monotonic()

                async def searcher(number: int) -> None:
                    turn = 0
                    while time.monotonic() - started < DEADLINE:
                        body = {"text": f"topic{(number + turn) % 50} measure{turn % 13}", "k": 5}
                        response = await client.post(url, json=body, headers=headers)
                        statuses.append(response.status_code)
                        if response.status_code == 200:
                            log_ids.append(response.json()["query_log_id"])
                        turn += 1
                        if ingest.poll() is not None and _pending_jobs(database) == 0:
                            return

                await asyncio.gather(*(searcher(number) for number in range(CLIENTS)))
            assert ingest.wait(timeout=30) == 0, ingest.stderr.read() if ingest.stderr else ""
        assert _pending_jobs(database) == 0
    await impatient.dispose()

    assert statuses, "no search ran"
    assert set(statuses) == {200}, {status: statuses.count(status) for status in set(statuses)}
    # The graceful shutdown wrote every answered search's log.
    with sqlite3.connect(database) as connection:
        (logged,) = connection.execute("SELECT count(*) FROM query_logs").fetchone()
        (documents,) = connection.execute(
            "SELECT count(*) FROM documents WHERE status = 'completed'"
        ).fetchone()
    assert logged == len(log_ids) == len(set(log_ids))
    assert documents == 3 + QUEUED + INGESTED
