"""BM25 with each tenant's own statistics: the text ranking of both SQL backends.

A chunk's score for a query is the sum, over the query's distinct words it holds, of::

    qtf(w) * idf(w) * tf / (tf + K1 * (1 - B + B * dl / avgdl))
    idf(w) = ln(1 + (N - df(w) + 0.5) / (df(w) + 0.5))

(Lucene's BM25: the idf is never negative, and the constant factor ``K1 + 1`` is left out
as it changes no order.) ``qtf`` is how often the query says the word: a question that
names its subject twice weighs it twice, as a Lucene query listing a term twice does
(measured on CISI: 0.32 nDCG@10 with each word once, 0.39 with ``qtf``, bm25s 0.39).
``tf`` is how often the chunk holds the word, ``dl`` how many
words it holds; ``N`` and ``avgdl`` are the tenant's chunk count and mean words per chunk
(``tenant_text_stats``, kept by triggers) and ``df(w)`` the number of the tenant's chunks
holding the word, counted from the postings themselves. Every one of them is the tenant's
own, so nothing another tenant stores moves a score: no score can tell a tenant whether a
word occurs in another's text (the leak FTS5's table-wide ``bm25()`` had).

The backends differ only in where postings come from (a subquery of ``id``, ``term``,
``tf``, ``dl``: one row per chunk of the tenant and query word it holds): PostgreSQL's
tsvector through its GIN index (adapters/postgres/fulltext.py), SQLite's FTS5 index
through an ``fts5vocab`` table (adapters/sqlite/fulltext.py). ``df`` counts every posting,
so a filter narrows which chunks are ranked, never their scores.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, func, literal, select

from tenantrag.adapters.sql import schema

K1, B = 1.2, 0.75

_stats = schema.tenant_text_stats


def ranked(
    postings: Any,
    query_terms: Any,
    tenant_id: uuid.UUID | ColumnElement[Any],
    admitted: Sequence[Select[Any]],
    *,
    limit: int,
    one_word: bool = False,
) -> Select[Any]:
    """The ids and BM25 scores of the best ``limit`` chunks among ``postings`` (a subquery
    of ``id``, ``term``, ``tf``, ``dl``) whose ids every statement of ``admitted`` selects
    (the filter's chunks, the websearch condition's; none: all), best first, then by id.
    ``query_terms``: the query's words as the postings name them (``term``) and how often
    the query says each (``qtf``), one row per word. ``one_word``: the query has
    one word, so a chunk has one posting and needs no sum (a common word in a large tenant
    has tens of thousands of postings: the grouping was a third of the time).

    One pass over the postings: ``df`` is a window count over them (a CTE read twice
    would be materialized, which cost more than the scoring), ``N`` and ``avgdl`` are
    scalar subqueries on the tenant's statistics, evaluated once.
    """
    n = select(cast(_stats.c.chunk_count, Float)).where(_stats.c.tenant_id == tenant_id).scalar_subquery()
    per_word = (
        select(
            K1
            * B
            * cast(_stats.c.chunk_count, Float)
            / func.nullif(cast(_stats.c.term_count, Float), 0.0, type_=Float)
        )
        .where(_stats.c.tenant_id == tenant_id)
        .scalar_subquery()
    )
    # One word: every posting is the word's, so df counts them all (no sort by term) and qtf
    # is the query's one value.
    df = func.count().over() if one_word else func.count().over(partition_by=postings.c.term)
    counted = select(
        postings.c.id,
        postings.c.term,
        cast(postings.c.tf, Float).label("tf"),
        cast(postings.c.dl, Float).label("dl"),
        cast(df, Float).label("df"),
    ).subquery("counted")
    idf = func.ln(literal(1.0, Float) + (n - counted.c.df + 0.5) / (counted.c.df + 0.5))
    norm = literal(K1 * (1 - B), Float) + func.coalesce(per_word, 0.0) * counted.c.dl
    if one_word:
        qtf: ColumnElement[Any] = select(func.max(query_terms.c.qtf)).scalar_subquery()
        joined: Any = counted
    else:
        qtf, joined = query_terms.c.qtf, counted.join(query_terms, query_terms.c.term == counted.c.term)
    part = cast(qtf, Float) * idf * counted.c.tf / (counted.c.tf + norm)
    score = part if one_word else func.sum(part)
    found = select(counted.c.id.label("id"), score.label("score")).select_from(joined)
    for ids in admitted:
        found = found.where(counted.c.id.in_(ids))
    if not one_word:
        found = found.group_by(counted.c.id)
    return found.order_by(score.desc(), counted.c.id).limit(limit)
