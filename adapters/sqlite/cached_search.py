"""Vector search through the vector cache (vector_cache.py): the tenant's unit rows as one
float32 matrix, valid while the tenant's ``chunk_generations`` token is the one it was
loaded under.

1. The common case is one statement: the k best rows of the entry the cache holds are
   read with their content together with the tenant's token, which says whether that
   entry was the right one (``_from_held_entry``).
2. Otherwise one primary-key lookup reads the token in the search's transaction, and a
   missing or changed entry is loaded (id and embedding of every chunk, in id order) in
   the same transaction. With a filter, SQL selects the ids the filter keeps (candidates.py,
   without the embeddings); they become a mask of the matrix's rows. The k best are
   found in memory and read back with their content.

None means the cache cannot answer (no token yet, the tenant larger than the cache): the
caller streams instead.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, String, bindparam, func, select, type_coerce
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import Select

from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite import candidates
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.adapters.sqlite.engine import transaction_state
from tenantrag.adapters.sqlite.vector_cache import TenantVectors, VectorCache, chunk_generations, unit_rows
from tenantrag.adapters.sqlite.vector_search import Ranked, as_hits, read_hits
from tenantrag.domain.search import SearchHit, VectorQuery

# Rows per fetch when the vector cache loads a tenant.
LOAD_BATCH = 16384


async def cached_search(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, codec: Float32Blobs, cache: VectorCache
) -> list[SearchHit] | None:
    vector = np.asarray(query.embedding, dtype=np.float64)
    unfiltered = query.filter.is_empty
    if unfiltered:
        hits = await _from_held_entry(session, tenant_id, query.k, vector, cache)
        if hits is not None:
            return hits
    entry = await _tenant_vectors(session, tenant_id, codec, cache)
    if entry is None:
        return None
    allowed = None if unfiltered else await _allowed_rows(session, tenant_id, query, entry)
    if not unfiltered and allowed is None:
        return None  # cannot happen while the token holds; never answer from a mismatch
    return await read_hits(session, tenant_id, _ranked(entry, *entry.best(vector, query.k, allowed)))


async def _from_held_entry(
    session: SqlSession, tenant_id: uuid.UUID, k: int, vector: npt.NDArray[np.float64], cache: VectorCache
) -> list[SearchHit] | None:
    """The hits from the entry the cache holds, if the token read with them says it is
    current; None when there is no entry, or it turns out stale."""
    held = cache.peek(tenant_id)
    if held is None or len(held) == 0:
        return None
    ranked = _ranked(held, *held.best(vector, k))
    stored_ids = [chunk_id.hex for chunk_id, _ in ranked]
    params = {"tenant_id": tenant_id, "chosen": json.dumps(stored_ids)}
    rows: list[RowMapping] = list((await session.read(_with_token(), params)).mappings())
    token = rows[0]["token"] if rows else None
    current = None if token is None else cache.get(tenant_id, bytes(token), keep_stale=_writing(session))
    if current is not held or len(rows) != len(ranked):
        return None
    return as_hits({row["id"]: row for row in rows}, ranked)


def _ranked(entry: TenantVectors, rows: npt.NDArray[np.intp], scores: npt.NDArray[np.float64]) -> Ranked:
    pairs = zip(rows.tolist(), scores.tolist(), strict=True)
    return [(uuid.UUID(entry.ids[i].decode()), score) for i, score in pairs]


@functools.cache
def _with_token() -> Select[Any]:
    """Built once: building a statement costs more than running this one. The ids are one
    JSON parameter rather than IN (...), so its compiled form is reused as it is (an
    expanding IN is rendered again at every execution)."""
    c, d, g = candidates.chunks.c, candidates.documents.c, chunk_generations.c
    tenant_id = bindparam("tenant_id", type_=c.tenant_id.type)
    listed = func.json_each(bindparam("chosen", type_=String())).table_valued("value")
    columns: list[ColumnElement[Any]] = [c.id, c.document_id, c.ordinal, c.content, c.metadata, d.version]
    token = select(g.token).where(g.tenant_id == tenant_id).scalar_subquery().label("token")
    return (
        select(*columns, token)
        .select_from(candidates.joined())
        .where(
            c.tenant_id == tenant_id,
            d.tenant_id == tenant_id,
            type_coerce(c.id, String()).in_(select(listed.c.value)),
        )
    )


async def _tenant_vectors(
    session: SqlSession, tenant_id: uuid.UUID, codec: Float32Blobs, cache: VectorCache
) -> TenantVectors | None:
    """The tenant's cache entry as of this transaction, loaded if needed; None without a
    token or when the tenant cannot fit."""
    g = chunk_generations.c
    statement = select(g.token, g.chunk_count).where(g.tenant_id == tenant_id)
    found = (await session.read(statement)).mappings().first()
    if found is None:
        return None
    token, count = bytes(found["token"]), int(found["chunk_count"])
    writing = _writing(session)
    entry = cache.get(tenant_id, token, keep_stale=writing)
    if entry is not None:
        return entry
    if not cache.fits(count, codec.dimension):
        return None
    c = candidates.chunks.c
    load = (
        select(
            type_coerce(c.id, String()).label("id"), type_coerce(c.embedding, codec.column_type).label("e")
        )
        .where(c.tenant_id == tenant_id)
        .order_by(c.id)
    )
    ids: list[str] = []
    parts = []
    async with session.stream(load) as result:
        async for batch in result.mappings().partitions(LOAD_BATCH):
            ids.extend(row["id"] for row in batch)
            parts.append(unit_rows(codec.matrix([row["e"] for row in batch])))
    unit = np.concatenate(parts) if parts else np.empty((0, codec.dimension), dtype=np.float32)
    entry = TenantVectors.build(token, ids, unit)
    if not writing:  # only what is committed: a unit of work that wrote may still roll back
        cache.put(tenant_id, entry)
    return entry


def _writing(session: SqlSession) -> bool:
    """Whether the unit of work has written (its token may name uncommitted chunks, and the
    entry the cache holds may still be the committed state's)."""
    state = transaction_state(session.connection().info)
    return state is not None and state.immediate


async def _allowed_rows(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, entry: TenantVectors
) -> npt.NDArray[np.intp] | None:
    """The rows of ``entry`` the filter keeps, by their ids from SQL."""
    c = candidates.chunks.c
    statement = (
        select(type_coerce(c.id, String()).label("id"))
        .select_from(candidates.joined())
        .where(*candidates.conditions(tenant_id, query.filter))
    )
    return entry.positions([row["id"] for row in (await session.read(statement)).mappings()])
