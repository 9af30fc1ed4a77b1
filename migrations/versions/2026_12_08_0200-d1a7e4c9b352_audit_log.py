"""The audit log (issue 17).

Revision ID: d1a7e4c9b352
Revises: c4e8b2d6f913
Create Date: 2026-12-08 02:00:00

- ``audit_entries`` (see domain/model/audit_entry.py): who did what to which target of a
  tenant, when, and the outcome; ``tenant_id`` leads the primary key; deleting the tenant
  deletes its log; no foreign key to the actor, so an entry outlives the user or key.
- PostgreSQL: row-level security like every tenant table (ENABLE, FORCE and the
  ``tenant_isolation`` policy on the signed binding of revision c4e8b2d6f913). The runtime
  role may only SELECT and INSERT it (adapters/postgres/provision.py, schema.APPEND_ONLY).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from tenantrag.adapters.sql.types import UTCDateTime

# Revision identifiers, used by Alembic.
revision: str = "d1a7e4c9b352"
down_revision: str | Sequence[str] | None = "c4e8b2d6f913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported, so that this revision keeps meaning what it meant.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("outcome IN ('succeeded', 'refused')", name=op.f("ck_audit_entries_outcome")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_entries_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_entries")),
    )
    op.create_index(
        op.f("ix_audit_entries_tenant_id_created_at_id"), "audit_entries", ["tenant_id", "created_at", "id"]
    )
    if op.get_context().dialect.name == "postgresql":
        schema = op.get_bind().execute(text("SELECT current_schema()")).scalar()
        tenant = f"(SELECT \"{schema}\".tenantrag_claim('current_tenant_id')::uuid)"
        op.execute("ALTER TABLE audit_entries ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE audit_entries FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON audit_entries FOR ALL"
            f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
        )


def downgrade() -> None:
    # Dropping the table drops its policy with it.
    op.drop_index(op.f("ix_audit_entries_tenant_id_created_at_id"), table_name="audit_entries")
    op.drop_table("audit_entries")
