"""The one schema both SQL dialects share (SQLAlchemy Core).

Every tenant-owned table has ``tenant_id`` leading its primary key, its unique
constraints and its foreign keys between tenant tables. So no constraint can
relate or reveal rows across tenants (a foreign key cannot point into another
tenant; a unique violation can only be about one's own rows), and the schema can
later be distributed by ``tenant_id`` (Citus co-locates on the leading column).
Deleting a tenant cascades to everything it owns; deleting a document to its
chunks and jobs; deleting a chat session to its messages.

The naming convention, the shared columns and the allowed values are in
schema_conventions.py (the MetaData, NAMING and DEFAULT_DIMENSION re-exported here).
Migrations build the real schema (``alembic upgrade head``); this MetaData is what they
are checked against (``alembic check``, pytest-alembic).

It is also the one description of the keys: the rule a unique clash reports, its
message, and the parent a foreign key names are read from it (constraints.py). A
constraint's ``info`` (``rule``, ``message``) and a table's (``noun``) change only what
errors say, never the DDL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from tenantrag.adapters.sql.schema_conventions import (
    CLAIMABLE,
    DOCUMENT_STATUSES,
    JOB_STATUSES,
    ROLES,
    VERSION_STATUSES,
    allowed,
    owned_by_tenant,
    timestamps,
)
from tenantrag.adapters.sql.schema_conventions import DEFAULT_DIMENSION as DEFAULT_DIMENSION  # noqa: PLC0414
from tenantrag.adapters.sql.schema_conventions import NAMING as NAMING  # noqa: PLC0414
from tenantrag.adapters.sql.schema_conventions import metadata as metadata  # noqa: PLC0414
from tenantrag.adapters.sql.types import Embedding, JSONDocument, UTCDateTime
from tenantrag.domain.model.query_log import MAX_REQUEST_ID_LENGTH

# Which embedder made this store's vectors: one row (see domain/model/embedding_model.py).
embedding_models = Table(
    "embedding_models",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("dimension", Integer(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("slug", String(63), nullable=False, unique=True),
    Column("settings", JSONDocument, nullable=False),
    *timestamps(),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("full_name", String(255), nullable=False),
    Column("password_hash", String(1024)),
    Column("is_active", Boolean(), nullable=False),
    Column("is_superuser", Boolean(), nullable=False),
    Column("last_login_at", UTCDateTime()),
    *timestamps(),
)

memberships = Table(
    "memberships",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean(), nullable=False),
    *timestamps(),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint(
        "tenant_id",
        "user_id",
        info={
            "rule": "memberships.tenant_user",
            "message": "user {user_id} is already a member of tenant {tenant_id}",
        },
    ),
    allowed("role", ROLES, "role"),
)

documents = Table(
    "documents",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("uploaded_by", Uuid(), ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("filename", String(255), nullable=False),
    Column("title", String(255), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("size_bytes", Integer(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_message", Text()),
    Column("storage_key", String(1024), nullable=False),
    Column("source_key", String(1024)),
    Column("content_sha256", String(64)),
    Column("version", Integer(), nullable=False),
    Column("metadata", JSONDocument, nullable=False),
    Column("tags", JSONDocument, nullable=False),
    Column("chunk_count", Integer(), nullable=False),
    Column("processed_at", UTCDateTime()),
    *timestamps(),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "storage_key"),
    allowed("status", DOCUMENT_STATUSES, "status"),
    Index(None, "tenant_id", "created_at", "id"),
    Index(None, "tenant_id", "status"),
    # NULLs never clash, so documents without a source key are unconstrained.
    Index(None, "tenant_id", "source_key", unique=True),
)

document_versions = Table(
    "document_versions",
    metadata,
    Column("tenant_id", Uuid(), nullable=False),
    Column("id", Uuid(), nullable=False),
    Column("document_id", Uuid(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("size_bytes", Integer(), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("storage_key", String(1024), nullable=False),
    Column("chunk_count", Integer(), nullable=False),
    Column("reused_chunks", Integer(), nullable=False),
    Column("error", Text()),
    *timestamps(),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint(
        "tenant_id",
        "document_id",
        "version",
        info={"message": "document {document_id} already has a version {version}"},
    ),
    ForeignKeyConstraint(
        ["tenant_id", "document_id"], ["documents.tenant_id", "documents.id"], ondelete="CASCADE"
    ),
    allowed("status", VERSION_STATUSES, "status"),
)

chunks = Table(
    "chunks",
    metadata,
    Column("tenant_id", Uuid(), nullable=False),
    Column("id", Uuid(), nullable=False),
    Column("document_id", Uuid(), nullable=False),
    Column("ordinal", Integer(), nullable=False),
    Column("content", Text(), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("embedding", Embedding(DEFAULT_DIMENSION), nullable=False),
    Column("token_count", Integer(), nullable=False),
    Column("metadata", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint(
        "tenant_id",
        "document_id",
        "ordinal",
        info={"message": "document {document_id} already has a chunk with ordinal {ordinal}"},
    ),
    ForeignKeyConstraint(
        ["tenant_id", "document_id"], ["documents.tenant_id", "documents.id"], ondelete="CASCADE"
    ),
)

api_keys = Table(
    "api_keys",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("role_cap", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("usage_count", Integer(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    PrimaryKeyConstraint("tenant_id", "id"),
    # Globally unique: a presented key is found by its prefix before its tenant is known.
    # The prefix is random, so its uniqueness reveals nothing about any tenant.
    UniqueConstraint("prefix", info={"message": "an API key with prefix {prefix!r} already exists"}),
    allowed("role_cap", ROLES, "role_cap"),
    info={"noun": "API key"},
)

jobs = Table(
    "jobs",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("document_id", Uuid()),
    Column("kind", String(64), nullable=False),
    Column("payload", JSONDocument, nullable=False, server_default=text("'{}'")),
    Column("status", String(16), nullable=False),
    Column("progress", Integer(), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("lease_expires_at", UTCDateTime()),
    Column("error", Text()),
    *timestamps(),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "document_id"], ["documents.tenant_id", "documents.id"], ondelete="CASCADE"
    ),
    allowed("status", JOB_STATUSES, "status"),
    CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    Index(None, "status", "lease_expires_at"),
    # The queue: the oldest queued job first (see adapters/sql/job_queue.py).
    Index(None, "status", "created_at"),
    # ... read in claim order among unfinished jobs only, however many finished ones pile up.
    Index(
        "ix_jobs_claimable",
        "created_at",
        "id",
        postgresql_where=text(CLAIMABLE),
        sqlite_where=text(CLAIMABLE),
    ),
)

query_logs = Table(
    "query_logs",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("query", Text(), nullable=False),
    Column("response", Text()),
    Column("sources", JSONDocument, nullable=False),
    Column("latency_ms", Float()),
    Column("token_count", Integer()),
    Column("quality_score", Float()),
    Column("feedback", String(16)),
    Column("metadata", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # The HTTP request that made the query (X-Request-ID): ties a log to the service's log lines.
    Column("request_id", String(MAX_REQUEST_ID_LENGTH)),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "created_at", "id"),
)

chat_sessions = Table(
    "chat_sessions",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    *timestamps(),
    PrimaryKeyConstraint("tenant_id", "id"),
)

messages = Table(
    "messages",
    metadata,
    Column("tenant_id", Uuid(), nullable=False),
    Column("id", Uuid(), nullable=False),
    Column("session_id", Uuid(), nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "session_id"], ["chat_sessions.tenant_id", "chat_sessions.id"], ondelete="CASCADE"
    ),
    Index(None, "tenant_id", "session_id", "created_at", "id"),
    allowed("role", ("user", "assistant", "system"), "role"),
)

# Retrieval-quality measurements (domain/model/evaluation_run.py), paged by (created_at, id).
evaluation_runs = Table(
    "evaluation_runs",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("user_id", Uuid(), ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("parameters", JSONDocument, nullable=False),
    Column("metrics", JSONDocument, nullable=False),
    Column("per_query", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "created_at", "id"),
)

# Pending invitations to join a tenant (domain/model/invitation.py): one per tenant and
# address, deleted when accepted, declined or revoked. Found by address across tenants for
# the invitee (adapters/sql/invitations.py, PostgreSQL policy invitations_directory).
invitations = Table(
    "invitations",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("email", String(320), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("invited_by", Uuid(), ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint(
        "tenant_id",
        "email",
        info={"rule": "invitations.tenant_email", "message": "{email} is already invited to this tenant"},
    ),
    allowed("role", ROLES, "role"),
)

# The tenant's audit log (domain/model/audit_entry.py): written in the transaction of the
# change it records, never updated or deleted (APPEND_ONLY). No foreign key to the actor:
# an entry outlives the user or key it names.
audit_entries = Table(
    "audit_entries",
    metadata,
    owned_by_tenant(),
    Column("id", Uuid(), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", Uuid()),
    Column("action", String(64), nullable=False),
    Column("target_kind", String(64), nullable=False),
    Column("target_id", Uuid()),
    Column("outcome", String(16), nullable=False),
    Column("details", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "created_at", "id"),
    allowed("outcome", ("succeeded", "refused"), "outcome"),
    info={"noun": "audit entry"},
)

# Each tenant's full-text statistics, what its BM25 scores weigh terms and lengths by (a
# tenant's scores depend on its own chunks only). Kept by triggers on chunks, in the
# transaction that writes them (revision a7d4c1e9b250); read by adapters/sql/bm25.py.
tenant_text_stats = Table(
    "tenant_text_stats",
    metadata,
    Column("tenant_id", Uuid(), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("chunk_count", BigInteger(), nullable=False),
    Column("term_count", BigInteger(), nullable=False),
    info={"noun": "text statistics"},
)
# Tables whose rows triggers derive from other tables' rows: a copy of a store leaves them
# to the target's triggers (adapters/sql/store_copy.py).
TRIGGER_MAINTAINED = frozenset({tenant_text_stats.name})
# Tables the runtime role may only read and add to (SELECT, INSERT): the audit log.
APPEND_ONLY = frozenset({audit_entries.name})

# Built by the migrations on PostgreSQL only, with a deployment's distance and build
# options, so it is not part of this MetaData (env.py leaves it out of comparisons).
VECTOR_INDEX = "ix_chunks_embedding_hnsw"
# Full text, built by the migrations per dialect (revision a7d4c1e9b250), in a table beside
# chunks, filled by triggers: on PostgreSQL ``chunks_fts`` (tenant_id, chunk_id, the
# tsvector, its word count; a GIN index; row-level security), on SQLite an FTS5 table of
# the chunks' stems and word counts keyed by the chunks' rowid, with an fts5vocab table.
FULL_TEXT_TABLE = "chunks_fts"
FULL_TEXT_COLUMN = "search_vector"
FULL_TEXT_INDEX = "ix_chunks_fts_search_vector"
TERM_COUNT_COLUMN = "term_count"
FULL_TEXT_POSTINGS = "chunks_fts_instance"
FULL_TEXT_SIZES = "chunks_fts_sizes"  # SQLite: each chunk's word count, by rowid
# Tenant tables PostgreSQL has beyond this MetaData: row-level security and the runtime
# role's grants cover them too.
POSTGRES_TENANT_TABLES = (FULL_TEXT_TABLE,)

# Tables whose rows belong to one tenant: those with a tenant_id. Row-level security must
# cover exactly these (tests/postgres/test_catalog.py), so a new one needs its policy.
TENANT_TABLES = tuple(table for table in metadata.sorted_tables if "tenant_id" in table.c)
