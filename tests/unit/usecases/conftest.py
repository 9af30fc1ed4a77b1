"""Use-case tests run through the real composition (bootstrap) on the memory backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.memory import MemoryUnitOfWorkFactory
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.policy import Role
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


@pytest.fixture
def app(clock: ManualClock, hasher: PwdlibPasswordHasher) -> TenantRag:
    return bootstrap(
        uow=MemoryUnitOfWorkFactory(dimension=DIMENSION),
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
