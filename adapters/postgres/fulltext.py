"""Full-text search on PostgreSQL: the GIN-indexed tsvector finds the postings, BM25 with the
tenant's statistics ranks them (adapters/sql/bm25.py).

The migrations add ``chunks.search_vector``, a stored generated column
``to_tsvector(<config>, content)``, its GIN index ``ix_chunks_search_vector``, and
``chunks.term_count``, the number of words the tsvector holds. A search's postings are the
tenant's chunks whose vector matches any of the query's words (``@@`` an OR of them, through
the GIN index), one row per chunk and query lexeme, with the lexeme's occurrences in the
chunk: ``setweight`` marks the query's lexemes 'A' in a copy of the vector, ``ts_filter``
keeps those, and ``unnest`` gives their positions (so only the few matching lexemes are
unpacked, whatever the chunk's length). In ``websearch`` mode a chunk must also match
``websearch_to_tsquery(<config>, text)`` to rank.

- The configuration is the column's own, read from the catalog once per backend (in the
  settings round trip every search makes, see search.py): a query stemmed with another
  configuration than its documents would quietly miss. ``TEXT_SEARCH_CONFIG`` only
  chooses it when the column is created. The query's words are stemmed by PostgreSQL too.
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
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR

from tenantrag.adapters.sql import bm25, schema
from tenantrag.adapters.sql.fulltext_query import TextSearch

Condition = ColumnElement[bool]
_chunks = schema.chunks
SEARCH_VECTOR: ColumnElement[Any] = literal_column(f"{_chunks.name}.{schema.FULL_TEXT_COLUMN}", TSVECTOR)

# The configuration chunks.search_vector was generated with: 'english' in
# "to_tsvector('english'::regconfig, content)". A constant statement, nothing bound.
COLUMN_CONFIG: ColumnElement[Any] = literal_column(
    "(SELECT substring(pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM '''([^'']+)''::regconfig')"
    " FROM pg_catalog.pg_attrdef d JOIN pg_catalog.pg_attribute a"
    " ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
    " WHERE d.adrelid = to_regclass('chunks') AND a.attname = 'search_vector')",
    Text,
)


_WEIGHT_A: ColumnElement[Any] = literal_column("'A'::\"char\"")


def _config(config: str) -> ColumnElement[Any]:
    return cast(bindparam("text_config", config, type_=Text), REGCONFIG)


def candidates(
    tenant_id: uuid.UUID,
    conditions: Sequence[Condition],
    config: str,
    text: str,
    search: TextSearch,
    *,
    limit: int,
) -> Select[Any]:
    """The ids and BM25 scores of the tenant's best ``limit`` matches, best first, then id."""
    c = _chunks.c
    said = func.to_tsvector(_config(config), bindparam("text_words", " ".join(search.words), type_=Text))
    anywhere = func.websearch_to_tsquery(
        _config(config), bindparam("text_any", " or ".join(dict.fromkeys(search.words)), type_=Text)
    )
    lexemes = func.tsvector_to_array(said)
    # The query's own tsvector: a lexeme's positions are how often the query says it.
    told = func.unnest(said).table_valued("lexeme", "positions").render_derived(name="told")
    query_terms = select(told.c.lexeme.label("term"), func.cardinality(told.c.positions).label("qtf")).cte(
        "query_terms"
    )
    marked = func.ts_filter(func.setweight(SEARCH_VECTOR, _WEIGHT_A, lexemes), literal_column("'{a}'"))
    found = func.unnest(marked).table_valued("lexeme", "positions").render_derived(name="found").lateral()
    postings = (
        select(
            c.id.label("id"),
            found.c.lexeme.label("term"),
            func.cardinality(found.c.positions).label("tf"),
            literal_column(f"{_chunks.name}.{schema.TERM_COUNT_COLUMN}").label("dl"),
        )
        .select_from(_chunks)
        .join(found, true())
        .where(c.tenant_id == tenant_id, SEARCH_VECTOR.bool_op("@@")(anywhere))
        .cte("postings")
    )
    admitted = list(conditions)
    if search.expression is not None:
        exact = func.websearch_to_tsquery(_config(config), bindparam("text_query", text, type_=Text))
        admitted.append(SEARCH_VECTOR.bool_op("@@")(exact))
    if not admitted:
        return bm25.ranked(postings, query_terms, tenant_id, None, limit=limit)
    ranked = select(c.id).where(c.tenant_id == tenant_id, *admitted)
    return bm25.ranked(postings, query_terms, tenant_id, postings.c.id.in_(ranked), limit=limit)
