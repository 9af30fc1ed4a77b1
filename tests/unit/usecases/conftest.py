"""Use-case tests run through the real composition (bootstrap), on SQLite (a migrated
database file per test) and on PostgreSQL (a migrated database per test), so each use case
is checked on both backends."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tests.unit.usecases.workspace import DIMENSION, PASSWORD, Workspace


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def hasher() -> PwdlibPasswordHasher:
    # Cheap Argon2 parameters: these tests check behaviour, not hash strength.
    return PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once, for each test to copy."""
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("usecases-sqlite") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "postgres":
        from tenantrag.adapters.postgres import open_postgres

        new_database: Callable[[int], str] = request.getfixturevalue("postgres_database")
        postgres = await open_postgres(new_database(DIMENSION), DIMENSION, migrate=False)
        try:
            yield postgres
        finally:
            await postgres.dispose()
        return
    from tenantrag.adapters.sqlite import open_sqlite

    template: Path = request.getfixturevalue("sqlite_template")
    database = tmp_path / "usecases.sqlite"
    shutil.copyfile(template, database)
    factory = await open_sqlite(f"sqlite:///{database}", DIMENSION, migrate=False)
    try:
        yield factory
    finally:
        await factory.dispose()


@pytest.fixture
def app(store: UnitOfWorkFactory, clock: ManualClock, hasher: PwdlibPasswordHasher) -> TenantRag:
    return bootstrap(
        uow=store,
        embedder=HashingEmbedder(dimension=DIMENSION),
        hasher=hasher,
        clock=clock,
    )


@pytest.fixture
async def workspace(app: TenantRag) -> Workspace:
    users = {
        role: await app.users.register(email=f"{role.value}@example.com", password=PASSWORD) for role in Role
    }
    tenant = await app.tenants.create(Principal.user(users[Role.OWNER].id), name="Acme Research")
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        await app.members.add(
            Principal.user(users[Role.OWNER].id), tenant.id, user_id=users[role].id, role=role
        )
    outsider = await app.users.register(email="outsider@example.com", password=PASSWORD)
    other = await app.tenants.create(Principal.user(outsider.id), name="Globex")
    return Workspace(tenant, other, users, outsider)
