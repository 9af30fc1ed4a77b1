"""Full-text search on SQLite: FTS5 finds the postings, BM25 with the tenant's statistics ranks.

The FTS5 index (``chunks_fts``, revision a7d4c1e9b250) holds each chunk's stems (the
analysis of ``adapters/sql/text_analysis.py``) and word count, keyed by the chunk's rowid;
``chunks_fts_instance``, an ``fts5vocab`` table over it, lists a word's occurrences chunk
by chunk, through the index. A search:

1. reads the query (``fulltext_query.read``) and stems its words as the index did;
2. takes the postings of those words (one row per chunk and word: its occurrences and the
   chunk's word count), the tenant's chunks only;
3. in ``websearch`` mode, also needs a chunk to match the expression: an FTS5 query built
   from the parse, every term a quoted string of stems, one bound parameter, so nothing a
   user types is FTS5 syntax;
4. ranks by ``adapters/sql/bm25.py`` (the filter, compiled by candidates.py, narrows which
   chunks rank) and joins the top k to what a hit shows.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    table,
    union_all,
)

from tenantrag.adapters.sql import bm25, schema
from tenantrag.adapters.sql.fulltext_query import Expression, Term, TextSearch, read
from tenantrag.adapters.sql.hits import hit_from_row
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.text_analysis import stems
from tenantrag.adapters.sqlite import candidates
from tenantrag.domain.search import SearchHit, TextQuery, hit_order

Condition = ColumnElement[bool]
_chunks, _documents = schema.chunks, schema.documents
_FTS: ColumnElement[Any] = literal_column(schema.FULL_TEXT_TABLE)
_FTS_ROWID: ColumnElement[Any] = literal_column(f"{schema.FULL_TEXT_TABLE}.rowid")
_CHUNK_ROWID: ColumnElement[Any] = literal_column(f"{_chunks.name}.rowid")
_postings_table = table(schema.FULL_TEXT_POSTINGS)
_index_table = table(schema.FULL_TEXT_TABLE)


def match_query(expression: Expression) -> str | None:
    """The FTS5 query for a websearch expression: ``(A AND B) NOT C OR (...)``; None when no
    term is left once its words are stemmed (stop words only).

    Each term is an FTS5 string of stems (a phrase when it holds several). Binary NOT binds
    tighter than AND and AND than OR in FTS5; the parentheses make the grouping explicit.
    """
    alternatives = []
    for terms in expression.alternatives:
        wanted = [s for s in (_string(term) for term in terms if not term.negated) if s]
        excluded = "".join(f" NOT {s}" for s in (_string(t) for t in terms if t.negated) if s)
        if wanted:
            alternatives.append(f"(({' AND '.join(wanted)}){excluded})")
    return " OR ".join(alternatives) or None


def _string(term: Term) -> str:
    # Stems hold no '"' (they are letters and digits), but a string is escaped all the same.
    found = " ".join(stems(term.words))
    return '"' + found.replace('"', '""') + '"' if found else ""


async def text_search(session: SqlSession, tenant_id: uuid.UUID, query: TextQuery) -> list[SearchHit]:
    """The tenant's best ``query.k`` matches the filter admits, by BM25, then chunk id."""
    return await search_read(session, tenant_id, query, read(query.text, query.match, text_mode=True))


async def search_read(
    session: SqlSession, tenant_id: uuid.UUID, query: TextQuery, search: TextSearch
) -> list[SearchHit]:
    said = Counter(stems(search.words))
    if query.filter.matches_nothing or not said:
        return []
    terms = sorted(said)
    postings = _postings(tenant_id, terms)
    query_terms = union_all(
        *(
            select(
                bindparam(f"term_{n}", term, Text).label("term"), literal(said[term], Integer).label("qtf")
            )
            for n, term in enumerate(terms)
        )
    ).cte("query_terms")
    admitted = _admitted(tenant_id, query, search.expression)
    top = bm25.ranked(
        postings, query_terms, tenant_id, admitted, limit=query.k, one_word=len(terms) == 1
    ).cte("text_top")
    hits = [hit_from_row(row) for row in (await session.read(_with_chunks(top, tenant_id))).mappings()]
    hits.sort(key=hit_order)
    return hits


def _postings(tenant_id: uuid.UUID, terms: list[str]) -> Any:
    term: ColumnElement[Any] = literal_column(f"{schema.FULL_TEXT_POSTINGS}.term")
    doc: ColumnElement[Any] = literal_column(f"{schema.FULL_TEXT_POSTINGS}.doc")
    c = _chunks.c
    return (
        select(
            c.id.label("id"),
            term.label("term"),
            func.count().label("tf"),
            literal_column(f"{schema.FULL_TEXT_TABLE}.{schema.TERM_COUNT_COLUMN}").label("dl"),
        )
        .select_from(_postings_table)
        .join(_chunks, doc == _CHUNK_ROWID)
        .join(_index_table, doc == _FTS_ROWID)
        .where(term.in_(bindparam("terms", terms, expanding=True)), c.tenant_id == tenant_id)
        .group_by(doc, term)
        .subquery("postings")
    )


def _admitted(tenant_id: uuid.UUID, query: TextQuery, expression: Expression | None) -> list[Select[Any]]:
    """The ids of the chunks that may rank: the filter's, and the websearch expression's."""
    fts_query = None if expression is None else match_query(expression)
    if query.filter.is_empty and fts_query is None:
        return []
    conditions = candidates.conditions(tenant_id, query.filter)
    if fts_query is not None:
        matching = select(_FTS_ROWID).select_from(_index_table)
        matching = matching.where(_FTS.op("MATCH")(bindparam("fts_query", fts_query)))
        conditions.append(_CHUNK_ROWID.in_(matching))
    return [select(_chunks.c.id).select_from(candidates.joined()).where(*conditions)]


def _with_chunks(top: Any, tenant_id: uuid.UUID) -> Select[Any]:
    c, d = _chunks.c, _documents.c
    return (
        select(top.c.id, top.c.score, c.document_id, c.ordinal, c.content, c.metadata, d.version)
        .select_from(top)
        .join(_chunks, (c.tenant_id == tenant_id) & (c.id == top.c.id))
        .join(_documents, (d.tenant_id == tenant_id) & (d.id == c.document_id))
        .order_by(top.c.score.desc(), top.c.id)
    )
