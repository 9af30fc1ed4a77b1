"""PostgreSQL: a small pending list for the full-text GIN index.

Revision ID: c5f2a8e9d371
Revises: e4a7c2d9f610
Create Date: 2026-11-26 10:00:00

A GIN index collects new entries in a pending list (up to ``gin_pending_list_limit``,
4 MB by default) and merges them into the index in bulk. Every search through the index
reads the whole pending list; after a load that was 292 pages, about 2 ms on every
full-text query (a rare word: 0.13 ms once merged) until autovacuum came by. A 256 kB
list bounds that to 32 pages, at the cost of merging more often while writing.
``tenantrag db vector-index build`` also merges it after a large load.

PostgreSQL only; on SQLite this revision does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "c5f2a8e9d371"
down_revision: str | Sequence[str] | None = "e4a7c2d9f610"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_INDEX = "ix_chunks_search_vector"
PENDING_LIST_KB = 256


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {SEARCH_INDEX} SET (gin_pending_list_limit = {PENDING_LIST_KB})")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {SEARCH_INDEX} RESET (gin_pending_list_limit)")
