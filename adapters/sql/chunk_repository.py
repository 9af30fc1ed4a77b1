"""The chunk repository: rows through a tenant-scoped Rows, search and bulk writes through the dialect."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tenantrag.adapters.sql.rows import Mapper
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Rows
from tenantrag.domain.model.chunk import Chunk, check_dimension
from tenantrag.domain.search import SearchHit, SearchQuery, TextQuery


class SqlChunkRepository:
    def __init__(
        self, session: SqlSession, tenant_id: uuid.UUID, mapper: Mapper[Chunk], dimension: int
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._rows = Rows(session, mapper, tenant_id)
        self._c = self._rows.table.c
        self._dimension = dimension

    async def add_many(self, chunks: Sequence[Chunk]) -> None:
        # Checked before any SQL, so bad input never reaches the database.
        for chunk in chunks:
            check_dimension(chunk.embedding, self._dimension)
            self._rows.check_owner(chunk)
        if not chunks or not await self._session.dialect.add_chunks(self._session, self._tenant_id, chunks):
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
        return await self._session.dialect.search(self._session, self._tenant_id, query)
