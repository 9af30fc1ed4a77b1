"""The PostgreSQL backend's ``ChunkSearch``: vector search that keeps its recall for tenants
of every size (the plan is chosen per query, plan.py); full-text search (fulltext.py, BM25);
hybrid search as both, fused by the domain (``domain/fusion.py``) as on SQLite.

Scores: pgvector orders the candidates (k + ``MARGIN``, its float32 distances), which are
then scored in float64 with NumPy on their stored embeddings (``hits.cosines``): scores
agree with the SQLite backend's and an exact cosine within 1e-6, rankings except between
near-ties.

Filters: the filter language, compiled by ``adapters/sql/filters.py``, in one ``EXISTS`` on
``documents`` by its key, which keeps the candidate query a scan of chunks (ordered by
the HNSW index where it is used); the document ids a filter confines hits to are also a
condition on the chunks themselves, so the exact plan reads them by ``(tenant_id,
document_id)``.

Vector and text searches make one round trip, the statement that computes the hits, plus
the settings statement (``Planner.plan``) when the index path is taken, the tenant's count
is not known, or the text search configuration has not been read yet; hybrid makes both.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    any_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

from tenantrag.adapters.postgres import fulltext
from tenantrag.adapters.postgres.distance import Distance
from tenantrag.adapters.postgres.embeddings import PgVectors
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.postgres.plan import Planner, TenantSizes
from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.filters import compile_filter
from tenantrag.adapters.sql.fulltext_query import TextSearch, read
from tenantrag.adapters.sql.hits import cosines, hit_from_row
from tenantrag.adapters.sql.session import SqlSession
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

MARGIN = 8  # candidates beyond k, so float64 scores can reorder pgvector's near-ties at the edge

_chunks, _documents = schema.chunks, schema.documents
Condition = ColumnElement[bool]


class PostgresChunkSearch:
    """One per factory: its planner remembers tenants' sizes and the text configuration."""

    def __init__(self, codec: PgVectors, options: PostgresOptions) -> None:
        self.codec = codec
        self.options = options
        self.planner = Planner(options)

    @property
    def sizes(self) -> TenantSizes:
        return self.planner.sizes

    async def search(self, session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery) -> list[SearchHit]:
        if query.filter.matches_nothing:
            return []
        if isinstance(query, TextQuery):
            return await self.text_search(session, tenant_id, query)
        if isinstance(query, HybridQuery):
            return await self.hybrid_search(session, tenant_id, query)
        return await self.vector_search(session, tenant_id, query)

    async def vector_search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery
    ) -> list[SearchHit]:
        wanted, distance, codec = query.filter, self.options.distance, self.codec
        exact = await self.planner.plan(session, tenant_id, query.k, wanted)
        encoded = codec.encode(query.embedding)
        limit = query.k + MARGIN
        if wanted.is_empty:
            statement = _unfiltered_statement(distance, codec.column_type, exact=exact, limit=limit)
            params: dict[str, Any] | None = {"tenant": tenant_id, "query": encoded}
        else:
            q = bindparam("query", encoded, type_=codec.column_type)
            statement = _statement(tenant_id, wanted, q, distance, exact=exact, limit=limit)
            params = None
        rows = (await session.read(statement, params)).mappings().all()
        hits = _hits(rows, query, codec, distance)
        hits.sort(key=hit_order)
        return hits[: query.k]

    async def text_search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: TextQuery, search: TextSearch | None = None
    ) -> list[SearchHit]:
        """BM25 over the tenant's matches (fulltext.py); ``search``: the text already read."""
        if search is None:
            search = read(query.text, query.match, text_mode=True)  # refused alike on both backends
        if search.is_empty:
            return []
        await self.planner.plan(session, tenant_id, query.k, None)
        params = fulltext.parameters(tenant_id, self.planner.text_config, query.text, search)
        shape = (fulltext.one_word(search), search.expression is not None, query.k)
        if query.filter.is_empty:
            statement = _unfiltered_text_statement(*shape)
        else:
            statement = _text_statement(*shape, conditions=_conditions(fulltext.TENANT, query.filter))
        rows = (await session.read(statement, params)).mappings().all()
        hits = [hit_from_row(row) for row in rows]
        hits.sort(key=hit_order)
        return hits

    async def hybrid_search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: HybridQuery
    ) -> list[SearchHit]:
        """Both lists, each by its own plan, fused by the domain (``fuse``), as on SQLite."""
        search = read(query.text, query.match, text_mode=False)  # stop words only: no text list
        vector = await self.vector_search(session, tenant_id, query.vector_part())
        text = await self.text_search(session, tenant_id, query.text_part(), search)
        return fuse(vector, text, query.fusion, query.k)


@functools.lru_cache(maxsize=256)
def _unfiltered_text_statement(one_word: bool, websearch: bool, limit: int) -> Select[Any]:
    """An unfiltered text search's statement, built once per shape (every value is bound by
    name when it runs): building it cost as much as running a rare word's search."""
    return _text_statement(one_word, websearch, limit)


def _text_statement(
    one_word: bool, websearch: bool, limit: int, *, conditions: Sequence[Condition] = ()
) -> Select[Any]:
    found = fulltext.candidates(conditions, one_word=one_word, websearch=websearch, limit=limit)
    top = found.cte("text_top")
    return _with_chunks(top, fulltext.TENANT, top.c.score)


def _with_chunks(
    top: Any, tenant_id: uuid.UUID | ColumnElement[Any], score: ColumnElement[Any]
) -> Select[Any]:
    """The ranked ids of ``top`` with what a hit shows, best first."""
    c, d = _chunks.c, _documents.c
    return (
        select(top, c.document_id, c.ordinal, c.content, c.metadata, d.version)
        .select_from(top)
        .join(_chunks, (c.tenant_id == tenant_id) & (c.id == top.c.id))
        .join(_documents, (d.tenant_id == tenant_id) & (d.id == c.document_id))
        .order_by(score.desc(), top.c.id)
    )


@functools.lru_cache(maxsize=256)
def _unfiltered_statement(
    distance: Distance, column_type: TypeEngine[Any], *, exact: bool, limit: int
) -> Select[Any]:
    """The statement of an unfiltered search, built once: ``tenant`` and ``query`` are bound
    when it runs. Building a statement cost more than running a small tenant's search."""
    tenant = bindparam("tenant", type_=_chunks.c.tenant_id.type)
    q = bindparam("query", type_=column_type)
    return _statement(tenant, SearchFilter(), q, distance, exact=exact, limit=limit)


def _statement(
    tenant_id: uuid.UUID | ColumnElement[Any],
    wanted: SearchFilter,
    q: Any,
    distance: Distance,
    *,
    exact: bool,
    limit: int,
) -> Select[Any]:
    c, d = _chunks.c, _documents.c
    top = _candidates(tenant_id, _conditions(tenant_id, wanted), q, distance, exact=exact, limit=limit)
    return (
        select(
            top.c.id,
            top.c.distance,
            c.document_id,
            c.ordinal,
            c.content,
            c.metadata,
            coerce(c.embedding, q.type).label("embedding"),
            d.version,
        )
        .select_from(top)
        .join(_chunks, (c.tenant_id == tenant_id) & (c.id == top.c.id))
        .join(_documents, (d.tenant_id == tenant_id) & (d.id == c.document_id))
        .order_by(top.c.distance, top.c.id)
    )


def _candidates(
    tenant_id: uuid.UUID | ColumnElement[Any],
    conditions: list[Condition],
    q: Any,
    distance: Distance,
    *,
    exact: bool,
    limit: int,
) -> Any:
    """The ``limit`` nearest chunk ids and their distances, by the plan chosen (a CTE)."""
    c = _chunks.c
    raw = coerce(c.embedding, q.type).op(distance.operator, return_type=Float())(q)
    measure: ColumnElement[Any] = raw
    if exact:
        if distance is Distance.COSINE:  # a zero vector has no angle: pgvector says NaN, we say 0
            measure = func.coalesce(func.nullif(raw, literal_column("'NaN'::float8")), 1.0)
        # "+ 0" hides the operator from the planner: no index can order by this.
        order: list[ColumnElement[Any]] = [measure + literal_column("0"), c.id]
    else:
        order = [raw]
    return (
        select(c.id.label("id"), measure.label("distance"))
        .where(c.tenant_id == tenant_id, *conditions)
        .order_by(*order)
        .limit(limit)
        .cte("top")
        .prefix_with("MATERIALIZED")
    )


def _conditions(tenant_id: uuid.UUID | ColumnElement[Any], wanted: SearchFilter) -> list[Condition]:
    if wanted.where is None:
        return []
    c, d = _chunks.c, _documents.c
    conditions: list[Condition] = []
    pinned = wanted.document_ids
    if pinned is not None:
        conditions.append(c.document_id == any_(literal(sorted(pinned), ARRAY(c.document_id.type))))
    # The filter may read the chunk (correlated with the candidate row) and its document.
    where = compile_filter(wanted.where, chunks=_chunks, documents=_documents, dialect_name="postgresql")
    document: Select[Any] = select(literal_column("1")).select_from(_documents)
    conditions.append(exists(document.where(d.tenant_id == tenant_id, d.id == c.document_id, where)))
    return conditions


def _hits(rows: Sequence[Any], query: VectorQuery, codec: PgVectors, distance: Distance) -> list[SearchHit]:
    if distance is Distance.COSINE and rows:
        matrix = np.stack([codec.array(row["embedding"]) for row in rows])
        scores = cosines(matrix, np.asarray(query.embedding, dtype=np.float64)).tolist()
    else:
        scores = [distance.score(float(row["distance"])) for row in rows]
    return [hit_from_row(row, score) for row, score in zip(rows, scores, strict=True)]
