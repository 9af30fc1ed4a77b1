"""The store's embedding model record: which embedder made its vectors.

Revision ID: 9a4f6e2c1b37
Revises: 7c1e2a9b4d10
Create Date: 2026-11-25 10:00:00

One row (see domain/model/embedding_model.py), written by the first embedder that opens
the store and checked by every later one. Not a tenant table: no row-level security.

The record outlives a downgrade: the downgrade keeps its rows in ``tenantrag_kept``
(adapters/sql/kept.py), which older revisions leave alone, and the upgrade puts them back,
so the store still knows which embedder made its vectors after ``db downgrade base`` and
``db upgrade``. Offline (``--sql``) there are no rows to read, and nothing is carried.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import context, op

from tenantrag.adapters.sql import kept
from tenantrag.adapters.sql.types import UTCDateTime

# Revision identifiers, used by Alembic.
revision: str = "9a4f6e2c1b37"
down_revision: str | Sequence[str] | None = "7c1e2a9b4d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The columns as this revision made them, for moving the rows in and out.
RECORD = sa.table(
    "embedding_models",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String(255)),
    sa.column("dimension", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
)


def upgrade() -> None:
    op.create_table(
        "embedding_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embedding_models")),
    )
    if context.is_offline_mode():
        return
    connection = op.get_bind()
    rows = kept.read(connection, kept.EMBEDDING_MODELS) or []
    for row in rows:
        connection.execute(
            sa.insert(RECORD).values(
                id=uuid.UUID(row["id"]),
                name=row["name"],
                dimension=int(row["dimension"]),
                created_at=datetime.fromisoformat(row["created_at"]),
            )
        )
    kept.forget(connection, kept.EMBEDDING_MODELS)


def downgrade() -> None:
    if not context.is_offline_mode():
        connection = op.get_bind()
        rows = [
            {
                "id": str(row.id),
                "name": row.name,
                "dimension": row.dimension,
                "created_at": row.created_at.isoformat(),
            }
            for row in connection.execute(sa.select(RECORD))
        ]
        if rows:
            kept.keep(connection, kept.EMBEDDING_MODELS, rows)
    op.drop_table("embedding_models")
