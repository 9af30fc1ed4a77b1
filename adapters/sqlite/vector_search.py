"""Vector search on SQLite: a scan of the tenant's chunks, scored with NumPy.

SQLite has no vector index, so a search scores every chunk the filter admits, which is
what "exact per tenant" promises anyway. Through the vector cache when it can answer
(cached_search.py); otherwise by streaming:

1. SQL selects the ids and float32 BLOBs of the tenant's chunks the filter admits
   (candidates.py); ids stay as SQLite stores them (32 hex digits, which sort as the
   UUIDs do), since making a UUID per row would cost more than scoring it.
2. Each batch is scored in float64 (cosine; a zero vector scores 0), and only the rows
   that may still be in the top k are kept.
3. The k best, ties broken by chunk id, are read back with their content.

Scores agree with an exact cosine within 1e-6 (float64 on float32 embeddings: far less);
rankings agree except between near-ties.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, String, select, type_coerce
from sqlalchemy.engine import RowMapping

from tenantrag.adapters.sql.hits import cosines, hit_from_row
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite import candidates
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.domain.search import SearchHit, VectorQuery, hit_order

BATCH = 4096
Ranked = list[tuple[uuid.UUID, float]]


async def streamed_search(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, codec: Float32Blobs
) -> list[SearchHit]:
    c = candidates.chunks.c
    statement = (
        select(
            type_coerce(c.id, String()).label("id"), type_coerce(c.embedding, codec.column_type).label("e")
        )
        .select_from(candidates.joined())
        .where(*candidates.conditions(tenant_id, query.filter))
    )
    vector = np.asarray(query.embedding, dtype=np.float64)
    ids: list[str] = []
    scores = np.empty(0, dtype=np.float64)
    async with session.stream(statement) as result:
        async for batch in result.mappings().partitions(BATCH):
            ids += [row["id"] for row in batch]
            scores = np.concatenate([scores, cosines(codec.matrix([row["e"] for row in batch]), vector)])
            if len(ids) > query.k:  # keep the rows at or above the k-th best (ties stay)
                kth = np.partition(scores, -query.k)[-query.k]
                keep = np.flatnonzero(scores >= kth)
                ids, scores = [ids[i] for i in keep], scores[keep]
    order: list[int] = np.lexsort((np.array(ids, dtype="S32"), -scores))[: query.k].tolist() if ids else []
    return await read_hits(session, tenant_id, [(uuid.UUID(ids[i]), float(scores[i])) for i in order])


async def read_hits(session: SqlSession, tenant_id: uuid.UUID, ranked: Ranked) -> list[SearchHit]:
    """The hits of ``ranked`` (chunk id, score), read with what a hit shows."""
    if not ranked:
        return []
    c, d = candidates.chunks.c, candidates.documents.c
    statement = (
        select(*hit_columns())
        .select_from(candidates.joined())
        .where(c.tenant_id == tenant_id, d.tenant_id == tenant_id, c.id.in_([i for i, _ in ranked]))
    )
    rows = {row["id"]: row for row in (await session.read(statement)).mappings()}
    return as_hits(rows, ranked)


def hit_columns() -> list[ColumnElement[Any]]:
    c, d = candidates.chunks.c, candidates.documents.c
    return [c.id, c.document_id, c.ordinal, c.content, c.metadata, d.version]


def as_hits(rows: Mapping[uuid.UUID, RowMapping], ranked: Ranked) -> list[SearchHit]:
    hits = [hit_from_row(rows[chunk_id], score) for chunk_id, score in ranked if chunk_id in rows]
    hits.sort(key=hit_order)
    return hits
