"""Search on PostgreSQL: vector search that keeps its recall for tenants of every size;
full-text (fulltext.py) and hybrid (hybrid.py) search built on the same pieces.

A tenant filter on one shared HNSW index fails small tenants: the index walk finds
``ef_search`` nearest rows of *all* tenants and the filter keeps the few that are
theirs (measured: recall@10 about 0.1 for a tenant holding 0.1% of the rows). So
the plan is chosen per query, from the tenant's chunk count:

- **exact** for tenants up to ``exact_search_limit`` chunks, and whenever the
  filter names documents: the tenant's rows (found by the ``(tenant_id, ...)`` keys)
  are scored and the top-k taken. The ORDER BY is ``distance + 0``, an expression no
  index can supply, so the planner cannot pick the HNSW index instead. Recall 1.
- **index** for larger tenants: the HNSW index with ``hnsw.iterative_scan =
  relaxed_order`` (the walk continues until enough rows pass the tenant filter)
  and ``ef_search >= k``; the relaxed order is restored by the outer ORDER BY.

The index path runs with ``plan_cache_mode = force_custom_plan`` in its transaction,
so a statement psycopg has prepared is still planned for the tenant at hand (a cached
generic plan would ignore the tenant's size). The exact path needs no setting, so its
prepared statements keep their cached plans (planning was 0.65 ms of a 1 ms search).
The chosen plan is in the SQL itself, not in planner costs.

Tenant sizes are counted (an index-only count on the primary key) and kept for
``SIZE_TTL`` seconds per process; a bulk insert forgets its tenant's count.

Scores: candidates are re-scored with the domain's ``cosine`` (bit for bit, at NumPy
speed: adapters/exact_cosine.py) on their stored float32 embeddings, and ranked by ``hit_order``,
so exact searches return exactly what ``brute_force_top_k`` returns. pgvector sums in
float32, so near-ties at the k-th place are resolved by widening the candidate list
until the boundary is clear.

Filters: the legacy conditions and the filter language (``adapters/sql/filters.py``) are
SQL over the candidates, values bound; conditions on the chunk's document sit in one
``EXISTS`` on ``documents`` by its key, which keeps the candidate query a scan of chunks
(ordered by the HNSW index where it is used).

Text and hybrid modes: fulltext.py and hybrid.py. Every mode makes one round trip, the
statement that computes the hits, plus the settings statement (``_plan``) when the index
path is taken, the tenant's count is not known, or the text search configuration has not
been read yet.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Text,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine

from tenantrag.adapters.exact_cosine import exact_cosines
from tenantrag.adapters.postgres import fulltext, hybrid, vector_index
from tenantrag.adapters.postgres.distance import Distance
from tenantrag.adapters.postgres.embeddings import PgVectors
from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.filters import compile_filter
from tenantrag.adapters.sql.hits import hit_from_row
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.domain.search import (
    HybridQuery,
    SearchFilter,
    SearchHit,
    SearchQuery,
    TextQuery,
    VectorQuery,
    hit_order,
)

if TYPE_CHECKING:
    from tenantrag.adapters.postgres.dialect import PostgresDialect

SIZE_TTL = 30.0  # seconds a tenant's chunk count is trusted for choosing a plan
MARGIN = 8  # candidates beyond k, so re-scoring can reorder near-ties at the boundary
TOLERANCE = 1e-5  # above pgvector's float32 rounding of a distance, below real gaps

_chunks, _documents = schema.chunks, schema.documents
Condition = ColumnElement[bool]


class TenantSizes:
    """Chunk counts per tenant, remembered for a while (per backend, per process)."""

    def __init__(self, ttl: float = SIZE_TTL) -> None:
        self._ttl = ttl
        self._counts: dict[uuid.UUID, tuple[int, float]] = {}

    def get(self, tenant_id: uuid.UUID) -> int | None:
        found = self._counts.get(tenant_id)
        if found is None or time.monotonic() - found[1] > self._ttl:
            return None
        return found[0]

    def put(self, tenant_id: uuid.UUID, count: int) -> None:
        self._counts[tenant_id] = (count, time.monotonic())

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._counts.pop(tenant_id, None)


async def search(
    session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery, dialect: PostgresDialect
) -> list[SearchHit]:
    if query.filter.matches_nothing:
        return []
    if isinstance(query, TextQuery):
        return await text_search(session, tenant_id, query, dialect)
    if isinstance(query, HybridQuery):
        return await hybrid_search(session, tenant_id, query, dialect)
    return await vector_search(session, tenant_id, query, dialect)


async def vector_search(
    session: SqlSession, tenant_id: uuid.UUID, query: VectorQuery, dialect: PostgresDialect
) -> list[SearchHit]:
    wanted = query.filter
    options = dialect.options
    exact = await _plan(session, tenant_id, query.k, dialect, wanted)
    codec = dialect.embeddings
    encoded = codec.encode(query.embedding)
    limit = query.k + MARGIN
    while True:
        if wanted.is_empty:
            statement = _unfiltered_statement(options.distance, codec.column_type, exact=exact, limit=limit)
            params: dict[str, Any] | None = {"tenant": tenant_id, "query": encoded}
        else:
            q = bindparam("query", encoded, type_=codec.column_type)
            statement = _statement(tenant_id, wanted, q, options.distance, exact=exact, limit=limit)
            params = None
        rows = (await session.read(statement, params)).mappings().all()
        hits = _hits(rows, query, codec, options.distance)
        if len(rows) < limit or not _boundary_unclear(rows, query.k):
            break
        limit *= 4
    hits.sort(key=hit_order)
    return hits[: query.k]


async def text_search(
    session: SqlSession, tenant_id: uuid.UUID, query: TextQuery, dialect: PostgresDialect
) -> list[SearchHit]:
    await _plan(session, tenant_id, query.k, dialect, None)
    config = _text_config(dialect)
    top = fulltext.candidates(
        tenant_id, _conditions(tenant_id, query.filter), config, query.text, limit=query.k
    ).cte("text_top")
    rows = (await session.read(_with_chunks(top, tenant_id, top.c.score))).mappings().all()
    hits = [hit_from_row(row) for row in rows]
    hits.sort(key=hit_order)  # float4 ranks: ties are common, and the order is the domain's
    return hits


async def hybrid_search(
    session: SqlSession, tenant_id: uuid.UUID, query: HybridQuery, dialect: PostgresDialect
) -> list[SearchHit]:
    """Both rankings and their fusion in one statement (hybrid.py)."""
    depth = query.depth
    exact = await _plan(session, tenant_id, depth, dialect, query.filter)
    codec, options = dialect.embeddings, dialect.options
    q = bindparam("query", codec.encode(query.embedding), type_=codec.column_type)
    conditions = _conditions(tenant_id, query.filter)
    vector = _candidates(tenant_id, conditions, q, options.distance, exact=exact, limit=depth)
    text = query.text_part()
    texts = None
    if text is not None:
        texts = fulltext.candidates(tenant_id, conditions, _text_config(dialect), text.text, limit=depth)
    fused = hybrid.fused(vector, texts, query.fusion, query.k)
    rows = (await session.read(_with_chunks(fused, tenant_id, fused.c.score))).mappings().all()
    hits = [hit_from_row(row) for row in rows]
    hits.sort(key=hit_order)
    return hits


def _exact(wanted: SearchFilter, size: int, dialect: PostgresDialect) -> bool:
    return wanted.document_ids is not None or size <= dialect.options.exact_search_limit


def _text_config(dialect: PostgresDialect) -> str:
    config = dialect.text_search_config
    if config is None:  # pragma: no cover - the migrations always create the column
        raise RuntimeError(f"chunks.{schema.FULL_TEXT_COLUMN} is missing: run `tenantrag init`")
    return config


def _with_chunks(top: Any, tenant_id: uuid.UUID, score: ColumnElement[Any]) -> Select[Any]:
    """The ranked ids of ``top`` with what a hit shows, best first."""
    c, d = _chunks.c, _documents.c
    return (
        select(top, c.document_id, c.ordinal, c.content, c.metadata, d.version)
        .select_from(top)
        .join(_chunks, (c.tenant_id == tenant_id) & (c.id == top.c.id))
        .join(_documents, (d.tenant_id == tenant_id) & (d.id == c.document_id))
        .order_by(score.desc(), top.c.id)
    )


async def _plan(
    session: SqlSession,
    tenant_id: uuid.UUID,
    depth: int,
    dialect: PostgresDialect,
    vector_filter: SearchFilter | None,
) -> bool:
    """Choose the vector part's plan (True: exact; ``vector_filter`` None: there is no vector
    part) and set up what it needs, in one round trip at most, and none at all in the
    common case: an exact search of a tenant whose count is known.

    The statement sets the index path's settings for this transaction, counts the
    tenant's chunks unless a recent count is known, reads the text search configuration
    the first time, and whether the HNSW index is there and valid (vector_index.py).
    Exact searches need no settings, so their statements keep the plans psycopg's
    prepared statements cache.
    """
    options = dialect.options
    known = dialect.sizes.get(tenant_id) if vector_filter is not None else 0
    config_known = dialect.text_search_config is not None
    exact = known is not None and (vector_filter is None or _exact(vector_filter, known, dialect))
    if exact and config_known:
        return True
    count = (
        select(func.count()).select_from(_chunks).where(_chunks.c.tenant_id == tenant_id).scalar_subquery()
        if known is None
        else literal_column("0")
    )
    config = fulltext.COLUMN_CONFIG if not config_known else literal_column("NULL")
    settings = select(
        count.label("count"),
        func.set_config("plan_cache_mode", "force_custom_plan", True),
        func.set_config("hnsw.iterative_scan", "relaxed_order", True),
        func.set_config("hnsw.ef_search", str(min(1000, max(options.hnsw_ef_search, depth))), True),
        config.label("text_search_config"),
        literal_column(f"({vector_index.VALID})").label("index_valid"),
    )
    row = (await session.read(settings)).mappings().one()
    if not config_known:
        dialect.text_search_config = row["text_search_config"]
    if known is None:
        known = int(row["count"])
        dialect.sizes.put(tenant_id, known)
    # Without a valid index (dropped for a bulk load, or being built) every tenant is
    # searched exactly: slower for large ones, never wrong.
    return vector_filter is None or row["index_valid"] is not True or _exact(vector_filter, known, dialect)


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
    c = _chunks.c
    vector = type_coerce(c.embedding, q.type)
    top = _candidates(tenant_id, _conditions(tenant_id, wanted), q, distance, exact=exact, limit=limit)
    d = _documents.c
    return (
        select(
            top.c.id,
            top.c.distance,
            c.document_id,
            c.ordinal,
            c.content,
            c.metadata,
            vector.label("embedding"),
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
    vector = type_coerce(c.embedding, q.type)
    raw = vector.op(distance.operator, return_type=Float())(q)
    measure: ColumnElement[Any] = raw
    if exact:
        if distance is Distance.COSINE:  # a zero vector has no angle: pgvector says NaN, the domain 0
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
    c, d = _chunks.c, _documents.c
    conditions: list[Condition] = []
    if wanted.document_ids is not None:
        conditions.append(c.document_id.in_(sorted(wanted.document_ids)))
    tags = type_coerce(d.tags, JSONB)
    document_conditions: list[Condition] = []
    if wanted.tags_any is not None:
        document_conditions.append(
            tags.has_any(bindparam("tags_any", list(wanted.tags_any), type_=ARRAY(Text)))
        )
    if wanted.tags_all:
        document_conditions.append(
            tags.has_all(bindparam("tags_all", list(wanted.tags_all), type_=ARRAY(Text)))
        )
    if wanted.where is not None:
        # It may read the chunk (correlated with the candidate row) and its document.
        document_conditions.append(
            compile_filter(wanted.where, chunks=_chunks, documents=_documents, dialect_name="postgresql")
        )
    if document_conditions:
        conditions.append(
            exists(
                select(literal_column("1"))
                .select_from(_documents)
                .where(d.tenant_id == tenant_id, d.id == c.document_id, *document_conditions)
            )
        )
    metadata = type_coerce(c.metadata, JSONB)
    for index, (name, value) in enumerate(sorted(wanted.metadata.items())):
        key = bindparam(f"meta_key_{index}", name, type_=Text)
        conditions.append(metadata[key] == bindparam(f"meta_value_{index}", value, type_=JSONB))
    return conditions


def _hits(rows: Sequence[Any], query: VectorQuery, codec: PgVectors, distance: Distance) -> list[SearchHit]:
    if distance is Distance.COSINE:
        scores = exact_cosines(query.embedding, [codec.array(row["embedding"]) for row in rows])
    else:
        scores = [distance.score(float(row["distance"])) for row in rows]
    return [hit_from_row(row, score) for row, score in zip(rows, scores, strict=True)]


def _boundary_unclear(rows: Sequence[Any], k: int) -> bool:
    """Whether rows past the last candidate could still tie with the k-th."""
    if len(rows) <= k:
        return False
    kth, last = rows[k - 1]["distance"], rows[-1]["distance"]
    return bool(last - kth <= TOLERANCE)
