"""Search on SQLite: exact vector search (NumPy), full-text (FTS5, see fulltext.py), hybrid.

Hybrid search runs both, each for ``Fusion.depth(k)`` candidates, and fuses them with the
domain's ``fuse``: the reference itself, so SQLite's hybrid ranking differs from the memory
backend's only where their text scores order matches differently.

SQLite has no vector index, so vector search is a scan of the tenant's chunks, which is
what "exact per tenant" promises anyway. To return what ``brute_force_top_k``
returns, hit for hit:

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
3. Those few are re-scored with the domain's ``cosine`` (exactly rounded sums) and
   sorted by ``hit_order``, so near-ties break the same way as in the reference.
4. Content, metadata and the document's version are read for the winners only.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, cast

import attrs
import numpy as np
from sqlalchemy import ColumnElement, String, and_, distinct, exists, func, literal, select, type_coerce
from sqlalchemy.engine import RowMapping

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.filters import compile_filter
from tenantrag.adapters.sql.hits import hit_from_row
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite import fulltext
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import (
    HybridQuery,
    SearchFilter,
    SearchHit,
    SearchQuery,
    TextQuery,
    VectorQuery,
    cosine,
    fuse,
    hit_order,
)

BATCH = 4096
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
    session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery, codec: Float32Blobs
) -> list[SearchHit]:
    if isinstance(query, TextQuery):
        return await text_search(session, tenant_id, query)
    if isinstance(query, HybridQuery):
        text = query.text_part()
        return fuse(
            await vector_search(session, tenant_id, query.vector_part(), codec),
            [] if text is None else await text_search(session, tenant_id, text),
            query.fusion,
            query.k,
        )
    return await vector_search(session, tenant_id, query, codec)


async def vector_search(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, codec: Float32Blobs
) -> list[SearchHit]:
    wanted = query.filter
    if _matches_nothing(wanted):
        return []
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
    if _matches_nothing(wanted):
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


def _matches_nothing(wanted: SearchFilter) -> bool:
    return (wanted.document_ids is not None and not wanted.document_ids) or wanted.tags_any == ()


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
        exact = [
            (uuid.UUID(chunk_id), cosine(self._query.embedding, tuple(row.tolist())))
            for chunk_id, row in zip(self._ids, self._rows, strict=True)
        ]
        exact.sort(key=lambda pair: (-pair[1], str(pair[0])))
        return exact[: self._query.k]


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
