"""A real backend (SQLite in memory) behind a wrapper a test can bend: fail one door, add a
health hook. Tests subclass it instead of faking a database."""

from __future__ import annotations

import uuid

from tenantrag.adapters.sqlite import MemorySqliteUnitOfWorkFactory, open_memory_sqlite
from tenantrag.domain.ports.unit_of_work import SystemUnitOfWork, TenantUnitOfWork


class WrappedStore:
    def __init__(self, dimension: int) -> None:
        self.inner: MemorySqliteUnitOfWorkFactory = open_memory_sqlite(dimension)

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def tenant(self, tenant_id: uuid.UUID, *, read_only: bool = False) -> TenantUnitOfWork:
        return self.inner.tenant(tenant_id, read_only=read_only)

    def system(self) -> SystemUnitOfWork:
        return self.inner.system()

    async def dispose(self) -> None:
        await self.inner.dispose()
