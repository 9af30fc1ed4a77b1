"""Full-text search on SQLite: FTS5 finds the matches, ``bm25()`` ranks them.

The migrations keep an FTS5 index (``chunks_fts``, tokenizer ``porter unicode61
remove_diacritics 2``) over ``chunks.content`` as external content keyed by the chunks'
rowid, in step through triggers. A search:

1. turns the parsed query (``adapters/sql/fulltext_query.py``, stop words dropped) into an FTS5 query
   string, every word inside double quotes, so nothing a user types is FTS5 syntax; the
   string is one bound parameter;
2. joins the matches to their chunks and documents, where the tenant and the filter
   (candidates.py, compiled by ``adapters/sql/filters.py``) are conditions like any other;
3. orders by ``bm25()`` (FTS5's Okapi BM25; lower is better), then chunk id, and takes k.

The hit's score is ``-bm25()``, so higher is better as in every mode. FTS5 computes the
statistics bm25 weighs terms with (row count, rows holding a term) over the whole index,
every tenant's chunks included: which chunks match and isolation do not depend on them,
but a score (and so the order of matches) may move when other tenants' content changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, bindparam, literal_column, select, table

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.fulltext_query import Expression, Term, text_mode_expression
from tenantrag.adapters.sql.hits import hit_from_row
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite import candidates
from tenantrag.domain.search import SearchHit, TextQuery, hit_order

Condition = ColumnElement[bool]
_FTS: ColumnElement[Any] = literal_column(schema.FULL_TEXT_TABLE)
# The index is external content keyed by the chunks' rowid (not a column of the MetaData).
_FTS_ROWID: ColumnElement[Any] = literal_column(f"{schema.FULL_TEXT_TABLE}.rowid")
_CHUNK_ROWID: ColumnElement[Any] = literal_column(f"{schema.chunks.name}.rowid")


def match_query(expression: Expression) -> str:
    """The FTS5 query for a searchable expression: ``(A AND B) NOT C OR (...)``.

    Each term is an FTS5 string (a phrase when it holds several words); FTS5 tokenizes
    it with the index's own tokenizer. Binary NOT binds tighter than AND and AND than OR
    in FTS5, and the parentheses make the grouping explicit anyway.
    """
    alternatives = []
    for terms in expression.alternatives:
        wanted = " AND ".join(_string(term) for term in terms if not term.negated)
        excluded = "".join(f" NOT {_string(term)}" for term in terms if term.negated)
        alternatives.append(f"(({wanted}){excluded})")
    return " OR ".join(alternatives)


def _string(term: Term) -> str:
    # Words hold no '"' (they are letters and digits), but a string is escaped all the same.
    return '"' + " ".join(term.words).replace('"', '""') + '"'


async def text_search(session: SqlSession, tenant_id: uuid.UUID, query: TextQuery) -> list[SearchHit]:
    """FTS5 matches the filter admits, best ``bm25()`` first, then chunk id."""
    if query.filter.matches_nothing:
        return []
    expression = text_mode_expression(query.text)
    conditions = candidates.conditions(tenant_id, query.filter)
    found = statement(tenant_id, expression, conditions, limit=query.k)
    hits = [hit_from_row(row) for row in (await session.read(found)).mappings()]
    hits.sort(key=hit_order)
    return hits


def statement(
    tenant_id: uuid.UUID, expression: Expression, conditions: Sequence[Condition], *, limit: int
) -> Select[Any]:
    """The tenant's chunks matching ``expression`` and ``conditions``, best first."""
    c, d = schema.chunks.c, schema.documents.c
    rank = literal_column(f"bm25({schema.FULL_TEXT_TABLE})", Float)
    joined = (
        select(
            c.id,
            c.document_id,
            c.ordinal,
            c.content,
            c.metadata,
            d.version,
            (-rank).label("score"),
        )
        .select_from(schema.chunks)
        .join_from(schema.chunks, schema.documents, (d.tenant_id == c.tenant_id) & (d.id == c.document_id))
        .join_from(schema.chunks, table(schema.FULL_TEXT_TABLE), _FTS_ROWID == _CHUNK_ROWID)
        .where(
            _FTS.op("MATCH")(bindparam("fts_query", match_query(expression))),
            c.tenant_id == tenant_id,
            d.tenant_id == tenant_id,
            *conditions,
        )
        .order_by(rank, c.id)
    )
    return joined.limit(limit)
