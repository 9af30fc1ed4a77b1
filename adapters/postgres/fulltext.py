"""Full-text search on PostgreSQL: the GIN-indexed tsvectors of ``chunks_fts`` give the
postings, BM25 with the tenant's statistics ranks them (adapters/sql/bm25.py).

``chunks_fts`` (revision a7d4c1e9b250) holds, per chunk, ``to_tsvector(<config>, content)``
and its word count, filled by a trigger on ``chunks``, with the GIN index
``ix_chunks_fts_search_vector`` and row-level security. It is narrow on purpose: ranking a
common word reads every chunk that holds it, and these rows are dozens to a page where the
chunks' own rows, with their embeddings, are four (384 dimensions) or one (1536).

A search's postings are the tenant's entries that match any of the query's words (``@@`` an
OR of them, through the GIN index), one row per entry and query lexeme with the lexeme's
occurrences: ``setweight`` marks the query's lexemes 'A' in a copy of the vector,
``ts_filter`` keeps those, and ``unnest`` gives their positions (so only the few matching
lexemes are unpacked, whatever the chunk's length). A filter is a condition on the chunk
(and its document) an entry belongs to; in ``websearch`` mode an entry must also match
``websearch_to_tsquery(<config>, text)`` to rank.

- The configuration is ``tenantrag_text_config()``, which the migration created with
  ``TEXT_SEARCH_CONFIG``; it is read once per backend (in the settings round trip, see
  plan.py), and the query's words are stemmed by PostgreSQL with it too.
- The user's text and the configuration are bound parameters; the words are the ones
  ``adapters/sql/fulltext_query.py`` read (letters and digits, joined by ``or``).
- Row-level security: ``@@`` (``ts_match_vq``) is not LEAKPROOF in a stock PostgreSQL, and
  the planner may not evaluate a non-leakproof operator on rows before the policy has
  admitted them, so it cannot use the GIN index: a tenant's query scans the tenant's rows
  and tests each. Provisioning marks the function LEAKPROOF (see provision.py), after
  which the planner may use the GIN index (alone, or in a BitmapAnd with the tenant's
  key); the policy still filters every row it returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR

from tenantrag.adapters.sql import bm25, schema
from tenantrag.adapters.sql.fulltext_query import TextSearch

Condition = ColumnElement[bool]
_chunks = schema.chunks
_fts = table(
    schema.FULL_TEXT_TABLE,
    column("tenant_id", Uuid()),
    column("chunk_id", Uuid()),
    column(schema.FULL_TEXT_COLUMN, TSVECTOR()),
    column(schema.TERM_COUNT_COLUMN, Integer()),
)
SEARCH_VECTOR: ColumnElement[Any] = _fts.c[schema.FULL_TEXT_COLUMN]

# The store's text search configuration (a function the migration made). A constant statement.
STORE_CONFIG: ColumnElement[Any] = literal_column("(SELECT tenantrag_text_config()::text)", Text)

# The postings: per entry of the tenant matching any of the words, one row per query lexeme
# it holds. The set-returning unnest in the select list (a ProjectSet) costs a third of
# the same unnest in a LATERAL join, which builds a tuplestore for every entry.
_POSTINGS = text(
    "SELECT chunk_id AS id, (found).lexeme AS term, cardinality((found).positions) AS tf, dl"
    " FROM (SELECT chunk_id, term_count AS dl, unnest(ts_filter(setweight(search_vector, 'A',"
    " tsvector_to_array(to_tsvector(CAST(:text_config AS regconfig), :text_words))), '{a}')) AS found"
    " FROM chunks_fts WHERE tenant_id = :text_tenant"
    " AND search_vector @@ websearch_to_tsquery(CAST(:text_config AS regconfig), :text_any)) AS entries"
).columns(id=Uuid(), term=Text(), tf=Integer(), dl=Integer())
# The query's own tsvector: a lexeme's positions are how often the query says it.
_QUERY_TERMS = text(
    "SELECT lexeme AS term, cardinality(positions) AS qtf"
    " FROM unnest(to_tsvector(CAST(:text_config AS regconfig), :text_words))"
).columns(term=Text(), qtf=Integer())


def _config() -> ColumnElement[Any]:
    return cast(bindparam("text_config", type_=Text), REGCONFIG)


# The tenant, bound by name: an unfiltered text statement is built once per shape (search.py).
TENANT: ColumnElement[Any] = bindparam("text_tenant", type_=Uuid())


def parameters(tenant_id: uuid.UUID, config: str, text: str, search: TextSearch) -> dict[str, Any]:
    """The values ``candidates``' statement binds by name."""
    found: dict[str, Any] = {
        "text_tenant": tenant_id,
        "text_config": config,
        "text_words": " ".join(search.words),
        "text_any": " or ".join(dict.fromkeys(search.words)),
    }
    if search.expression is not None:
        found["text_query"] = text
    return found


def one_word(search: TextSearch) -> bool:
    """One distinct word makes at most one lexeme: the words hold only letters and digits."""
    return len(set(search.words)) == 1


def candidates(
    conditions: Sequence[Condition], *, one_word: bool, websearch: bool, limit: int
) -> Select[Any]:
    """The ids and BM25 scores of the tenant's best ``limit`` matches, best first, then id.
    Every value is bound by name (``parameters``); ``conditions``: the filter's, on chunks."""
    postings = _POSTINGS.subquery("postings")
    query_terms = _QUERY_TERMS.cte("query_terms")
    admitted: list[Select[Any]] = []
    if websearch:
        exact = func.websearch_to_tsquery(_config(), bindparam("text_query", type_=Text))
        admitted.append(
            select(_fts.c.chunk_id).where(_fts.c.tenant_id == TENANT, SEARCH_VECTOR.bool_op("@@")(exact))
        )
    if conditions:
        c = _chunks.c
        admitted.append(select(c.id).where(c.tenant_id == TENANT, *conditions))
    return bm25.ranked(postings, query_terms, TENANT, admitted, limit=limit, one_word=one_word)
