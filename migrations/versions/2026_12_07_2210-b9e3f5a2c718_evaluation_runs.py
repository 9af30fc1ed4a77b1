"""Evaluation runs: a tenant's stored retrieval-quality measurements.

Revision ID: b9e3f5a2c718
Revises: a7d4c1e9b250
Create Date: 2026-12-07 22:10:00

- ``evaluation_runs`` (see domain/model/evaluation_run.py): parameters, overall metrics
  per mode and per-query metrics as JSON; ``tenant_id`` leads the primary key and the
  listing index; deleting the tenant deletes its runs, deleting the user who ran one
  keeps the run (``user_id`` set to NULL).
- PostgreSQL: row-level security like every tenant table (ENABLE, FORCE and the
  ``tenant_isolation`` policy). The runtime role's grants cover every table
  (adapters/postgres/provision.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tenantrag.adapters.sql.types import UTCDateTime

# Revision identifiers, used by Alembic.
revision: str = "b9e3f5a2c718"
down_revision: str | Sequence[str] | None = "a7d4c1e9b250"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported, so that this revision keeps meaning what it meant.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CURRENT_TENANT = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("parameters", JSON_DOCUMENT, nullable=False),
        sa.Column("metrics", JSON_DOCUMENT, nullable=False),
        sa.Column("per_query", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_evaluation_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_evaluation_runs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_evaluation_runs")),
    )
    op.create_index(
        op.f("ix_evaluation_runs_tenant_id_created_at_id"),
        "evaluation_runs",
        ["tenant_id", "created_at", "id"],
    )
    op.create_index(op.f("ix_evaluation_runs_user_id"), "evaluation_runs", ["user_id"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE evaluation_runs ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE evaluation_runs FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON evaluation_runs FOR ALL"
            f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )


def downgrade() -> None:
    # Dropping the table drops its policy with it.
    op.drop_index(op.f("ix_evaluation_runs_user_id"), table_name="evaluation_runs")
    op.drop_index(op.f("ix_evaluation_runs_tenant_id_created_at_id"), table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
