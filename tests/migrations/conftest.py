"""Fixtures for the migration tests: every database is a file under tmp_path.

pytest-alembic's ``alembic_runner`` is built from the two fixtures it asks users to
override: ``alembic_config`` (the packaged migrations, configured in Python as the CLI
will, without alembic.ini) and ``alembic_engine`` (an async engine on a temporary SQLite
file, so env.py's async path is the one tested).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql.migrations import create_migration_engine, make_config


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A plain SQLite URL (normalised to aiosqlite by the code under test) on a fresh file."""
    return f"sqlite:///{tmp_path / 'tenantrag-test.db'}"


@pytest.fixture
def alembic_config() -> Config:
    return make_config()


@pytest.fixture
def alembic_engine(tmp_path: Path) -> Iterator[AsyncEngine]:
    engine = create_migration_engine(f"sqlite:///{tmp_path / 'pytest-alembic.db'}")
    yield engine
    asyncio.run(engine.dispose())
