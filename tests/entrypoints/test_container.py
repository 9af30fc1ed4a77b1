"""The container: nothing built before it is asked, providers overridden rather than patched,
the backend chosen by DATABASE_URL, and its engine disposed of at shutdown."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dependency_injector import providers
from sqlalchemy import event

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.sql import migrations
from tenantrag.adapters.sqlite import (
    MemorySqliteUnitOfWorkFactory,
    SqliteUnitOfWorkFactory,
    open_memory_sqlite,
)
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.backends import DatabaseUnavailable, postgres_options
from tenantrag.entrypoints.container import Container, container_for, provide, running
from tenantrag.entrypoints.settings import Settings, SettingsError

SECRET = "s" * 64


def sqlite_settings(folder: Path, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite:///{folder / 'rag.db'}", **values)


def test_building_a_container_reads_no_settings_and_opens_nothing(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "not a number")
    container = Container()  # settings are read when first asked for, not here

    with pytest.raises(SettingsError, match="DB_POOL_SIZE"):
        container.settings()
    assert list(clean_env.iterdir()) == []


@pytest.mark.slow
def test_importing_the_container_creates_no_engine(tmp_path: Path) -> None:
    # In a fresh interpreter: this process has imported everything already.
    script = (
        "import sqlalchemy.ext.asyncio as a, sqlalchemy as s\n"
        "def refuse(*args, **kwargs): raise SystemExit('an engine was created at import')\n"
        "a.create_async_engine = refuse; s.create_engine = refuse\n"
        "import tenantrag.entrypoints.container as c\n"
        "c.Container()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert list(tmp_path.iterdir()) == []


async def test_running_wires_the_sqlite_backend_and_disposes_its_engine(clean_env: Path) -> None:
    closed: list[object] = []
    async with running(container_for(sqlite_settings(clean_env))) as rag:
        assert isinstance(rag.uow, SqliteUnitOfWorkFactory)
        event.listen(rag.uow.engine.sync_engine.pool, "close", lambda *args: closed.append(args))
        user = await rag.users.register(email="ada@example.com", password="correct horse")
        assert (clean_env / "rag.db-wal").exists()

    assert closed  # the pooled connection was closed...
    assert not (clean_env / "rag.db-wal").exists()  # ...so SQLite checkpointed and removed its WAL
    async with running(container_for(sqlite_settings(clean_env))) as rag:
        assert (await rag.users.get(user.id)).email == "ada@example.com"


async def test_each_run_builds_a_new_tenantrag_on_a_new_backend(clean_env: Path) -> None:
    container = container_for(sqlite_settings(clean_env))
    async with running(container) as first:
        pass
    async with running(container) as second:
        assert second is not first
        assert second.uow is not first.uow


async def test_memory_url_selects_sqlite_in_memory(clean_env: Path) -> None:
    settings = Settings(_env_file=None, database_url="memory://", embedder="hashing", embedding_dimension=32)
    async with running(container_for(settings)) as rag:
        assert isinstance(rag.uow, MemorySqliteUnitOfWorkFactory)
        assert rag.uow.dimension == rag.embedder.dimension == 32
    assert not any(clean_env.iterdir())  # noqa: ASYNC240 - a test's own temporary folder


async def test_providers_are_overridden_not_patched(clean_env: Path) -> None:
    container = Container()
    container.settings.override(Settings(_env_file=None, database_url="memory://", embedder="hashing"))
    backend = open_memory_sqlite(384)
    container.uow_factory.override(providers.Object(backend))
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    container.clock.override(ManualClock(moment))

    rag = await provide(container.tenantrag)
    user = await rag.users.register(email="grace@example.com")
    tenant = await rag.tenants.create(Principal.system(), name="Navy", owner_id=user.id)

    assert rag.uow is backend
    assert tenant.created_at == moment
    async with backend.system() as uow:
        assert await uow.tenants.get(tenant.id) == tenant
    await backend.dispose()


async def test_the_chunker_and_embedder_follow_the_settings(clean_env: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url="memory://",
        chunk_size=200,
        chunk_overlap=20,
        embedder="hashing",
        embedding_dimension=48,
    )
    container = container_for(settings)
    chunker = await provide(container.chunker)
    assert (chunker.chunk_size, chunker.chunk_overlap) == (200, 20)
    assert (await provide(container.embedder)).dimension == 48


async def test_an_outdated_schema_is_refused_when_not_migrating_at_start(clean_env: Path) -> None:
    settings = sqlite_settings(clean_env, environment="production", jwt_secret_key=SECRET)
    with pytest.raises(DatabaseUnavailable, match=r"has no tenantrag schema.*run `tenantrag init`"):
        async with running(container_for(settings)):
            pass
    assert not (clean_env / "rag.db").exists()

    await migrations.upgrade_async(settings.database_url)
    async with running(container_for(settings)) as rag:
        assert isinstance(rag.uow, SqliteUnitOfWorkFactory)


def test_postgres_options_carry_every_postgres_setting(clean_env: Path) -> None:
    pytest.importorskip("psycopg")
    settings = Settings(
        _env_file=None,
        database_url="postgresql://app:pw@db/rag?sslmode=require",
        db_pool_size=7, db_max_overflow=3, db_pool_timeout=9, db_pool_recycle=-1, db_pool_pre_ping=False,
        db_connect_timeout=4, db_command_timeout=12, db_application_name="indexer",
        db_prepared_statements=False,
        postgres_runtime_role="rag_runtime", hnsw_m=8, hnsw_ef_construction=40, hnsw_ef_search=33,
        vector_distance="l2", exact_search_limit=99,
    )  # fmt: skip
    options = postgres_options(settings)
    assert (options.pool_size, options.max_overflow, options.pool_timeout) == (7, 3, 9)
    assert (options.pool_recycle, options.pool_pre_ping) == (-1, False)
    assert (options.connect_timeout, options.command_timeout) == (4, 12)
    assert (options.ssl_mode, options.application_name, options.prepared_statements) == (
        "require",
        "indexer",
        False,
    )
    assert options.runtime_role == "rag_runtime"
    assert (options.hnsw_m, options.hnsw_ef_construction, options.hnsw_ef_search) == (8, 40, 33)
    assert (options.distance.value, options.exact_search_limit) == ("l2", 99)
