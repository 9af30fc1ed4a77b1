"""Invitations: how a user joins a tenant (issue 17).

Revision ID: f3c9a1d7e2b4
Revises: e2c9a4b7d315
Create Date: 2026-12-08 01:10:00

- ``invitations`` (see domain/model/invitation.py): an email address invited to a tenant
  with a role, until ``expires_at``; one per tenant and address; ``tenant_id`` leads the
  primary key; deleting the tenant deletes its invitations, deleting the inviting user
  keeps them (``invited_by`` set to NULL).
- PostgreSQL: row-level security like every tenant table (ENABLE, FORCE and the
  ``tenant_isolation`` policy), plus the SELECT-only ``invitations_directory`` policy, like
  ``memberships_directory``: an invitee's invitations across tenants, admitted only while the
  system binds ``app.directory_invitee_email`` to that address (adapters/sql/invitations.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantrag.adapters.sql.types import UTCDateTime

# Revision identifiers, used by Alembic.
revision: str = "f3c9a1d7e2b4"
down_revision: str | Sequence[str] | None = "e2c9a4b7d315"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported, so that this revision keeps meaning what it meant.
CURRENT_TENANT = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"
INVITEE = "NULLIF(current_setting('app.directory_invitee_email', true), '')"


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'member', 'viewer')", name=op.f("ck_invitations_role")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_invitations_invited_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invitations_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_invitations_tenant_id_email")),
    )
    op.create_index(op.f("ix_invitations_email"), "invitations", ["email"])
    op.create_index(op.f("ix_invitations_invited_by"), "invitations", ["invited_by"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE invitations ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE invitations FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON invitations FOR ALL"
            f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        op.execute(f"CREATE POLICY invitations_directory ON invitations FOR SELECT USING (email = {INVITEE})")


def downgrade() -> None:
    # Dropping the table drops its policies with it.
    op.drop_index(op.f("ix_invitations_invited_by"), table_name="invitations")
    op.drop_index(op.f("ix_invitations_email"), table_name="invitations")
    op.drop_table("invitations")
