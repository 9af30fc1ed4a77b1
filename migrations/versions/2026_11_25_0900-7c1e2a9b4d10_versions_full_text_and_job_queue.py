"""Document versions and source keys, full-text search, and the job queue.

Revision ID: 7c1e2a9b4d10
Revises: 5fcdc5164863
Create Date: 2026-11-25 09:00:00

- ``documents.source_key``: the caller's name for a document's source, unique per
  tenant, so uploading under a known key makes a new version instead of a duplicate.
- ``document_versions``: every content a document has had (see
  domain/model/document_version.py), under row-level security like every tenant table.
- ``jobs.payload`` (what a worker needs) and an index for taking the oldest queued job.
- Full text: on PostgreSQL a generated ``tsvector`` column with a GIN index, in the
  text search configuration given as the ``text_search_config`` attribute (or ``-x``;
  default ``english``; changing it later means re-creating the column). On SQLite an
  FTS5 index over ``chunks.content`` as external content keyed by the chunks' rowid,
  kept in step by triggers. A later revision that rebuilds ``chunks`` in batch mode
  changes its rowids and must end with ``INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')``.
- PostgreSQL: two policies let a worker see and claim queued jobs of every tenant
  while the system binds ``app.job_queue`` (see adapters/sql/job_queue.py), and only
  then; it reads and updates nothing else across tenants.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from tenantrag.adapters.sql.types import UTCDateTime

# Revision identifiers, used by Alembic.
revision: str = "7c1e2a9b4d10"
down_revision: str | Sequence[str] | None = "5fcdc5164863"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CURRENT_TENANT = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"
JOB_QUEUE = "current_setting('app.job_queue', true) = 'on'"
SEARCH_INDEX = "ix_chunks_search_vector"


def _text_search_config() -> str:
    x = context.get_x_argument(as_dictionary=True)
    config = str(
        context.config.attributes.get("text_search_config") or x.get("text_search_config") or "english"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", config):
        raise ValueError(f"text_search_config must be a text search configuration name, got {config!r}")
    return config


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"
    # Plain ALTERs and a unique index, not batch mode: SQLite can add these in place
    # (and `alembic upgrade --sql` cannot reflect a table to rebuild it).
    op.add_column("documents", sa.Column("source_key", sa.String(length=1024), nullable=True))
    op.create_index(
        op.f("ix_documents_tenant_id_source_key"), "documents", ["tenant_id", "source_key"], unique=True
    )
    op.create_table(
        "document_versions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("reused_chunks", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'active', 'superseded', 'failed')",
            name=op.f("ck_document_versions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_document_versions_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint(
            "tenant_id",
            "document_id",
            "version",
            name=op.f("uq_document_versions_tenant_id_document_id_version"),
        ),
    )
    op.add_column("jobs", sa.Column("payload", JSON_DOCUMENT, nullable=False, server_default=sa.text("'{}'")))
    op.create_index(op.f("ix_jobs_status_created_at"), "jobs", ["status", "created_at"])
    if postgres:
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def _upgrade_postgres() -> None:
    op.execute("ALTER TABLE document_versions ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE document_versions FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON document_versions FOR ALL"
        f" USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )
    op.execute(f"CREATE POLICY jobs_queue_select ON jobs FOR SELECT USING ({JOB_QUEUE})")
    op.execute(
        f"CREATE POLICY jobs_queue_update ON jobs FOR UPDATE USING ({JOB_QUEUE}) WITH CHECK ({JOB_QUEUE})"
    )
    config = _text_search_config()
    op.execute(
        "ALTER TABLE chunks ADD COLUMN search_vector tsvector"
        f" GENERATED ALWAYS AS (to_tsvector('{config}'::regconfig, content)) STORED"
    )
    op.execute(f"CREATE INDEX {SEARCH_INDEX} ON chunks USING gin (search_vector)")


def _upgrade_sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE chunks_fts USING fts5(content, content='chunks', content_rowid='rowid',"
        " tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN"
        " INSERT INTO chunks_fts(rowid, content) VALUES (new.rowid, new.content); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN"
        " INSERT INTO chunks_fts(chunks_fts, rowid, content) VALUES ('delete', old.rowid, old.content); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE OF content ON chunks BEGIN"
        " INSERT INTO chunks_fts(chunks_fts, rowid, content) VALUES ('delete', old.rowid, old.content);"
        " INSERT INTO chunks_fts(rowid, content) VALUES (new.rowid, new.content); END"
    )
    op.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
        op.execute("ALTER TABLE chunks DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP POLICY IF EXISTS jobs_queue_update ON jobs")
        op.execute("DROP POLICY IF EXISTS jobs_queue_select ON jobs")
    else:
        for trigger in ("chunks_fts_update", "chunks_fts_delete", "chunks_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS chunks_fts")
    op.drop_index(op.f("ix_jobs_status_created_at"), table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("payload")
    op.drop_table("document_versions")
    op.drop_index(op.f("ix_documents_tenant_id_source_key"), table_name="documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("source_key")
