"""SQLite-only tests: each gets a database file migrated by the Alembic migrations."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite

DIMENSION = 8

pytestmark = pytest.mark.sqlite


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("sqlite-tests") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture
def database(migrated_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "tenantrag.sqlite"
    shutil.copyfile(migrated_template, path)
    return path


@pytest.fixture
def url(database: Path) -> str:
    return f"sqlite:///{database}"


@contextlib.asynccontextmanager
async def opened(url: str, *, vector_cache_mb: float | None = None) -> AsyncIterator[SqliteUnitOfWorkFactory]:
    """A factory on the test's file (its own engine, pool and cache), disposed afterwards."""
    options = {} if vector_cache_mb is None else {"vector_cache_mb": vector_cache_mb}
    factory = await open_sqlite(url, DIMENSION, migrate=False, **options)
    try:
        yield factory
    finally:
        await factory.dispose()


@pytest.fixture
async def factory(url: str) -> AsyncIterator[SqliteUnitOfWorkFactory]:
    async with opened(url) as found:
        yield found


def dump(path: Path) -> list[str]:
    """Everything in the database, as SQL text, read through a separate plain connection."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.fixture
async def other(url: str) -> AsyncIterator[SqliteUnitOfWorkFactory]:
    """A second factory on the same file: its own engine, pool and cache (another process's view)."""
    async with opened(url) as found:
        yield found


@pytest.fixture
async def uncached(url: str) -> AsyncIterator[SqliteUnitOfWorkFactory]:
    async with opened(url, vector_cache_mb=0) as found:
        yield found
