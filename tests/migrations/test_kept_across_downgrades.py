"""What outlives a downgrade (adapters/sql/kept.py), on both dialects: the embedder record
survives ``downgrade base`` and ``upgrade head``; a deliberate downgrade pins its revision
until an upgrade; ``forget_kept`` (reset) leaves nothing behind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select

from tenantrag.adapters.sql import kept, migrations
from tenantrag.adapters.sql.schema import metadata
from tests.postgres_server import Databases

RECORD_REVISION = "9a4f6e2c1b37"  # creates embedding_models


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kept.db'}"
        return
    databases: Databases = request.getfixturevalue("postgres_databases")
    created = databases.create(prefix="tenantrag_kept")
    yield created
    databases.drop(created)


RECORDS = metadata.tables["embedding_models"]


def _run(url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = migrations.create_migration_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(statement)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _record(url: str, name: str, dimension: int) -> None:
    created = datetime(2026, 11, 30, 12, 0, 1, 123456, tzinfo=UTC)
    _run(url, insert(RECORDS).values(id=uuid.uuid4(), name=name, dimension=dimension, created_at=created))


def _records(url: str) -> list[Any]:
    return _run(url, select(RECORDS))


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = migrations.create_migration_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_embedder_record_survives_downgrade_base_and_upgrade_head(url: str) -> None:
    migrations.upgrade(url)
    _record(url, "wordllama:l2_supercat-256@abc", 256)
    before = _records(url)
    assert len(before) == 1

    migrations.downgrade(url, "base")
    assert _tables(url) <= {"alembic_version", kept.TABLE}
    assert kept.TABLE in _tables(url)

    migrations.upgrade(url, RECORD_REVISION)  # the record is back as soon as its table is
    assert _records(url) == before
    assert kept.TABLE not in _tables(url)  # nothing else was kept: the table went
    migrations.upgrade(url)
    assert _records(url) == before
    migrations.check(url)  # the kept table is no drift, and is gone anyway


def test_a_deliberate_downgrade_pins_until_an_upgrade_and_reset_forgets_everything(url: str) -> None:
    migrations.upgrade(url)
    assert migrations.downgrade_pin(url) is None
    _record(url, "hashing-64", 64)

    migrations.downgrade(url, RECORD_REVISION, pin=True)
    assert migrations.downgrade_pin(url) == RECORD_REVISION
    migrations.downgrade(url, "base", pin=True)
    assert migrations.downgrade_pin(url) == "base"
    migrations.upgrade(url)
    assert migrations.downgrade_pin(url) is None
    assert len(_records(url)) == 1

    migrations.downgrade(url, "base", forget_kept=True)  # what `tenantrag reset` does
    assert _tables(url) <= {"alembic_version"}
    migrations.upgrade(url)
    assert _records(url) == []


def test_a_missing_sqlite_file_has_no_pin_and_is_not_created(tmp_path: Path) -> None:
    assert migrations.downgrade_pin(f"sqlite:///{tmp_path / 'none.db'}") is None
    assert not (tmp_path / "none.db").exists()
