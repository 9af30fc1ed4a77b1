"""The conventions every table of the schema (schema.py) is built by: constraint names, the
columns many tables share, the values a CHECK constraint allows, and the one MetaData.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, MetaData, Uuid

from tenantrag.adapters.sql.types import UTCDateTime

# The deployment's embedding dimension lives in the column type only on PostgreSQL
# (vector(n)); SQLite stores a BLOB and the adapter checks the length.
DEFAULT_DIMENSION = 384

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def timestamps() -> list[Column[object]]:
    return [
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
    ]


def owned_by_tenant() -> Column[object]:
    return Column("tenant_id", Uuid(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def allowed(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


ROLES = ("owner", "admin", "member", "viewer")
DOCUMENT_STATUSES = ("pending", "processing", "completed", "failed")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
VERSION_STATUSES = ("pending", "processing", "active", "superseded", "failed")
CLAIMABLE = "status IN ('queued', 'running')"
