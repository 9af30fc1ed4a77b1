"""The tables, unique rules and foreign keys, as the SQL schemas declare them.

Rule names (``tenants.slug``...) travel in ``Conflict.details["rule"]`` so callers
and the contract suite can tell which rule was broken, whatever the backend.
Every foreign key is ON DELETE CASCADE. Only the references the contract names are
enforced; user references on documents, keys, sessions and logs are not, yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic

import attrs

from tenantrag.adapters.memory.rows import R, Row
from tenantrag.domain.model import uniqueness as rules
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chat import ChatSession, Message
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.uniqueness import UniqueRule
from tenantrag.domain.model.user import User


@attrs.frozen
class Unique(Generic[R]):
    """A domain uniqueness rule and the key it covers in this backend's rows."""

    constraint: UniqueRule[R]
    key: Callable[[R], Hashable]

    @property
    def rule(self) -> str:
        return self.constraint.rule

    def describe(self, row: R) -> str:
        return self.constraint.describe(row)


@attrs.frozen
class Reference(Generic[R]):
    column: str
    parent: Table[Any]
    value: Callable[[R], uuid.UUID | None]
    # A composite (tenant_id, parent_id) key in SQL: the parent must be the child's tenant's.
    same_tenant: bool = False


@attrs.frozen
class Table(Generic[R]):
    name: str
    noun: str
    uniques: tuple[Unique[R], ...] = ()
    references: tuple[Reference[R], ...] = ()


TENANT_SLUG = Unique[Tenant](rules.TENANT_SLUG, lambda t: t.slug)
TENANTS = Table[Tenant]("tenants", "tenant", uniques=(TENANT_SLUG,))

EMBEDDING_MODELS = Table[EmbeddingModel]("embedding_models", "embedding model")

USER_EMAIL = Unique[User](rules.USER_EMAIL, lambda u: u.email)
USERS = Table[User]("users", "user", uniques=(USER_EMAIL,))

MEMBERSHIP_TENANT_USER = Unique[Membership](rules.MEMBERSHIP_TENANT_USER, lambda m: (m.tenant_id, m.user_id))
MEMBERSHIPS = Table[Membership](
    "memberships",
    "membership",
    uniques=(MEMBERSHIP_TENANT_USER,),
    references=(
        Reference[Membership]("tenant_id", TENANTS, lambda m: m.tenant_id),
        Reference[Membership]("user_id", USERS, lambda m: m.user_id),
    ),
)


def _source_key(document: Document) -> Hashable:
    # As in SQL, documents without a source key never clash: each gets a key of its own.
    return (document.id,) if document.source_key is None else (document.tenant_id, document.source_key)


DOCUMENT_SOURCE_KEY = Unique[Document](rules.DOCUMENT_SOURCE_KEY, _source_key)
DOCUMENTS = Table[Document](
    "documents",
    "document",
    uniques=(
        Unique[Document](rules.DOCUMENT_STORAGE_KEY, lambda d: (d.tenant_id, d.storage_key)),
        DOCUMENT_SOURCE_KEY,
    ),
    references=(
        Reference[Document]("tenant_id", TENANTS, lambda d: d.tenant_id),
        Reference[Document]("uploaded_by", USERS, lambda d: d.uploaded_by),
    ),
)

DOCUMENT_VERSIONS = Table[DocumentVersion](
    "document_versions",
    "document version",
    uniques=(
        Unique[DocumentVersion](rules.DOCUMENT_VERSION, lambda v: (v.tenant_id, v.document_id, v.version)),
    ),
    references=(
        Reference[DocumentVersion]("tenant_id", TENANTS, lambda v: v.tenant_id),
        Reference[DocumentVersion]("document_id", DOCUMENTS, lambda v: v.document_id, same_tenant=True),
    ),
)

CHUNKS = Table[Chunk](
    "chunks",
    "chunk",
    uniques=(Unique[Chunk](rules.CHUNK_DOCUMENT_ORDINAL, lambda c: (c.tenant_id, c.document_id, c.ordinal)),),
    references=(
        Reference[Chunk]("tenant_id", TENANTS, lambda c: c.tenant_id),
        Reference[Chunk]("document_id", DOCUMENTS, lambda c: c.document_id, same_tenant=True),
    ),
)

API_KEY_PREFIX = Unique[ApiKey](rules.API_KEY_PREFIX, lambda k: k.prefix)
API_KEYS = Table[ApiKey](
    "api_keys",
    "API key",
    uniques=(API_KEY_PREFIX,),
    references=(
        Reference[ApiKey]("tenant_id", TENANTS, lambda k: k.tenant_id),
        Reference[ApiKey]("user_id", USERS, lambda k: k.user_id),
    ),
)

JOBS = Table[Job](
    "jobs",
    "job",
    references=(
        Reference[Job]("tenant_id", TENANTS, lambda j: j.tenant_id),
        Reference[Job]("document_id", DOCUMENTS, lambda j: j.document_id, same_tenant=True),
    ),
)

QUERY_LOGS = Table[QueryLog](
    "query_logs",
    "query log",
    references=(
        Reference[QueryLog]("tenant_id", TENANTS, lambda q: q.tenant_id),
        Reference[QueryLog]("user_id", USERS, lambda q: q.user_id),
    ),
)

CHAT_SESSIONS = Table[ChatSession](
    "chat_sessions",
    "chat session",
    references=(
        Reference[ChatSession]("tenant_id", TENANTS, lambda s: s.tenant_id),
        Reference[ChatSession]("user_id", USERS, lambda s: s.user_id),
    ),
)

MESSAGES = Table[Message](
    "messages",
    "message",
    references=(
        Reference[Message]("tenant_id", TENANTS, lambda m: m.tenant_id),
        Reference[Message]("session_id", CHAT_SESSIONS, lambda m: m.session_id, same_tenant=True),
    ),
)

TABLES: tuple[Table[Any], ...] = (
    EMBEDDING_MODELS,
    TENANTS,
    USERS,
    MEMBERSHIPS,
    DOCUMENTS,
    DOCUMENT_VERSIONS,
    CHUNKS,
    API_KEYS,
    JOBS,
    QUERY_LOGS,
    CHAT_SESSIONS,
    MESSAGES,
)
TABLES_BY_NAME: dict[str, Table[Any]] = {table.name: table for table in TABLES}


def cascade(
    table: Table[Any],
    deleted: set[uuid.UUID],
    rows: Callable[[Table[Any]], Iterable[Row]],
    remove: Callable[[Table[Any], uuid.UUID], None],
) -> None:
    """Remove, transitively, every row referencing one of ``deleted`` (ON DELETE CASCADE)."""
    for child in TABLES:
        for reference in child.references:
            if reference.parent is not table:
                continue
            doomed = {row.id for row in rows(child) if reference.value(row) in deleted}
            for row_id in doomed:
                remove(child, row_id)
            if doomed:
                cascade(child, doomed, rows, remove)
