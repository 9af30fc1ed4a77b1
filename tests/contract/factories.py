"""Valid entities with a fixed clock, and small helpers the contract tests share.

Unique fields (slug, email, prefix, storage key) are random, so tests never clash
with one another unless they mean to.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import attrs

from tenantrag.domain.model.api_key import ApiKey, hash_secret
from tenantrag.domain.model.chat import ChatSession, Message, MessageRole
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus, sha256_hex
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory

DIMENSION = 8
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def token() -> str:
    return uuid.uuid4().hex[:12]


def basis(index: int, scale: float = 1.0) -> tuple[float, ...]:
    """A unit vector along one axis (scaled): cosine with another axis is 0."""
    return tuple(scale if i == index else 0.0 for i in range(DIMENSION))


def make_tenant(*, slug: str | None = None, created_at: datetime = NOW) -> Tenant:
    slug = slug or f"t-{token()}"
    return Tenant(
        id=uuid.uuid4(), name=f"Tenant {slug}", slug=slug, created_at=created_at, updated_at=created_at
    )


def make_user(*, email: str | None = None, created_at: datetime = NOW) -> User:
    return User(
        id=uuid.uuid4(),
        email=email or f"u-{token()}@example.com",
        full_name="Ada Lovelace",
        created_at=created_at,
        updated_at=created_at,
    )


def make_membership(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    role: Role = Role.MEMBER,
    is_active: bool = True,
    created_at: datetime = NOW,
) -> Membership:
    return Membership(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        is_active=is_active,
        created_at=created_at,
        updated_at=created_at,
    )


def make_document(
    tenant_id: uuid.UUID,
    *,
    storage_key: str | None = None,
    source_key: str | None = None,
    status: DocumentStatus = DocumentStatus.PENDING,
    tags: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    created_at: datetime = NOW,
) -> Document:
    return Document(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        filename="notes.txt",
        storage_key=storage_key or f"docs/{token()}",
        source_key=source_key,
        status=status,
        error_message="it broke" if status is DocumentStatus.FAILED else None,
        processed_at=NOW if status is DocumentStatus.COMPLETED else None,
        tags=tuple(tags),
        metadata=metadata or {},
        created_at=created_at,
        updated_at=created_at,
    )


def make_version(document: Document, version: int, *, created_at: datetime = NOW) -> DocumentVersion:
    return DocumentVersion(
        id=uuid.uuid4(),
        tenant_id=document.tenant_id,
        document_id=document.id,
        version=version,
        content_sha256=sha256_hex(f"{document.id} v{version}"),
        storage_key=f"{document.storage_key}/v{version}",
        created_at=created_at,
        updated_at=created_at,
    )


def make_chunk(
    document: Document,
    ordinal: int,
    embedding: Sequence[float] | None = None,
    *,
    metadata: dict[str, Any] | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Chunk:
    content = f"chunk {ordinal} of {document.id}"
    return Chunk(
        id=uuid.uuid4(),
        tenant_id=tenant_id or document.tenant_id,
        document_id=document.id,
        ordinal=ordinal,
        content=content,
        content_sha256=sha256_hex(content),
        embedding=tuple(embedding) if embedding is not None else basis(ordinal % DIMENSION),
        metadata=metadata or {},
        created_at=NOW,
    )


def make_api_key(
    tenant_id: uuid.UUID, user_id: uuid.UUID, *, prefix: str | None = None, created_at: datetime = NOW
) -> ApiKey:
    return ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        name="ci",
        prefix=prefix or token(),
        secret_hash=hash_secret("s3cret"),
        role_cap=Role.MEMBER,
        created_at=created_at,
    )


def make_job(
    tenant_id: uuid.UUID, *, document_id: uuid.UUID | None = None, created_at: datetime = NOW
) -> Job:
    return Job(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        document_id=document_id,
        kind="ingest",
        created_at=created_at,
        updated_at=created_at,
    )


def make_query_log(tenant_id: uuid.UUID, *, created_at: datetime = NOW) -> QueryLog:
    return QueryLog(id=uuid.uuid4(), tenant_id=tenant_id, query="what do cats eat?", created_at=created_at)


def make_chat_session(tenant_id: uuid.UUID, user_id: uuid.UUID, *, created_at: datetime = NOW) -> ChatSession:
    return ChatSession(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        title="Research",
        created_at=created_at,
        updated_at=created_at,
    )


def make_message(
    session: ChatSession,
    *,
    role: MessageRole = MessageRole.USER,
    content: str = "hello",
    created_at: datetime = NOW,
    tenant_id: uuid.UUID | None = None,
) -> Message:
    return Message(
        id=uuid.uuid4(),
        tenant_id=tenant_id or session.tenant_id,
        session_id=session.id,
        role=role,
        content=content,
        created_at=created_at,
    )


@attrs.frozen
class Seeded:
    """A committed tenant with its owner."""

    tenant: Tenant
    owner: User
    membership: Membership


async def seed_tenant(backend: UnitOfWorkFactory, *, slug: str | None = None) -> Seeded:
    tenant, owner = make_tenant(slug=slug), make_user()
    membership = make_membership(tenant.id, owner.id, role=Role.OWNER)
    async with backend.system() as uow:
        await uow.tenants.add(tenant)
        await uow.users.add(owner)
        await uow.memberships.add(membership)
        await uow.commit()
    return Seeded(tenant, owner, membership)


async def all_pages(fetch: Callable[[PageRequest], Awaitable[Page[T]]], *, limit: int) -> list[T]:
    """Follow the cursors to the end, checking that no page is over the limit."""
    items: list[T] = []
    request = PageRequest(limit=limit)
    while True:
        page = await fetch(request)
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        assert len(page.items) == limit
        request = PageRequest(limit=limit, after=page.next_cursor)


class Created(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def created_at(self) -> datetime: ...


def ids_by_creation(items: Iterable[Created]) -> list[uuid.UUID]:
    """Ids in the contract's list order: (created_at, id) ascending."""
    return [item.id for item in sorted(items, key=lambda item: (item.created_at, item.id))]
