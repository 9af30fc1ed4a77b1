"""Fixtures for the migration tests: every database is a file under tmp_path.

pytest-alembic's ``alembic_runner`` is built from the two fixtures it asks users to
override: ``alembic_config`` (the packaged migrations, configured in Python as the CLI
will, without alembic.ini) and ``alembic_engine`` (an async engine, so env.py's async
path is the one tested, on an empty SQLite file and on an empty PostgreSQL database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql.migrations import create_migration_engine, make_config
from tests.postgres_server import Databases


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A plain SQLite URL (normalised to aiosqlite by the code under test) on a fresh file."""
    return f"sqlite:///{tmp_path / 'tenantrag-test.db'}"


@pytest.fixture
def alembic_config() -> Config:
    return make_config()


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def alembic_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AsyncEngine]:
    """An empty database on each SQL backend (PostgreSQL: a new database on the test server)."""
    if request.param == "postgres":
        databases: Databases = request.getfixturevalue("postgres_databases")
        url = databases.create(prefix="tenantrag_alembic")
    else:
        url = f"sqlite:///{tmp_path / 'pytest-alembic.db'}"
    engine = create_migration_engine(url)
    yield engine
    asyncio.run(engine.dispose())
    if request.param == "postgres":
        databases.drop(url)
