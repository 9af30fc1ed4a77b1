"""The backend contract suite: every test here runs against every backend.

``backend`` is parametrized by backend name, each tagged with its marker, so
``pytest -m memory`` runs the suite against one backend. The SQL backends join by
adding a param and a branch below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tenantrag.adapters.memory import MemoryUnitOfWorkFactory
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import DIMENSION, Seeded, seed_tenant

BACKENDS = [pytest.param("memory", marks=pytest.mark.memory)]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[UnitOfWorkFactory]:
    name: str = request.param
    if name == "memory":
        yield MemoryUnitOfWorkFactory(dimension=DIMENSION)
    else:  # pragma: no cover - a param without a branch is a mistake in this file
        raise AssertionError(f"no such backend: {name}")


@pytest.fixture
async def tenant_a(backend: UnitOfWorkFactory) -> Seeded:
    return await seed_tenant(backend)


@pytest.fixture
async def tenant_b(backend: UnitOfWorkFactory) -> Seeded:
    return await seed_tenant(backend)
