"""Full-text search on SQLite: FTS5 finds the postings, BM25 with the tenant's statistics ranks.

The FTS5 index (``chunks_fts``, revision a7d4c1e9b250) holds each chunk's stems (the
analysis of ``adapters/sql/text_analysis.py``), keyed by the chunk's rowid, every stem
written after its tenant's id (32 hex digits): each tenant has posting lists of its own, so
a search reads only its tenant's occurrences of a word (measured, a common word in a
40 000-chunk tenant of 100 000: the occurrences of every tenant took 68 ms to read alone).
``chunks_fts_instance``, an ``fts5vocab`` table over it, lists a stem's occurrences chunk by
chunk, through the index; ``chunks_fts_sizes`` holds each chunk's word count by rowid. A
search:

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

import functools
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    bindparam,
    column,
    func,
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
_sizes = table(schema.FULL_TEXT_SIZES, column("rowid", Integer()), column("term_count", Integer()))
# The tenant, bound by name: an unfiltered statement is built once per shape.
_TENANT: ColumnElement[Any] = bindparam("text_tenant", type_=Uuid())
_index_table = table(schema.FULL_TEXT_TABLE)


def match_query(expression: Expression, prefix: str) -> str | None:
    """The FTS5 query for a websearch expression: ``(A AND B) NOT C OR (...)``; None when no
    term is left once its words are stemmed (stop words only).

    Each term is an FTS5 string of stems, each after ``prefix`` (the tenant's id, as the index
    holds them; a phrase when it holds several). Binary NOT binds
    tighter than AND and AND than OR in FTS5; the parentheses make the grouping explicit.
    """
    alternatives = []
    for terms in expression.alternatives:
        wanted = [s for s in (_string(term, prefix) for term in terms if not term.negated) if s]
        excluded = "".join(f" NOT {s}" for s in (_string(t, prefix) for t in terms if t.negated) if s)
        if wanted:
            alternatives.append(f"(({' AND '.join(wanted)}){excluded})")
    return " OR ".join(alternatives) or None


def _string(term: Term, prefix: str) -> str:
    # Stems hold no '"' (they are letters and digits), but a string is escaped all the same.
    found = " ".join(prefix + stem for stem in stems(term.words))
    return '"' + found.replace('"', '""') + '"' if found else ""


async def text_search(session: SqlSession, tenant_id: uuid.UUID, query: TextQuery) -> list[SearchHit]:
    """The tenant's best ``query.k`` matches the filter admits, by BM25, then chunk id."""
    return await search_read(session, tenant_id, query, read(query.text, query.match, text_mode=True))


async def search_read(
    session: SqlSession, tenant_id: uuid.UUID, query: TextQuery, search: TextSearch
) -> list[SearchHit]:
    said = Counter(tenant_id.hex + stem for stem in stems(search.words))
    if query.filter.matches_nothing or not said:
        return []
    terms = sorted(said)
    fts_query = None if search.expression is None else match_query(search.expression, tenant_id.hex)
    params: dict[str, Any] = {"text_tenant": tenant_id, "terms": terms}
    params.update({f"term_{n}": term for n, term in enumerate(terms)})
    params.update({f"qtf_{n}": said[term] for n, term in enumerate(terms)})
    if fts_query is not None:
        params["fts_query"] = fts_query
    shape = (len(terms), fts_query is not None, query.k)
    if query.filter.is_empty:
        statement = _unfiltered_statement(*shape)
    else:
        statement = _statement(*shape, conditions=candidates.conditions(tenant_id, query.filter))
    hits = [hit_from_row(row) for row in (await session.read(statement, params)).mappings()]
    hits.sort(key=hit_order)
    return hits


@functools.lru_cache(maxsize=256)
def _unfiltered_statement(words: int, websearch: bool, limit: int) -> Select[Any]:
    """An unfiltered search's statement, built once per shape; every value is bound by name."""
    return _statement(words, websearch, limit)


def _statement(
    words: int, websearch: bool, limit: int, *, conditions: Sequence[Condition] = ()
) -> Select[Any]:
    """The hits: ``words`` distinct stems (``term_<n>``, ``qtf_<n>``, and ``terms`` for the
    postings), the tenant (``text_tenant``), the FTS5 query when ``websearch``
    (``fts_query``), and the filter's ``conditions`` (their values bound where built)."""
    query_terms = union_all(
        *(
            select(
                bindparam(f"term_{n}", type_=Text).label("term"),
                bindparam(f"qtf_{n}", type_=Integer).label("qtf"),
            )
            for n in range(words)
        )
    ).cte("query_terms")
    admitted = []
    if websearch or conditions:
        where = [_chunks.c.tenant_id == _TENANT, _documents.c.tenant_id == _TENANT, *conditions]
        if websearch:
            matching = select(_FTS_ROWID).select_from(_index_table)
            where.append(
                _CHUNK_ROWID.in_(matching.where(_FTS.op("MATCH")(bindparam("fts_query", type_=Text))))
            )
        admitted.append(select(_chunks.c.id).select_from(candidates.joined()).where(*where))
    ranked = bm25.ranked(_postings(), query_terms, _TENANT, admitted, limit=limit, one_word=words == 1)
    return _with_chunks(ranked.cte("text_top"), _TENANT)


def _postings() -> Any:
    """One row per chunk of the tenant and query stem it holds: the stem's occurrences (from
    the fts5vocab table, through the index) and the chunk's word count."""
    term: ColumnElement[Any] = literal_column(f"{schema.FULL_TEXT_POSTINGS}.term")
    doc: ColumnElement[Any] = literal_column(f"{schema.FULL_TEXT_POSTINGS}.doc")
    c = _chunks.c
    return (
        select(
            c.id.label("id"), term.label("term"), func.count().label("tf"), _sizes.c.term_count.label("dl")
        )
        .select_from(_postings_table)
        .join(_chunks, doc == _CHUNK_ROWID)
        .join(_sizes, doc == _sizes.c.rowid)
        .where(term.in_(bindparam("terms", expanding=True)), c.tenant_id == _TENANT)
        .group_by(doc, term)
        .subquery("postings")
    )


def _with_chunks(top: Any, tenant_id: ColumnElement[Any]) -> Select[Any]:
    c, d = _chunks.c, _documents.c
    return (
        select(top.c.id, top.c.score, c.document_id, c.ordinal, c.content, c.metadata, d.version)
        .select_from(top)
        .join(_chunks, (c.tenant_id == tenant_id) & (c.id == top.c.id))
        .join(_documents, (d.tenant_id == tenant_id) & (d.id == c.document_id))
        .order_by(top.c.score.desc(), top.c.id)
    )
