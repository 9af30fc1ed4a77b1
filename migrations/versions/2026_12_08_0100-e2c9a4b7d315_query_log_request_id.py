"""Query logs record the HTTP request that made them.

Revision ID: e2c9a4b7d315
Revises: b9e3f5a2c718
Create Date: 2026-12-08 01:00:00

- ``query_logs.request_id`` (nullable, up to 128 characters): the request's ``X-Request-ID``,
  so a query log can be found in the service's log lines and traces. Rows from before, and
  searches made outside HTTP (the CLI, the library), have none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Revision identifiers, used by Alembic.
revision: str = "e2c9a4b7d315"
down_revision: str | Sequence[str] | None = "b9e3f5a2c718"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("query_logs") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("query_logs") as batch:
        batch.drop_column("request_id")
