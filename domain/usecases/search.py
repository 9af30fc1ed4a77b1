"""Top-k vector search within one tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import check_dimension
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.search import SearchFilter, SearchHit, VectorQuery
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


@attrs.define
class SearchService(Service):
    embedder: Embedder

    async def search(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        text: str | None = None,
        embedding: Iterable[float] | None = None,
        k: int = 10,
        filter: SearchFilter | None = None,
    ) -> Sequence[SearchHit]:
        """The k chunks most similar to ``text`` (embedded here) or to a given ``embedding``."""
        if (text is None) == (embedding is None):
            raise InvalidInput("query", "give exactly one of text or embedding")
        if text is not None:
            if not text.strip():
                raise InvalidInput("text", "must not be empty")
            vector = await self.embedder.embed_query(text)
        else:
            vector = tuple(embedding or ())
        query = VectorQuery(embedding=vector, k=k, filter=filter or SearchFilter())
        check_dimension(query.embedding, self.uow.dimension)
        # Read-only: with a replica configured, searches are served there.
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.SEARCH)
            return await uow.chunks.search(query)
