"""Full-text search on PostgreSQL: ``websearch_to_tsquery`` against the GIN-indexed tsvector.

The migrations add ``chunks.search_vector``, a stored generated column
``to_tsvector(<config>, content)``, and the GIN index ``ix_chunks_search_vector``. A
search matches ``search_vector @@ websearch_to_tsquery(<config>, :text)`` and ranks by
``ts_rank_cd`` (cover density: how many query terms, how close together; no corpus
statistics, so no other tenant's rows move a score), best first, then chunk id.

- The configuration is the column's own, read from the catalog once per backend (in the
  settings round trip every search makes, see search.py): a query stemmed with another
  configuration than its documents would quietly miss. ``TEXT_SEARCH_CONFIG`` only
  chooses it when the column is created.
- The user's text and the configuration are bound parameters; PostgreSQL parses the text
  with the rules ``adapters/sql/fulltext_query.py`` validated it by.
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
    Float,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSVECTOR

from tenantrag.adapters.sql import schema

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


def tsquery(config: str, text: str) -> ColumnElement[Any]:
    return func.websearch_to_tsquery(
        cast(bindparam("text_config", config, type_=Text), REGCONFIG),
        bindparam("text_query", text, type_=Text),
    )


def candidates(
    tenant_id: uuid.UUID, conditions: Sequence[Condition], config: str, text: str, *, limit: int
) -> Select[Any]:
    """The ids and ``ts_rank_cd`` of the tenant's best ``limit`` matches, best first."""
    query = tsquery(config, text)
    rank = func.ts_rank_cd(SEARCH_VECTOR, query, type_=Float)
    return (
        select(_chunks.c.id.label("id"), rank.label("score"))
        .where(_chunks.c.tenant_id == tenant_id, SEARCH_VECTOR.bool_op("@@")(query), *conditions)
        .order_by(rank.desc(), _chunks.c.id)
        .limit(limit)
    )
