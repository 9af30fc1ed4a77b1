"""The in-memory backend: a complete implementation of every port, and the reference
model the SQL backends are held to by the contract suite (tests/contract).

    factory = MemoryUnitOfWorkFactory(dimension=384)
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.commit()
"""

from tenantrag.adapters.memory.store import MemoryStore
from tenantrag.adapters.memory.unit_of_work import (
    MemorySystemUnitOfWork,
    MemoryTenantUnitOfWork,
    MemoryUnitOfWorkFactory,
)

__all__ = [
    "MemoryStore",
    "MemorySystemUnitOfWork",
    "MemoryTenantUnitOfWork",
    "MemoryUnitOfWorkFactory",
]
