"""Row-level security on every tenant table, the HNSW vector index, user-reference indexes.

Revision ID: 5fcdc5164863
Revises: 000cc024c577
Create Date: 2026-11-24 20:00:00

PostgreSQL only, except the two indexes on user references (both dialects: deleting
a user sets or cascades through them, which without an index scans the table).

Isolation: each tenant table gets ENABLE and FORCE ROW LEVEL SECURITY (FORCE, so
the owner is bound too) and one policy, for every command, whose USING and WITH
CHECK both compare ``tenant_id`` with the transaction's ``app.current_tenant_id``.
An unset or empty setting is NULL after NULLIF, which matches no row: no tenant
bound means no rows, never an error and never every row.

Two SELECT-only policies serve the system's narrow cross-tenant look-ups (see
adapters/sql/system_repositories.py): one user's memberships, and one API key by
its public prefix, each admitted only while the system binds that user or prefix.

The HNSW index's distance and build options are a deployment's choice, passed as
config attributes (``vector_distance``, ``hnsw_m``, ``hnsw_ef_construction``) or
``alembic -x``; changing them later means re-creating the index.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import context, op

# Revision identifiers, used by Alembic.
revision: str = "5fcdc5164863"
down_revision: str | Sequence[str] | None = "000cc024c577"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported, so that this revision keeps meaning what it meant.
TENANT_TABLES = (
    "memberships", "documents", "chunks", "api_keys", "jobs", "query_logs", "chat_sessions", "messages",
)  # fmt: skip
CURRENT_TENANT = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"
DIRECTORY_POLICIES = {
    "memberships": (
        "memberships_directory",
        "user_id = NULLIF(current_setting('app.directory_user_id', true), '')::uuid",
    ),
    "api_keys": (
        "api_keys_directory",
        "prefix = NULLIF(current_setting('app.directory_api_key_prefix', true), '')",
    ),
}
OPERATOR_CLASSES = {"cosine": "vector_cosine_ops", "l2": "vector_l2_ops", "inner_product": "vector_ip_ops"}
VECTOR_INDEX = "ix_chunks_embedding_hnsw"


def _index_options() -> tuple[str, int, int]:
    x = context.get_x_argument(as_dictionary=True)
    attributes = context.config.attributes

    def option(name: str, default: object) -> str:
        return str(attributes.get(name) or x.get(name) or default)

    distance = option("vector_distance", "cosine")
    if distance not in OPERATOR_CLASSES:
        raise ValueError(f"vector_distance must be one of {', '.join(OPERATOR_CLASSES)}, got {distance!r}")
    m, ef_construction = option("hnsw_m", 16), option("hnsw_ef_construction", 64)
    if not (m.isdigit() and ef_construction.isdigit()):
        raise ValueError(
            f"hnsw_m and hnsw_ef_construction must be whole numbers, got {m!r} and {ef_construction!r}"
        )
    return OPERATOR_CLASSES[distance], int(m), int(ef_construction)


def upgrade() -> None:
    op.create_index(op.f("ix_documents_uploaded_by"), "documents", ["uploaded_by"])
    op.create_index(op.f("ix_query_logs_user_id"), "query_logs", ["user_id"])
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} FOR ALL"
            f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
    for table, (name, condition) in DIRECTORY_POLICIES.items():
        op.execute(f"CREATE POLICY {name} ON {table} FOR SELECT USING ({condition})")
    operator_class, m, ef_construction = _index_options()
    op.execute(
        f"CREATE INDEX {VECTOR_INDEX} ON chunks USING hnsw (embedding {operator_class})"
        f" WITH (m = {m:d}, ef_construction = {ef_construction:d})"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {VECTOR_INDEX}")
        for table, (name, _condition) in DIRECTORY_POLICIES.items():
            op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        for table in TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.drop_index(op.f("ix_query_logs_user_id"), table_name="query_logs")
    op.drop_index(op.f("ix_documents_uploaded_by"), table_name="documents")
