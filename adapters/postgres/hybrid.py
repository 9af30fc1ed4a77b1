"""Hybrid search on PostgreSQL: both rankings and their reciprocal rank fusion in one statement.

Shape of the statement (search.py adds the join to chunks and documents for the hits)::

    WITH top AS MATERIALIZED (          -- vector candidates, by the tenant's plan
           SELECT id, distance FROM chunks WHERE tenant_id = :t AND <filter>
           ORDER BY <distance> LIMIT :depth),
         text_top AS MATERIALIZED (     -- text candidates, through the GIN index
           SELECT id, ts_rank_cd(search_vector, q) AS score FROM chunks
           WHERE tenant_id = :t AND search_vector @@ q AND <filter>
           ORDER BY score DESC, id LIMIT :depth),
         vector_ranked AS (SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM top),
         text_ranked AS (SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM text_top),
         fused AS (
           SELECT coalesce(v.id, t.id) AS id,
                  coalesce(:wv / (:rrf_k + v.rank), 0) + coalesce(:wt / (:rrf_k + t.rank), 0) AS score,
                  v.rank AS vector_rank, t.rank AS text_rank
           FROM vector_ranked v FULL OUTER JOIN text_ranked t ON v.id = t.id
           ORDER BY score DESC, id LIMIT :k)
    SELECT ... FROM fused JOIN chunks ... JOIN documents ... ORDER BY score DESC, id

Both candidate lists are MATERIALIZED so each runs once, as planned on its own (the HNSW
or exact scan, the GIN bitmap). The arithmetic is float8 in the order the domain's
``Fusion.score`` adds, so scores and ties agree with ``domain.search.fuse`` given the same
ranks. The vector ranks come from pgvector's float32 distances, not re-scored in Python as
in vector mode: chunks whose distances differ by float32 noise may swap places.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Select, bindparam, cast, func, literal, select

from tenantrag.domain.search import Fusion


def fused(vector: Any, text: Select[Any] | None, fusion: Fusion, k: int) -> Any:
    """The fused top-k ids (a CTE: ``id``, ``score``, ``vector_rank``, ``text_rank``) of the
    vector candidates (a CTE of ``id``, ``distance``) and the text candidates (a SELECT of
    ``id``, ``score``; None for no text list)."""
    rrf_k = cast(bindparam("rrf_k", fusion.rrf_k), BigInteger)
    vector_ranked = select(
        vector.c.id, func.row_number().over(order_by=(vector.c.distance, vector.c.id)).label("rank")
    ).cte("vector_ranked")
    vector_part = _part(
        bindparam("vector_weight", float(fusion.vector_weight), type_=Float), rrf_k, vector_ranked
    )
    if text is None:
        columns: list[ColumnElement[Any]] = [
            vector_ranked.c.id.label("id"),
            (vector_part + _ZERO).label("score"),
            vector_ranked.c.rank.label("vector_rank"),
            cast(literal(None), BigInteger).label("text_rank"),
        ]
        ranked = select(*columns).select_from(vector_ranked)
    else:
        top = text.cte("text_top").prefix_with("MATERIALIZED")
        text_ranked = select(
            top.c.id, func.row_number().over(order_by=(top.c.score.desc(), top.c.id)).label("rank")
        ).cte("text_ranked")
        text_part = _part(
            bindparam("text_weight", float(fusion.text_weight), type_=Float), rrf_k, text_ranked
        )
        ranked = select(
            func.coalesce(vector_ranked.c.id, text_ranked.c.id).label("id"),
            (vector_part + text_part).label("score"),
            vector_ranked.c.rank.label("vector_rank"),
            text_ranked.c.rank.label("text_rank"),
        ).select_from(vector_ranked.join(text_ranked, vector_ranked.c.id == text_ranked.c.id, full=True))
    inner = ranked.subquery("ranked")
    return select(inner).order_by(inner.c.score.desc(), inner.c.id).limit(k).cte("fused")


_ZERO = cast(literal(0.0), Float)


def _part(weight: ColumnElement[Any], rrf_k: ColumnElement[Any], ranked: Any) -> ColumnElement[Any]:
    """``weight / (rrf_k + rank)``, or 0 where the chunk is not in that list."""
    return func.coalesce(weight / cast(rrf_k + ranked.c.rank, Float), _ZERO)
