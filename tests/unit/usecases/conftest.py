"""Use-case tests run through the real composition (bootstrap) on the memory backend."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import attrs
import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.memory import MemoryUnitOfWorkFactory
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap

DIMENSION = 64
PASSWORD = "correct horse battery staple"


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


@attrs.frozen
class Workspace:
    """A tenant with one user in every role, and an outsider with a tenant of their own."""

    tenant: Tenant
    other_tenant: Tenant
    users: dict[Role, User]
    outsider: User

    def actor(self, role: Role) -> Principal:
        return Principal.user(self.users[role].id)

    @property
    def stranger(self) -> Principal:
        return Principal.user(self.outsider.id)


@pytest.fixture
async def workspace(app: TenantRag) -> Workspace:
    users = {
        role: await app.users.register(email=f"{role.value}@example.com", password=PASSWORD)
        for role in Role
    }
    tenant = await app.tenants.create(Principal.user(users[Role.OWNER].id), name="Acme Research")
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        await app.members.add(Principal.user(users[Role.OWNER].id), tenant.id, user_id=users[role].id, role=role)
    outsider = await app.users.register(email="outsider@example.com", password=PASSWORD)
    other = await app.tenants.create(Principal.user(outsider.id), name="Globex")
    return Workspace(tenant, other, users, outsider)


def random_id() -> uuid.UUID:
    return uuid.uuid4()
