"""What the vector cache tests share: random vectors, storing a document's chunks, and
searching with and without the cache."""

from __future__ import annotations

import random
import uuid
from typing import Any

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import (
    SearchHit,
)
from tests.contract.factories import make_chunk, make_document
from tests.search_reference import assert_same_hits, exact_top_k
from tests.sqlite.conftest import DIMENSION

Rows = list[tuple[Chunk, Document]]


def vector(rng: random.Random) -> list[float]:
    return [rng.uniform(-1.0, 1.0) for _ in range(DIMENSION)]


async def store(
    factory: SqliteUnitOfWorkFactory,
    tenant_id: uuid.UUID,
    count: int,
    rng: random.Random,
    *,
    tags: tuple[str, ...] = (),
    metadata: dict[str, Any] | None = None,
) -> Rows:
    document = make_document(tenant_id, tags=tags)
    chunks = [make_chunk(document, i, vector(rng), metadata=metadata) for i in range(count)]
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        await uow.commit()
    return [(chunk, document) for chunk in chunks]


async def search(
    factory: SqliteUnitOfWorkFactory, tenant_id: uuid.UUID, query: Any, *, read_only: bool = True
) -> list[SearchHit]:
    async with factory.tenant(tenant_id, read_only=read_only) as uow:
        return list(await uow.chunks.search(query))


async def check(
    factory: SqliteUnitOfWorkFactory,
    uncached: SqliteUnitOfWorkFactory,
    tenant_id: uuid.UUID,
    query: Any,
    rows: Rows,
) -> list[SearchHit]:
    """The cached answer is an exact cosine's within tolerance, and the uncached one's."""
    hits = await search(factory, tenant_id, query)
    assert_same_hits(hits, exact_top_k(query, rows))
    assert_same_hits(hits, await search(uncached, tenant_id, query))
    return hits
