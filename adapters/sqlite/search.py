"""Search on SQLite: exact vector search (NumPy), full-text (FTS5, see fulltext.py), hybrid.

Hybrid search runs both, each for ``Fusion.depth(k)`` candidates, and fuses them with the
domain's ``fuse``: the reference itself, so SQLite's hybrid ranking differs from the memory
backend's only where their text scores order matches differently.

SQLite has no vector index, so vector search is a scan of the tenant's chunks, which is
what "exact per tenant" promises anyway. It returns what ``brute_force_top_k`` returns,
hit for hit, in one of two ways.

**From the vector cache** (vector_cache.py: the tenant's unit rows as one float32 matrix,
valid while the tenant's ``chunk_generations`` token is the one it was loaded under):

1. One primary-key lookup reads the tenant's token in the search's transaction; a
   missing or changed entry is loaded (id and embedding of every chunk, in id order) in
   the same transaction.
2. With a filter, SQL selects the ids the filter keeps (as below, but without the
   embeddings); they become a mask of the matrix's rows.
3. One matrix-vector product and ``argpartition`` find the candidates: every row within
   ``vector_cache.margin`` of the k-th best float32 score, a superset of the exact top k.
4. One statement reads the candidates' embeddings, content, metadata and document
   version; they are ranked exactly (step 3 below) and the best k kept.

**By streaming**, when the cache is off, the tenant is larger than it, or the tenant has
no token yet:

1. SQL narrows the candidates: the tenant (on both chunks and documents), the
   document ids (bound one by one, or as one JSON parameter read by ``json_each`` when
   there are many), the document's tags
   (``json_each``), the filter language's condition (``adapters/sql/filters.py``), and the
   simple metadata equalities (``json_extract`` with bound parameters). Each of these
   keeps every row the domain's filter keeps; the domain's own ``SearchFilter.matches``
   then decides the legacy metadata equalities in Python, so equality means exactly what
   it means there (``1 == 1.0 == True``, nested values...).
2. Embeddings stream in batches as float32 BLOBs, are scored in float64 with
   NumPy, and only the candidates within a hair of the k-th best are kept. Chunk
   ids stay as SQLite stores them (SQLAlchemy's Uuid: 32 hex digits, which sort as
   the UUIDs do) until they win.
3. Those few are ranked exactly (``rank_exactly``): scored in float64 with NumPy, and
   wherever two scores are closer than float64's rounding could explain, re-scored as the
   domain's ``cosine`` scores (``exact_cosines``: the same products and exactly rounded
   sums, bit for bit); sorted by score then chunk id as ``hit_order`` does, so near-ties
   break the same way as in the reference. The k winners carry the domain's very scores.
4. Content, metadata and the document's version are read for the winners only.
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs
import numpy as np
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    distinct,
    exists,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import Select
from sqlalchemy.types import TypeEngine

from tenantrag.adapters.exact_cosine import exact_cosines, exact_norm
from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.filters import compile_filter
from tenantrag.adapters.sql.hits import hit_from_row
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite import fulltext
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.adapters.sqlite.engine import transaction_state
from tenantrag.adapters.sqlite.vector_cache import TenantVectors, VectorCache, chunk_generations, unit_rows
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import (
    HybridQuery,
    SearchFilter,
    SearchHit,
    SearchQuery,
    TextQuery,
    VectorQuery,
    fuse,
    hit_order,
)

BATCH = 4096
# Rows per fetch when the vector cache loads a tenant.
LOAD_BATCH = 16384
# The cache re-scores at most this many candidates per hit wanted, plus a few; more near-ties
# than that (many equal embeddings) are left to the streaming search.
_MAX_CANDIDATES_PER_HIT = 2
_EXTRA_CANDIDATES = 256
# Up to this many document ids are bound one by one (IN); more go as one JSON parameter.
MAX_BOUND_IDS = 500
# Far above the float64 rounding differences between NumPy's and the domain's sums
# (about dimension * 1e-16), far below any real gap between scores.
TOLERANCE = 1e-9
# Keys that can be written inside a quoted JSON path label as they are.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-. ]+")
_EXACT_INTEGERS = 2**53

Condition = ColumnElement[bool]
_chunks, _documents = schema.chunks, schema.documents


def json_array_contains(column: ColumnElement[Any], value: str) -> Condition:
    element = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(element).where(element.c.value == value))


async def search(
    session: SqlSession,
    tenant_id: uuid.UUID,
    query: SearchQuery,
    codec: Float32Blobs,
    cache: VectorCache | None = None,
) -> list[SearchHit]:
    if isinstance(query, TextQuery):
        return await text_search(session, tenant_id, query)
    if isinstance(query, HybridQuery):
        text = query.text_part()
        return fuse(
            await vector_search(session, tenant_id, query.vector_part(), codec, cache),
            [] if text is None else await text_search(session, tenant_id, text),
            query.fusion,
            query.k,
        )
    return await vector_search(session, tenant_id, query, codec, cache)


async def vector_search(
    session: SqlSession,
    tenant_id: uuid.UUID,
    query: VectorQuery,
    codec: Float32Blobs,
    cache: VectorCache | None = None,
) -> list[SearchHit]:
    if query.filter.matches_nothing:
        return []
    if cache is not None and cache.enabled:
        hits = await _cached_search(session, tenant_id, query, codec, cache)
        if hits is not None:
            return hits
    return await _streamed_search(session, tenant_id, query, codec)


async def _cached_search(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, codec: Float32Blobs, cache: VectorCache
) -> list[SearchHit] | None:
    """The search through the vector cache (see the module docstring); None when it cannot
    answer (no token, too large, too many near-ties), for the streaming search to."""
    unfiltered = query.filter.is_empty
    if unfiltered:
        hits = await _from_held_entry(session, tenant_id, query, codec, cache)
        if hits is not None:
            return hits
    entry = await _tenant_vectors(session, tenant_id, codec, cache)
    if entry is None:
        return None
    allowed = None if unfiltered else await _allowed_rows(session, tenant_id, query.filter, entry)
    if not unfiltered and allowed is None:
        return None
    chosen = entry.candidates(np.asarray(query.embedding, dtype=np.float64), query.k, allowed)
    if not _few_enough(chosen, query.k):
        return None  # a crowd of near-ties: streaming ranks them without reading their content
    rows = await _candidate_rows(session, tenant_id, entry, chosen, codec) if len(chosen) else []
    if len(rows) != len(chosen):
        return None  # cannot happen while the token holds; never answer from a mismatch
    return _ranked_hits(query, rows, codec, entry)


async def _from_held_entry(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, codec: Float32Blobs, cache: VectorCache
) -> list[SearchHit] | None:
    """The common case in one statement: the candidates of the entry the cache holds, read
    together with the tenant's token, which says whether that entry was the right one.
    None when there is no entry, or it turns out stale."""
    held = cache.peek(tenant_id)
    if held is None or len(held) == 0:
        return None
    chosen = held.candidates(np.asarray(query.embedding, dtype=np.float64), query.k)
    if not _few_enough(chosen, query.k):
        return None
    rows = await _candidate_rows(session, tenant_id, held, chosen, codec, with_token=True)
    token = rows[0]["token"] if rows else None
    current = None if token is None else cache.get(tenant_id, bytes(token), keep_stale=_writing(session))
    if current is not held or len(rows) != len(chosen):
        return None
    return _ranked_hits(query, rows, codec, held)


def _few_enough(chosen: np.ndarray[Any, np.dtype[np.intp]], k: int) -> bool:
    return len(chosen) <= _MAX_CANDIDATES_PER_HIT * k + _EXTRA_CANDIDATES


def _ranked_hits(
    query: VectorQuery, rows: list[RowMapping], codec: Float32Blobs, entry: TenantVectors
) -> list[SearchHit]:
    embeddings = codec.matrix([row["embedding"] for row in rows])
    ids: list[uuid.UUID] = [row["id"] for row in rows]
    positions = entry.positions([chunk_id.hex for chunk_id in ids])

    def norms(i: int, row: np.ndarray[Any, np.dtype[np.float64]]) -> float:
        return entry.exact_norm(int(positions[i]), row) if positions is not None else exact_norm(row)

    ranked = rank_exactly(query, ids, embeddings, norms)
    return _as_hits({row["id"]: row for row in rows}, ranked)


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
    c = _chunks.c
    load = (
        select(
            type_coerce(c.id, String()).label("id"),
            type_coerce(c.embedding, codec.column_type).label("embedding"),
        )
        .where(c.tenant_id == tenant_id)
        .order_by(c.id)
    )
    ids: list[str] = []
    parts = []
    async with session.stream(load) as result:
        async for batch in result.mappings().partitions(LOAD_BATCH):
            ids.extend(row["id"] for row in batch)
            parts.append(unit_rows(codec.matrix([row["embedding"] for row in batch])))
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
    session: SqlSession, tenant_id: uuid.UUID, wanted: SearchFilter, entry: TenantVectors
) -> np.ndarray[Any, np.dtype[np.intp]] | None:
    """The rows of ``entry`` the filter keeps: their ids from SQL (step 1 of streaming,
    without the embeddings), the legacy metadata equalities decided in Python."""
    metadata_filter = SearchFilter(metadata=wanted.metadata) if wanted.metadata else None
    c = _chunks.c
    columns: list[ColumnElement[Any]] = [type_coerce(c.id, String()).label("id")]
    if metadata_filter is not None:
        columns += [c.document_id, c.metadata]
    statement = select(*columns).select_from(_joined()).where(*_conditions(tenant_id, wanted))
    result = (await session.read(statement)).mappings()
    if metadata_filter is None:
        ids = [row["id"] for row in result]
    else:
        ids = [row["id"] for row in result if _matches(metadata_filter, row)]
    return entry.positions(ids)


async def _candidate_rows(
    session: SqlSession,
    tenant_id: uuid.UUID,
    entry: TenantVectors,
    chosen: np.ndarray[Any, np.dtype[np.intp]],
    codec: Float32Blobs,
    *,
    with_token: bool = False,
) -> list[RowMapping]:
    """The chosen rows of ``entry`` with what a hit holds and their embeddings; with
    ``with_token``, each also carries the tenant's token as of this same statement."""
    stored_ids = [entry.ids[i].decode() for i in chosen.tolist()]
    statement = _candidate_statement(codec.column_type, with_token=with_token)
    params = {"tenant_id": tenant_id, "candidates": json.dumps(stored_ids)}
    return list((await session.read(statement, params)).mappings())


@functools.cache
def _candidate_statement(embedding_type: TypeEngine[Any], *, with_token: bool) -> Select[Any]:
    """Built once: building a statement costs more than running this one. The candidates
    are one JSON parameter rather than IN (...), so its compiled form is reused as it is
    (an expanding IN is rendered again at every execution)."""
    c, d, g = _chunks.c, _documents.c, chunk_generations.c
    tenant_id = bindparam("tenant_id", type_=c.tenant_id.type)
    listed = func.json_each(bindparam("candidates", type_=String())).table_valued("value")
    columns: list[ColumnElement[Any]] = [
        c.id,
        c.document_id,
        c.ordinal,
        c.content,
        c.metadata,
        d.version,
        type_coerce(c.embedding, embedding_type).label("embedding"),
    ]
    if with_token:
        columns.append(select(g.token).where(g.tenant_id == tenant_id).scalar_subquery().label("token"))
    return (
        select(*columns)
        .select_from(_joined())
        .where(
            c.tenant_id == tenant_id,
            d.tenant_id == tenant_id,
            type_coerce(c.id, String()).in_(select(listed.c.value)),
        )
    )


async def _streamed_search(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, codec: Float32Blobs
) -> list[SearchHit]:
    wanted = query.filter
    conditions = _conditions(tenant_id, wanted)
    metadata_filter = SearchFilter(metadata=wanted.metadata) if wanted.metadata else None
    c = _chunks.c
    # Making a UUID per candidate would cost more than scoring it (see step 2 above), and
    # the JSON is only worth decoding when it is filtered on.
    columns: list[ColumnElement[Any]] = [
        type_coerce(c.id, String()).label("id"),
        type_coerce(c.embedding, codec.column_type).label("embedding"),
    ]
    if metadata_filter is not None:
        columns += [c.document_id, c.metadata]
    statement = select(*columns).select_from(_joined()).where(*conditions)

    best = _Best(query, codec)
    async with session.stream(statement) as result:
        async for batch in result.mappings().partitions(BATCH):
            ids, blobs = [], []
            for row in batch:
                if metadata_filter is not None and not _matches(metadata_filter, row):
                    continue
                ids.append(row["id"])
                blobs.append(row["embedding"])
            best.add(ids, blobs)
    return await _hits(session, tenant_id, best.ranked())


async def text_search(session: SqlSession, tenant_id: uuid.UUID, query: TextQuery) -> list[SearchHit]:
    """FTS5 matches, best ``bm25()`` first; the legacy metadata equalities, which are decided
    in Python (see above), are checked on the ranked rows as they stream, until k pass."""
    wanted = query.filter
    if wanted.matches_nothing:
        return []
    expression = query.expression.searchable()
    conditions = _conditions(tenant_id, wanted)
    metadata_filter = SearchFilter(metadata=wanted.metadata) if wanted.metadata else None
    limit = None if metadata_filter is not None else query.k
    statement = fulltext.statement(tenant_id, expression, conditions, limit=limit)
    hits: list[SearchHit] = []
    async with session.stream(statement) as result:
        async for batch in result.mappings().partitions(BATCH if limit is None else query.k):
            for row in batch:
                if metadata_filter is not None and not _matches(metadata_filter, row):
                    continue
                hits.append(hit_from_row(row))
                if len(hits) == query.k:
                    break
            if len(hits) == query.k:
                break
    hits.sort(key=hit_order)
    return hits


def _joined() -> Any:
    return _chunks.join(
        _documents,
        and_(_documents.c.tenant_id == _chunks.c.tenant_id, _documents.c.id == _chunks.c.document_id),
    )


def _conditions(tenant_id: uuid.UUID, wanted: SearchFilter) -> list[Condition]:
    """The filter as SQL over chunks joined with documents, all values bound (see step 1)."""
    c, d = _chunks.c, _documents.c
    conditions: list[Condition] = [c.tenant_id == tenant_id, d.tenant_id == tenant_id]
    if wanted.document_ids is not None and len(wanted.document_ids) <= MAX_BOUND_IDS:
        conditions.append(c.document_id.in_(sorted(wanted.document_ids)))
    elif wanted.document_ids is not None:
        # SQLite limits the number of parameters; SQLAlchemy's Uuid stores 32 hex digits.
        listed = func.json_each(json.dumps(sorted(x.hex for x in wanted.document_ids))).table_valued("value")
        conditions.append(c.document_id.in_(select(listed.c.value)))
    if wanted.tags_any:
        tag = func.json_each(d.tags).table_valued("value")
        conditions.append(exists(select(literal(1)).select_from(tag).where(tag.c.value.in_(wanted.tags_any))))
    if wanted.tags_all:
        tag = func.json_each(d.tags).table_valued("value")
        present = (
            select(func.count(distinct(tag.c.value))).select_from(tag).where(tag.c.value.in_(wanted.tags_all))
        )
        conditions.append(present.scalar_subquery() == len(set(wanted.tags_all)))
    conditions.extend(_metadata_prefilter(c.metadata, wanted.metadata))
    if wanted.where is not None:
        conditions.append(
            compile_filter(wanted.where, chunks=_chunks, documents=_documents, dialect_name="sqlite")
        )
    return conditions


def _metadata_prefilter(column: ColumnElement[Any], wanted: Mapping[str, Any]) -> list[Condition]:
    """``json_extract(metadata, '$."key"') = :value`` for the values SQLite compares as Python
    does (strings; booleans and integers, which SQLite sees as integers); others are left to
    the Python check. JSON true is 1 in SQLite, as True == 1 in Python."""
    conditions: list[Condition] = []
    for key, value in wanted.items():
        if not _PLAIN_KEY.fullmatch(key):
            continue
        if isinstance(value, bool):
            bound: str | int = int(value)
        elif isinstance(value, str) or (isinstance(value, int) and abs(value) < _EXACT_INTEGERS):
            bound = value
        else:
            continue
        conditions.append(func.json_extract(column, f'$."{key}"') == bound)
    return conditions


@attrs.frozen
class _ChunkView:
    document_id: uuid.UUID
    metadata: dict[str, Any]


@attrs.frozen
class _DocumentView:
    tags: tuple[str, ...] = ()


def _matches(metadata_filter: SearchFilter, row: RowMapping) -> bool:
    # The domain's own test, on views holding just the fields a metadata filter reads.
    view = _ChunkView(row["document_id"], row["metadata"])
    return metadata_filter.matches(cast(Chunk, view), cast(Document, _DocumentView()))


class _Best:
    """The running top-k candidates (with near-ties) of a stream of embeddings."""

    def __init__(self, query: VectorQuery, codec: Float32Blobs) -> None:
        self._query = query
        self._codec = codec
        self._vector = np.asarray(query.embedding, dtype=np.float64)
        self._norm = float(np.sqrt(self._vector @ self._vector))
        self._ids: list[str] = []
        self._rows = np.empty((0, codec.dimension), dtype=np.float32)
        self._scores = np.empty(0, dtype=np.float64)

    def add(self, ids: list[str], blobs: list[object]) -> None:
        if not ids:
            return
        rows = self._codec.matrix(blobs)
        wide = rows.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
        dots = np.einsum("ij,j->i", wide, self._vector)  # steadier than BLAS for one vector
        scores = np.zeros(len(ids), dtype=np.float64)
        nonzero = norms > 0.0  # the domain's cosine is 0 for a zero vector
        scores[nonzero] = dots[nonzero] / (norms[nonzero] * self._norm)
        self._ids.extend(ids)
        self._rows = np.concatenate([self._rows, rows])
        self._scores = np.concatenate([self._scores, scores])
        k = self._query.k
        if len(self._ids) > k:
            kth = np.partition(self._scores, -k)[-k]
            keep = np.flatnonzero(self._scores >= kth - TOLERANCE)
            self._ids = [self._ids[i] for i in keep]
            self._rows = self._rows[keep]
            self._scores = self._scores[keep]

    def ranked(self) -> list[tuple[uuid.UUID, float]]:
        """The top k as the domain ranks them: exact cosine, best first, ties by chunk id."""
        return rank_exactly(self._query, [uuid.UUID(chunk_id) for chunk_id in self._ids], self._rows)


def rank_exactly(
    query: VectorQuery,
    ids: list[uuid.UUID],
    rows: np.ndarray[Any, np.dtype[np.float32]],
    norms: Callable[[int, np.ndarray[Any, np.dtype[np.float64]]], float] | None = None,
) -> list[tuple[uuid.UUID, float]]:
    """The best k of the chunks ``ids`` (embeddings ``rows``) as ``brute_force_top_k`` ranks
    them: by the domain's ``cosine``, best first, then by chunk id (``hit_order``), each with
    the very score ``cosine`` gives.

    The order comes from scores computed in float64 with NumPy, within about ``dimension *
    2**-52`` of the domain's. Wherever two are closer than ``_tie_width`` (so their order
    might differ), both are scored exactly (``exact_cosines``): every pair is then either far
    enough apart for the NumPy scores to order it as the domain's would, or compared on the
    domain's own scores. The k winners are scored exactly too, for the scores they carry.
    ``norms(i, row)`` may supply the exact norm of row ``i`` (the vector cache keeps them).
    """
    if not ids:
        return []
    vector = np.asarray(query.embedding, dtype=np.float64)
    wide = rows.astype(np.float64)
    row_norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
    dots = np.einsum("ij,j->i", wide, vector)
    scores = np.zeros(len(ids), dtype=np.float64)
    nonzero = row_norms > 0.0  # the domain's cosine is 0 for a zero vector
    scores[nonzero] = dots[nonzero] / (row_norms[nonzero] * math.sqrt(float(vector @ vector)))
    order = np.argsort(-scores, kind="stable")
    close = np.diff(scores[order]) >= -_tie_width(rows.shape[1])
    tied = np.zeros(len(ids), dtype=bool)
    tied[:-1] |= close
    tied[1:] |= close
    exact: dict[int, float] = {}
    _score_exactly(query, wide, order[tied].tolist(), exact, norms)
    ranked = sorted(range(len(ids)), key=lambda i: (-exact.get(i, float(scores[i])), str(ids[i])))[: query.k]
    _score_exactly(query, wide, [i for i in ranked if i not in exact], exact, norms)
    winners = [(ids[i], exact[i]) for i in ranked]
    winners.sort(key=lambda pair: (-pair[1], str(pair[0])))  # the same order, on exact scores
    return winners


def _score_exactly(
    query: VectorQuery,
    wide: np.ndarray[Any, np.dtype[np.float64]],
    which: list[int],
    into: dict[int, float],
    norms: Callable[[int, np.ndarray[Any, np.dtype[np.float64]]], float] | None,
) -> None:
    if not which:
        return
    picked = wide[which]
    into.update(
        zip(
            which,
            exact_cosines(
                query.embedding,
                picked,
                [norms(i, row) if norms is not None else None for i, row in zip(which, picked, strict=True)],
            ),
            strict=True,
        )
    )


def _tie_width(dimension: int) -> float:
    """Twice the bound on the distance between a NumPy float64 cosine and the domain's
    (about ``(2 * dimension + 8)`` units of 2**-53), doubled for safety."""
    return 4.0 * (2 * dimension + 8) * 2.0**-53


async def _hits(
    session: SqlSession, tenant_id: uuid.UUID, ranked: list[tuple[uuid.UUID, float]]
) -> list[SearchHit]:
    if not ranked:
        return []
    c, d = _chunks.c, _documents.c
    statement = (
        select(c.id, c.document_id, c.ordinal, c.content, c.metadata, d.version)
        .select_from(_joined())
        .where(
            c.tenant_id == tenant_id, d.tenant_id == tenant_id, c.id.in_([chunk_id for chunk_id, _ in ranked])
        )
    )
    rows = {row["id"]: row for row in (await session.read(statement)).mappings()}
    return _as_hits(rows, ranked)


def _as_hits(rows: Mapping[uuid.UUID, RowMapping], ranked: list[tuple[uuid.UUID, float]]) -> list[SearchHit]:
    hits = [
        SearchHit(
            chunk_id=chunk_id,
            document_id=rows[chunk_id]["document_id"],
            document_version=rows[chunk_id]["version"],
            ordinal=rows[chunk_id]["ordinal"],
            content=rows[chunk_id]["content"],
            metadata=rows[chunk_id]["metadata"],
            score=score,
        )
        for chunk_id, score in ranked
    ]
    hits.sort(key=hit_order)
    return hits
