"""Rows to entities and back, one explicit pair of functions per table.

No ORM: entities are frozen attrs classes whose validation runs on construction,
so a row that comes back from the database is re-validated like any other input,
and JSON columns are decoded into fresh dicts (nothing is shared with a cache).
Enums are stored as their values, UUIDs and timestamps through the schema's types.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import attrs
from sqlalchemy import Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.types import TypeEngine

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.dialect import EmbeddingCodec
from tenantrag.domain.model import uniqueness as rules
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chat import ChatSession, Message
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog, SourceRef
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.uniqueness import UniqueRule
from tenantrag.domain.model.user import User


class Entity(Protocol):
    """What every stored entity has: lists page by (created_at, id)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def created_at(self) -> datetime: ...


E = TypeVar("E", bound=Entity)
Row = RowMapping


@attrs.frozen
class Reference:
    """A foreign key, as the entity sees it: which attribute names which parent.

    ``same_tenant``: the key is composite (tenant_id, parent_id), so the parent must
    belong to the row's own tenant.
    """

    attribute: str
    parent: Table
    noun: str
    same_tenant: bool = False


@attrs.frozen
class Mapper(Generic[E]):
    table: Table
    noun: str
    to_row: Callable[[E], dict[str, Any]]
    from_row: Callable[[Row], E]
    # Keyed by the constraint's columns, as a database error names them.
    uniques: Mapping[frozenset[str], UniqueRule[E]] = attrs.field(factory=dict)
    references: tuple[Reference, ...] = ()
    # Columns bound and read with another type than the schema's (the dialect's embeddings).
    column_types: Mapping[str, TypeEngine[Any]] = attrs.field(factory=dict)
    # Statements built once for this table and reused with new bind values (tables.Rows):
    # building one cost more than a primary-key lookup on the server. Not part of the value.
    statements: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def name(self) -> str:
        return self.table.name

    def unique(self, columns: Iterable[str]) -> UniqueRule[E] | None:
        """The rule a unique violation on ``columns`` broke (the primary key is ``<table>.id``)."""
        key = frozenset(columns)
        if key == frozenset(self.table.primary_key.columns.keys()):
            return rules.primary_key(self.name, self.noun)
        return self.uniques.get(key)


def _pk(*columns: str) -> frozenset[str]:
    return frozenset(columns)


_TENANT = Reference("tenant_id", schema.tenants, "tenant")


# --- the store ---------------------------------------------------------------------------


def embedding_model_row(m: EmbeddingModel) -> dict[str, Any]:
    return {"id": m.id, "name": m.name, "dimension": m.dimension, "created_at": m.created_at}


def embedding_model_from(r: Row) -> EmbeddingModel:
    return EmbeddingModel(id=r["id"], name=r["name"], dimension=r["dimension"], created_at=r["created_at"])


EMBEDDING_MODELS = Mapper[EmbeddingModel](
    schema.embedding_models, "embedding model", embedding_model_row, embedding_model_from
)


# --- tenants and users ---------------------------------------------------------------


def tenant_row(t: Tenant) -> dict[str, Any]:
    return {
        "id": t.id, "name": t.name, "slug": t.slug, "settings": t.settings,
        "created_at": t.created_at, "updated_at": t.updated_at,
    }  # fmt: skip


def tenant_from(r: Row) -> Tenant:
    return Tenant(
        id=r["id"], name=r["name"], slug=r["slug"], settings=r["settings"],
        created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


TENANTS = Mapper[Tenant](
    schema.tenants,
    "tenant",
    tenant_row,
    tenant_from,
    uniques={_pk("slug"): rules.TENANT_SLUG},
)


def user_row(u: User) -> dict[str, Any]:
    return {
        "id": u.id, "email": u.email, "full_name": u.full_name, "password_hash": u.password_hash,
        "is_active": u.is_active, "is_superuser": u.is_superuser, "last_login_at": u.last_login_at,
        "created_at": u.created_at, "updated_at": u.updated_at,
    }  # fmt: skip


def user_from(r: Row) -> User:
    return User(
        id=r["id"], email=r["email"], full_name=r["full_name"], password_hash=r["password_hash"],
        is_active=r["is_active"], is_superuser=r["is_superuser"], last_login_at=r["last_login_at"],
        created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


USERS = Mapper[User](
    schema.users,
    "user",
    user_row,
    user_from,
    uniques={_pk("email"): rules.USER_EMAIL},
)


# --- tenant-owned tables -------------------------------------------------------------


def membership_row(m: Membership) -> dict[str, Any]:
    return {
        "tenant_id": m.tenant_id, "id": m.id, "user_id": m.user_id, "role": m.role.value,
        "is_active": m.is_active, "created_at": m.created_at, "updated_at": m.updated_at,
    }  # fmt: skip


def membership_from(r: Row) -> Membership:
    return Membership(
        tenant_id=r["tenant_id"], id=r["id"], user_id=r["user_id"], role=r["role"],
        is_active=r["is_active"], created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


MEMBERSHIPS = Mapper[Membership](
    schema.memberships,
    "membership",
    membership_row,
    membership_from,
    uniques={_pk("tenant_id", "user_id"): rules.MEMBERSHIP_TENANT_USER},
    references=(_TENANT, Reference("user_id", schema.users, "user")),
)


def document_row(d: Document) -> dict[str, Any]:
    return {
        "tenant_id": d.tenant_id, "id": d.id, "uploaded_by": d.uploaded_by, "filename": d.filename,
        "title": d.title, "media_type": d.media_type, "size_bytes": d.size_bytes,
        "status": d.status.value, "error_message": d.error_message, "storage_key": d.storage_key,
        "source_key": d.source_key, "content_sha256": d.content_sha256, "version": d.version,
        "metadata": d.metadata, "tags": list(d.tags), "chunk_count": d.chunk_count,
        "processed_at": d.processed_at, "created_at": d.created_at, "updated_at": d.updated_at,
    }  # fmt: skip


def document_from(r: Row) -> Document:
    return Document(
        tenant_id=r["tenant_id"], id=r["id"], uploaded_by=r["uploaded_by"], filename=r["filename"],
        title=r["title"], media_type=r["media_type"], size_bytes=r["size_bytes"], status=r["status"],
        error_message=r["error_message"], storage_key=r["storage_key"], source_key=r["source_key"],
        content_sha256=r["content_sha256"], version=r["version"], metadata=r["metadata"],
        tags=r["tags"], chunk_count=r["chunk_count"], processed_at=r["processed_at"],
        created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


DOCUMENTS = Mapper[Document](
    schema.documents,
    "document",
    document_row,
    document_from,
    uniques={
        _pk("tenant_id", "storage_key"): rules.DOCUMENT_STORAGE_KEY,
        _pk("tenant_id", "source_key"): rules.DOCUMENT_SOURCE_KEY,
    },
    references=(_TENANT, Reference("uploaded_by", schema.users, "user")),
)


def document_version_row(v: DocumentVersion) -> dict[str, Any]:
    return {
        "tenant_id": v.tenant_id, "id": v.id, "document_id": v.document_id, "version": v.version,
        "status": v.status.value, "content_sha256": v.content_sha256, "size_bytes": v.size_bytes,
        "media_type": v.media_type, "storage_key": v.storage_key, "chunk_count": v.chunk_count,
        "reused_chunks": v.reused_chunks, "error": v.error,
        "created_at": v.created_at, "updated_at": v.updated_at,
    }  # fmt: skip


def document_version_from(r: Row) -> DocumentVersion:
    return DocumentVersion(
        tenant_id=r["tenant_id"], id=r["id"], document_id=r["document_id"], version=r["version"],
        status=r["status"], content_sha256=r["content_sha256"], size_bytes=r["size_bytes"],
        media_type=r["media_type"], storage_key=r["storage_key"], chunk_count=r["chunk_count"],
        reused_chunks=r["reused_chunks"], error=r["error"],
        created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


DOCUMENT_VERSIONS = Mapper[DocumentVersion](
    schema.document_versions,
    "document version",
    document_version_row,
    document_version_from,
    uniques={_pk("tenant_id", "document_id", "version"): rules.DOCUMENT_VERSION},
    references=(_TENANT, Reference("document_id", schema.documents, "document", same_tenant=True)),
)


def chunk_mapper(codec: EmbeddingCodec) -> Mapper[Chunk]:
    """Chunks depend on the dialect for their embedding column."""

    def chunk_row(c: Chunk) -> dict[str, Any]:
        return {
            "tenant_id": c.tenant_id, "id": c.id, "document_id": c.document_id, "ordinal": c.ordinal,
            "content": c.content, "content_sha256": c.content_sha256,
            "embedding": codec.encode(c.embedding), "token_count": c.token_count,
            "metadata": c.metadata, "created_at": c.created_at,
        }  # fmt: skip

    def chunk_from(r: Row) -> Chunk:
        return Chunk(
            tenant_id=r["tenant_id"], id=r["id"], document_id=r["document_id"], ordinal=r["ordinal"],
            content=r["content"], content_sha256=r["content_sha256"],
            embedding=codec.decode(r["embedding"]), token_count=r["token_count"],
            metadata=r["metadata"], created_at=r["created_at"],
        )  # fmt: skip

    return Mapper[Chunk](
        schema.chunks,
        "chunk",
        chunk_row,
        chunk_from,
        uniques={_pk("tenant_id", "document_id", "ordinal"): rules.CHUNK_DOCUMENT_ORDINAL},
        references=(_TENANT, Reference("document_id", schema.documents, "document", same_tenant=True)),
        column_types={"embedding": codec.column_type},
    )


def api_key_row(k: ApiKey) -> dict[str, Any]:
    return {
        "tenant_id": k.tenant_id, "id": k.id, "user_id": k.user_id, "name": k.name,
        "prefix": k.prefix, "secret_hash": k.secret_hash, "role_cap": k.role_cap.value,
        "created_at": k.created_at, "last_used_at": k.last_used_at, "usage_count": k.usage_count,
        "expires_at": k.expires_at, "revoked_at": k.revoked_at,
    }  # fmt: skip


def api_key_from(r: Row) -> ApiKey:
    return ApiKey(
        tenant_id=r["tenant_id"], id=r["id"], user_id=r["user_id"], name=r["name"],
        prefix=r["prefix"], secret_hash=r["secret_hash"], role_cap=r["role_cap"],
        created_at=r["created_at"], last_used_at=r["last_used_at"], usage_count=r["usage_count"],
        expires_at=r["expires_at"], revoked_at=r["revoked_at"],
    )  # fmt: skip


API_KEYS = Mapper[ApiKey](
    schema.api_keys,
    "API key",
    api_key_row,
    api_key_from,
    uniques={_pk("prefix"): rules.API_KEY_PREFIX},
    references=(_TENANT, Reference("user_id", schema.users, "user")),
)


def job_row(j: Job) -> dict[str, Any]:
    return {
        "tenant_id": j.tenant_id, "id": j.id, "document_id": j.document_id, "kind": j.kind,
        "payload": j.payload, "status": j.status.value, "progress": j.progress, "summary": j.summary,
        "attempts": j.attempts, "lease_expires_at": j.lease_expires_at, "error": j.error,
        "created_at": j.created_at, "updated_at": j.updated_at, "started_at": j.started_at,
        "finished_at": j.finished_at,
    }  # fmt: skip


def job_from(r: Row) -> Job:
    return Job(
        tenant_id=r["tenant_id"], id=r["id"], document_id=r["document_id"], kind=r["kind"],
        payload=r["payload"], status=r["status"], progress=r["progress"], summary=r["summary"],
        attempts=r["attempts"], lease_expires_at=r["lease_expires_at"], error=r["error"],
        created_at=r["created_at"], updated_at=r["updated_at"], started_at=r["started_at"],
        finished_at=r["finished_at"],
    )  # fmt: skip


JOBS = Mapper[Job](
    schema.jobs,
    "job",
    job_row,
    job_from,
    references=(_TENANT, Reference("document_id", schema.documents, "document", same_tenant=True)),
)


def query_log_row(q: QueryLog) -> dict[str, Any]:
    return {
        "tenant_id": q.tenant_id, "id": q.id, "user_id": q.user_id, "query": q.query,
        "response": q.response,
        "sources": [{"chunk_id": str(s.chunk_id), "score": s.score} for s in q.sources],
        "latency_ms": q.latency_ms, "token_count": q.token_count, "quality_score": q.quality_score,
        "feedback": None if q.feedback is None else q.feedback.value, "metadata": q.metadata,
        "created_at": q.created_at,
    }  # fmt: skip


def query_log_from(r: Row) -> QueryLog:
    sources = tuple(SourceRef(uuid.UUID(s["chunk_id"]), s["score"]) for s in r["sources"])
    return QueryLog(
        tenant_id=r["tenant_id"], id=r["id"], user_id=r["user_id"], query=r["query"],
        response=r["response"], sources=sources, latency_ms=r["latency_ms"],
        token_count=r["token_count"], quality_score=r["quality_score"], feedback=r["feedback"],
        metadata=r["metadata"], created_at=r["created_at"],
    )  # fmt: skip


QUERY_LOGS = Mapper[QueryLog](
    schema.query_logs,
    "query log",
    query_log_row,
    query_log_from,
    references=(_TENANT, Reference("user_id", schema.users, "user")),
)


def chat_session_row(s: ChatSession) -> dict[str, Any]:
    return {
        "tenant_id": s.tenant_id, "id": s.id, "user_id": s.user_id, "title": s.title,
        "created_at": s.created_at, "updated_at": s.updated_at,
    }  # fmt: skip


def chat_session_from(r: Row) -> ChatSession:
    return ChatSession(
        tenant_id=r["tenant_id"], id=r["id"], user_id=r["user_id"], title=r["title"],
        created_at=r["created_at"], updated_at=r["updated_at"],
    )  # fmt: skip


CHAT_SESSIONS = Mapper[ChatSession](
    schema.chat_sessions,
    "chat session",
    chat_session_row,
    chat_session_from,
    references=(_TENANT, Reference("user_id", schema.users, "user")),
)


def message_row(m: Message) -> dict[str, Any]:
    return {
        "tenant_id": m.tenant_id, "id": m.id, "session_id": m.session_id, "role": m.role.value,
        "content": m.content, "created_at": m.created_at,
    }  # fmt: skip


def message_from(r: Row) -> Message:
    return Message(
        tenant_id=r["tenant_id"], id=r["id"], session_id=r["session_id"], role=r["role"],
        content=r["content"], created_at=r["created_at"],
    )  # fmt: skip


MESSAGES = Mapper[Message](
    schema.messages,
    "message",
    message_row,
    message_from,
    references=(_TENANT, Reference("session_id", schema.chat_sessions, "chat session", same_tenant=True)),
)
