"""The background query-log writer on a real SQLite file whose write lock another process holds.

A search answers while the lock is held (it writes nothing); its log waits, feedback given on
it meanwhile is kept, and once the lock is released a flush (or the graceful close) writes it,
feedback included. Reading logs writes the waiting ones first.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.sql import migrations
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, create_sqlite_engine
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.query_log import Feedback, QueryLog
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.query_log_writer import QueryLogWriter
from tenantrag.entrypoints.bootstrap import bootstrap

pytestmark = pytest.mark.sqlite

DIMENSION = 16


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("query-log-writer") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture
async def database(template: Path, tmp_path: Path) -> AsyncIterator[tuple[Path, SqliteUnitOfWorkFactory]]:
    path = tmp_path / "logs.sqlite"
    shutil.copyfile(template, path)
    # Gives up on a held write lock after 0.1 s, so a write would fail at once.
    factory = SqliteUnitOfWorkFactory(create_sqlite_engine(f"sqlite:///{path}", busy_timeout=0.1), DIMENSION)
    try:
        yield path, factory
    finally:
        await factory.dispose()


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another process's writer, in the middle of its transaction."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def _rag_with_a_document(factory: SqliteUnitOfWorkFactory) -> tuple[TenantRag, Principal, uuid.UUID]:
    rag = bootstrap(uow=factory, embedder=HashingEmbedder(dimension=DIMENSION), background_query_logs=True)
    user = await rag.users.register(email="searcher@example.com")
    actor = Principal.user(user.id)
    tenant = await rag.tenants.create(actor, name="Logs")
    await rag.ingestion.add_text(actor, tenant.id, filename="a.md", text="the quick brown fox jumps")
    return rag, actor, tenant.id


async def test_a_search_answers_while_the_write_lock_is_held_and_its_log_is_written_after(
    database: tuple[Path, SqliteUnitOfWorkFactory],
) -> None:
    path, factory = database
    rag, actor, tenant_id = await _rag_with_a_document(factory)
    writer = rag.query_log_writer
    assert writer is not None
    with write_lock(path):
        outcome = await rag.search.run(actor, tenant_id, text="fox", mode="text")
        assert outcome.hits
        assert outcome.query_log_id is not None
        assert writer.pending(outcome.query_log_id) is not None
        # Feedback while the log cannot be written yet: kept with the waiting log.
        given = await rag.query_logs.give_feedback(
            actor, tenant_id, outcome.query_log_id, feedback="thumbs_up"
        )
        assert given.feedback is Feedback.THUMBS_UP
        assert not await writer.flush()  # still locked: postponed, not lost
        assert writer.waiting == 1
    # Reading writes the waiting logs first.
    log = await rag.query_logs.get(actor, tenant_id, outcome.query_log_id)
    assert (log.query, log.feedback) == ("fox", Feedback.THUMBS_UP)
    assert writer.waiting == 0
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT feedback FROM query_logs").fetchall() == [("thumbs_up",)]
    await rag.aclose()


async def test_closing_writes_every_waiting_log(database: tuple[Path, SqliteUnitOfWorkFactory]) -> None:
    path, factory = database
    rag, actor, tenant_id = await _rag_with_a_document(factory)
    ids = []
    with write_lock(path):
        for word in ("quick", "brown", "fox", "jumps", "lazy"):
            outcome = await rag.search.run(actor, tenant_id, text=word, mode="text")
            ids.append(outcome.query_log_id)
    await rag.flush()  # what a graceful shutdown does
    with sqlite3.connect(path) as connection:
        stored = {row[0] for row in connection.execute("SELECT query FROM query_logs")}
    assert stored == {"quick", "brown", "fox", "jumps", "lazy"}
    assert len(set(ids)) == 5


async def test_past_max_pending_the_oldest_logs_are_dropped_and_counted(
    database: tuple[Path, SqliteUnitOfWorkFactory],
) -> None:
    path, factory = database
    rag, actor, tenant_id = await _rag_with_a_document(factory)
    writer = QueryLogWriter(factory, max_pending=3, close_timeout=5)
    logs = [
        QueryLog(id=new_id(), tenant_id=tenant_id, user_id=actor.user_id, query=f"q{n}",
                 created_at=datetime.now(UTC))
        for n in range(5)
    ]  # fmt: skip
    with write_lock(path):
        for log in logs:
            writer.submit(log)
        assert (writer.waiting, writer.dropped) == (3, 2)
    await writer.close()
    with sqlite3.connect(path) as connection:
        stored = sorted(row[0] for row in connection.execute("SELECT query FROM query_logs"))
    assert stored == ["q2", "q3", "q4"]
    await rag.aclose()
