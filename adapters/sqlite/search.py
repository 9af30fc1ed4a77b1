"""The SQLite backend's ``ChunkSearch``: the three modes, and hybrid as their fusion.

- vector: vector_search.py (streaming) and cached_search.py (the vector cache);
- text: fulltext.py (FTS5 postings, BM25 with the tenant's statistics);
- hybrid: both, each for ``Fusion.depth(k)`` candidates, fused in Python by the domain's
  ``fuse`` (reciprocal rank fusion, the product's definition of hybrid).

Which rows each may return comes from candidates.py (the one filter compiler).
"""

from __future__ import annotations

import uuid

from tenantrag.adapters.sql.fulltext_query import read
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite.cached_search import cached_search
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.adapters.sqlite.fulltext import search_read, text_search
from tenantrag.adapters.sqlite.vector_cache import VectorCache
from tenantrag.adapters.sqlite.vector_search import streamed_search
from tenantrag.domain.search import HybridQuery, SearchHit, SearchQuery, TextQuery, VectorQuery, fuse


class SqliteChunkSearch:
    """One per factory: it owns the factory's vector cache, shared by its units of work."""

    def __init__(self, codec: Float32Blobs, cache: VectorCache) -> None:
        self.codec = codec
        self.vector_cache = cache

    async def search(self, session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery) -> list[SearchHit]:
        if isinstance(query, TextQuery):
            return await text_search(session, tenant_id, query)
        if isinstance(query, HybridQuery):
            # Stop words only: no text list (the vector list alone ranks), as on PostgreSQL.
            words = read(query.text, query.match, text_mode=False)
            return fuse(
                await self.vector_search(session, tenant_id, query.vector_part()),
                await search_read(session, tenant_id, query.text_part(), words),
                query.fusion,
                query.k,
            )
        return await self.vector_search(session, tenant_id, query)

    async def vector_search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery
    ) -> list[SearchHit]:
        if query.filter.matches_nothing:
            return []
        if self.vector_cache.enabled:
            hits = await cached_search(session, tenant_id, query, self.codec, self.vector_cache)
            if hits is not None:
                return hits
        return await streamed_search(session, tenant_id, query, self.codec)
