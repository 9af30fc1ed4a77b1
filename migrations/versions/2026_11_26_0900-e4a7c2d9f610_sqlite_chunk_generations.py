"""SQLite: a per-tenant token that changes with every write to the tenant's chunks.

Revision ID: e4a7c2d9f610
Revises: b3d8e5f1a2c4
Create Date: 2026-11-26 09:00:00

The SQLite backend keeps each tenant's embeddings in memory for vector search
(adapters/sqlite/vector_cache.py). Other processes write the same file, so a cached
matrix is only used while the tenant's token, read in the search's own transaction, is
the one it was loaded under. ``chunk_generations`` holds that token (16 random bytes, new
at each change, so no two states of a tenant ever share one, even across a restore or a
downgrade and upgrade) and the tenant's chunk count (to decide whether a tenant fits the
cache before loading it). Triggers on ``chunks`` keep both: every INSERT, every DELETE
(cascades included) and every UPDATE of ``tenant_id``, ``id`` or ``embedding``.

SQLite only; on PostgreSQL this revision does nothing. The table is not in the MetaData
(env.py leaves it out of comparisons). A later revision that rebuilds ``chunks`` in batch
mode drops these triggers with the old table and must create them again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "e4a7c2d9f610"
down_revision: str | Sequence[str] | None = "b3d8e5f1a2c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("chunk_generations_insert", "chunk_generations_delete", "chunk_generations_update")
_BUMP_NEW = (
    "INSERT INTO chunk_generations (tenant_id, token, chunk_count) VALUES (new.tenant_id, randomblob(16), 1)"
    " ON CONFLICT (tenant_id) DO UPDATE SET token = excluded.token, chunk_count = chunk_count + 1;"
)
_BUMP_OLD = (
    "UPDATE chunk_generations SET token = randomblob(16), chunk_count = chunk_count - 1"
    " WHERE tenant_id = old.tenant_id;"
)


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    # tenant_id as chunks.tenant_id stores it (SQLAlchemy's Uuid: 32 hex digits); the row
    # goes with its tenant. WITHOUT ROWID: the row is its primary key's index entry.
    op.execute(
        "CREATE TABLE chunk_generations ("
        " tenant_id CHAR(32) NOT NULL PRIMARY KEY"
        " REFERENCES tenants (id) ON DELETE CASCADE,"
        " token BLOB NOT NULL,"
        " chunk_count INTEGER NOT NULL"
        ") WITHOUT ROWID"
    )
    op.execute(f"CREATE TRIGGER chunk_generations_insert AFTER INSERT ON chunks BEGIN {_BUMP_NEW} END")
    op.execute(f"CREATE TRIGGER chunk_generations_delete AFTER DELETE ON chunks BEGIN {_BUMP_OLD} END")
    op.execute(
        "CREATE TRIGGER chunk_generations_update AFTER UPDATE OF tenant_id, id, embedding ON chunks"
        f" BEGIN {_BUMP_OLD} {_BUMP_NEW} END"
    )
    op.execute(
        "INSERT INTO chunk_generations (tenant_id, token, chunk_count)"
        " SELECT tenant_id, randomblob(16), count(*) FROM chunks GROUP BY tenant_id"
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS chunk_generations")
