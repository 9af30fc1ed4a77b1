"""The chunk repository, and the two strategies a backend's factory gives it.

Rows go through a tenant-scoped Rows like every repository's. Search and bulk writes are
where the backends differ most, so each backend brings its own ``ChunkSearch`` (and, when
it has a faster way than a plain INSERT, ``ChunkWriter``): ``adapters/sqlite/search.py``,
``adapters/postgres/search.py`` and ``adapters/postgres/bulk.py``. The strategies may keep
state between units of work (SQLite's vector cache, PostgreSQL's tenant sizes); the
dialect does not.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from tenantrag.adapters.sql.rows import Mapper
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Rows
from tenantrag.domain.model.chunk import Chunk, check_dimension
from tenantrag.domain.search import SearchHit, SearchQuery, TextQuery


class ChunkSearch(Protocol):
    async def search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery
    ) -> Sequence[SearchHit]:
        """The tenant's top-k for a vector, text or hybrid query, its filter applied in SQL
        (filters.py, bound parameters only); what each mode means is in domain/search.py."""
        ...


class ChunkWriter(Protocol):
    async def add_many(self, session: SqlSession, tenant_id: uuid.UUID, chunks: Sequence[Chunk]) -> bool:
        """Insert checked chunks the backend's fastest way; False to leave them to a plain
        INSERT (which names the offending row when one breaks a rule)."""
        ...


class SqlChunkRepository:
    def __init__(
        self,
        session: SqlSession,
        tenant_id: uuid.UUID,
        mapper: Mapper[Chunk],
        dimension: int,
        *,
        search: ChunkSearch,
        writer: ChunkWriter | None = None,
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._rows = Rows(session, mapper, tenant_id)
        self._c = self._rows.table.c
        self._dimension = dimension
        self._search = search
        self._writer = writer

    async def add_many(self, chunks: Sequence[Chunk]) -> None:
        # Checked before any SQL, so bad input never reaches the database.
        for chunk in chunks:
            check_dimension(chunk.embedding, self._dimension)
            self._rows.check_owner(chunk)
        if not chunks:
            return
        if self._writer is None or not await self._writer.add_many(self._session, self._tenant_id, chunks):
            await self._rows.add_many(chunks)

    async def list_for_document(self, document_id: uuid.UUID) -> Sequence[Chunk]:
        return tuple(await self._rows.all(self._c.document_id == document_id, order_by=(self._c.ordinal,)))

    async def delete_for_document(self, document_id: uuid.UUID) -> int:
        return await self._rows.delete(self._c.document_id == document_id)

    async def count(self) -> int:
        return await self._rows.count()

    async def search(self, query: SearchQuery) -> Sequence[SearchHit]:
        if not isinstance(query, TextQuery):
            check_dimension(query.embedding, self._dimension)
        return await self._search.search(self._session, self._tenant_id, query)
