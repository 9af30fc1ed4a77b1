"""The generic repository: what most repository ports ask of one table.

A repository names its table's mapping and inherits the rest; it writes only its
own queries, through ``self.rows`` (tables.Rows: tenant-scoped statements, keyset
paging, error translation) and ``self.c`` (the table's columns)::

    class SqlApiKeyRepository(SqlRepository[ApiKey]):
        mapper = rows.API_KEYS

Built with a tenant id, every statement is scoped to that tenant (a tenant unit of
work); without, it sees the whole table (a system unit of work), which only a table
without ``tenant_id`` allows. ``TableRepository`` is the part for ports whose ``get`` or ``list``
take other arguments than an id or a page.
"""

from __future__ import annotations

import uuid
from typing import Any, Generic

from sqlalchemy import ColumnElement

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.rows import E, Mapper
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Rows
from tenantrag.domain.errors import NotFound
from tenantrag.domain.pagination import Page, PageRequest


class TableRepository(Generic[E]):
    # Set by each subclass; the generic repository_for gives it per instance.
    mapper: Mapper[Any]

    def __init__(
        self, session: SqlSession, tenant_id: uuid.UUID | None = None, *, mapper: Mapper[E] | None = None
    ) -> None:
        if mapper is not None:
            self.mapper = mapper
        # The cross-tenant paths (system_repositories' directories) use Rows, deliberately.
        if tenant_id is None and "tenant_id" in self.mapper.table.c:
            raise TypeError(f"{type(self).__name__} reads tenant rows: give it the unit of work's tenant")
        self.rows: Rows[E] = Rows(session, self.mapper, tenant_id)
        self.c = self.rows.table.c

    async def add(self, entity: E) -> None:
        await self.rows.add(entity)

    async def update(self, entity: E) -> None:
        await self.rows.update(entity)

    def equal(self, **values: object) -> list[ColumnElement[bool]]:
        """``column = value`` for each value given; None means "any", as the ports' filters do."""
        return [self.c[name] == value for name, value in values.items() if value is not None]


class SqlRepository(TableRepository[E]):
    """Rows addressed by id, listed a page at a time."""

    async def get(self, row_id: uuid.UUID) -> E | None:
        return await self.rows.get(row_id)

    async def delete(self, row_id: uuid.UUID) -> None:
        if await self.rows.delete(self.c.id == row_id) == 0:
            raise NotFound(self.mapper.noun, row_id)

    async def list(self, page: PageRequest) -> Page[E]:
        return await self.rows.page(page)


def repository_for(entity: type[E], session: SqlSession, tenant_id: uuid.UUID | None) -> SqlRepository[E]:
    """The generic repository of ``entity``'s table (rows.MAPPERS), for a unit of work's
    ``repository(Entity)``: a table with no queries of its own needs no class of its own."""
    mapper: Mapper[E] | None = rows.MAPPERS.get(entity)
    if mapper is None:
        raise LookupError(f"{entity.__name__} has no mapping in adapters/sql/rows.py")
    return SqlRepository(session, tenant_id, mapper=mapper)
