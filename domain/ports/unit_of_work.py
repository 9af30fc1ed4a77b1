"""The unit of work: one transaction, opened either for one tenant or for system work.

Used as ``async with factory.tenant(tenant_id) as uow: ...; await uow.commit()``.
Leaving the block without ``commit()`` (or by an exception) rolls back, and
nothing a unit of work wrote is visible to others before it commits.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Protocol, Self

from tenantrag.domain.ports.repositories import (
    ApiKeyDirectory,
    ApiKeyRepository,
    ChatSessionRepository,
    ChunkRepository,
    CurrentTenantRepository,
    DocumentRepository,
    JobRepository,
    MembershipDirectory,
    MembershipRepository,
    MessageRepository,
    QueryLogRepository,
    TenantRepository,
    UserRepository,
)


class UnitOfWork(Protocol):
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class TenantUnitOfWork(UnitOfWork, Protocol):
    tenant_id: uuid.UUID
    tenant: CurrentTenantRepository
    memberships: MembershipRepository
    documents: DocumentRepository
    chunks: ChunkRepository
    api_keys: ApiKeyRepository
    jobs: JobRepository
    query_logs: QueryLogRepository
    chat_sessions: ChatSessionRepository
    messages: MessageRepository


class SystemUnitOfWork(UnitOfWork, Protocol):
    tenants: TenantRepository
    users: UserRepository
    memberships: MembershipDirectory
    api_keys: ApiKeyDirectory


class UnitOfWorkFactory(Protocol):
    """What a backend provides. ``dimension`` is the deployment's embedding size."""

    @property
    def dimension(self) -> int: ...
    def tenant(self, tenant_id: uuid.UUID) -> TenantUnitOfWork: ...
    def system(self) -> SystemUnitOfWork: ...
