"""Per-tenant BM25: placeholder, filled in by the retrieval work (issue 14).

Revision ID: a7d4c1e9b250
Revises: d8b3e6f4a152
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "a7d4c1e9b250"
down_revision: str | Sequence[str] | None = "d8b3e6f4a152"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
