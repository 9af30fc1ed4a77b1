"""The backend contract suite: every test here runs against every backend.

``backend`` is parametrized by backend name, each tagged with its marker, so
``pytest -m sqlite`` (or ``-m postgres``) runs the suite against one backend.

SQLite: each test gets its own database file in ``tmp_path``. The schema is built
once per session by the migrations (``alembic upgrade head`` through
``tenantrag.adapters.sql.migrations``) into a template file, which each test copies:
the same schema as migrating every file, without paying for a migration per test.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import DIMENSION, Seeded, seed_tenant

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, for tests to copy."""
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    name: str = request.param
    if name == "sqlite":
        from tenantrag.adapters.sqlite import open_sqlite

        template: Path = request.getfixturevalue("sqlite_template")
        database = tmp_path / "contract.sqlite"
        shutil.copyfile(template, database)
        factory = await open_sqlite(f"sqlite:///{database}", DIMENSION, migrate=False)
        try:
            yield factory
        finally:
            await factory.dispose()
    elif name == "postgres":
        from tenantrag.adapters.postgres import open_postgres

        new_database: Callable[[int], str] = request.getfixturevalue("postgres_database")
        postgres = await open_postgres(new_database(DIMENSION), DIMENSION, migrate=False)
        try:
            yield postgres
        finally:
            await postgres.dispose()
    else:  # pragma: no cover - a param without a branch is a mistake in this file
        raise AssertionError(f"no such backend: {name}")


@pytest.fixture
async def tenant_a(backend: UnitOfWorkFactory) -> Seeded:
    return await seed_tenant(backend)


@pytest.fixture
async def tenant_b(backend: UnitOfWorkFactory) -> Seeded:
    return await seed_tenant(backend)
