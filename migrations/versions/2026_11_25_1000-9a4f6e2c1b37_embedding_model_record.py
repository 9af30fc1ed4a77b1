"""The store's embedding model record: which embedder made its vectors.

Revision ID: 9a4f6e2c1b37
Revises: 7c1e2a9b4d10
Create Date: 2026-11-25 10:00:00

One row (see domain/model/embedding_model.py), written by the first embedder that opens
the store and checked by every later one. Not a tenant table: no row-level security.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantrag.adapters.sql.types import UTCDateTime

# Revision identifiers, used by Alembic.
revision: str = "9a4f6e2c1b37"
down_revision: str | Sequence[str] | None = "7c1e2a9b4d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "embedding_models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embedding_models")),
    )


def downgrade() -> None:
    op.drop_table("embedding_models")
