"""The unit of work: one transaction, opened either for one tenant or for system work.

Used as ``async with factory.tenant(tenant_id) as uow: ...; await uow.commit()``.
Leaving the block without ``commit()`` (or by an exception) rolls back, and
nothing a unit of work wrote is visible to others before it commits.

``factory.tenant(tenant_id, read_only=True)`` opens a unit of work that only reads.
A backend with a read replica serves it there, so it may lag the primary by the
replica's delay; writing in it raises ReadOnlyUnitOfWork.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Protocol, Self

from tenantrag.domain.ports.audit_log import AuditLog
from tenantrag.domain.ports.invitations import InvitationDirectory
from tenantrag.domain.ports.job_queue import JobQueue
from tenantrag.domain.ports.repositories import (
    ApiKeyDirectory,
    ApiKeyRepository,
    ChatSessionRepository,
    ChunkRepository,
    CurrentTenantRepository,
    DocumentRepository,
    DocumentVersionRepository,
    E,
    EmbeddingModelRecord,
    JobRepository,
    MembershipDirectory,
    MembershipRepository,
    MessageRepository,
    QueryLogRepository,
    Repository,
    TenantRepository,
    UserRepository,
)


class UnitOfWorkNotActive(RuntimeError):
    """A unit of work was used outside its one transaction: before ``async with``, or
    after commit or rollback. A programming error, so not a TenantRagError."""


class ReadOnlyUnitOfWork(RuntimeError):
    """A write in a unit of work opened with ``read_only=True``. A programming error in the
    use case that opened it, so not a TenantRagError."""


class UnitOfWork(Protocol):
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class TenantUnitOfWork(UnitOfWork, Protocol):
    """Repositories are read-only properties, so a backend may narrow their types."""

    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def tenant(self) -> CurrentTenantRepository: ...
    @property
    def memberships(self) -> MembershipRepository: ...
    @property
    def documents(self) -> DocumentRepository: ...
    @property
    def versions(self) -> DocumentVersionRepository: ...
    @property
    def chunks(self) -> ChunkRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def jobs(self) -> JobRepository: ...
    @property
    def query_logs(self) -> QueryLogRepository: ...
    @property
    def chat_sessions(self) -> ChatSessionRepository: ...
    @property
    def messages(self) -> MessageRepository: ...
    @property
    def audit(self) -> AuditLog: ...

    def repository(self, entity: type[E]) -> Repository[E]:
        """The tenant's rows of any stored entity by id (add, get, update, delete, list): what a
        use case needs of a table with no queries of its own, with no port of its own."""
        ...


class SystemUnitOfWork(UnitOfWork, Protocol):
    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def memberships(self) -> MembershipDirectory: ...
    @property
    def api_keys(self) -> ApiKeyDirectory: ...
    @property
    def invitations(self) -> InvitationDirectory: ...
    @property
    def embedding_model(self) -> EmbeddingModelRecord: ...
    @property
    def job_queue(self) -> JobQueue:
        """Claiming the next job of any tenant (see ports/job_queue.py)."""
        ...


class UnitOfWorkFactory(Protocol):
    """What a backend provides. ``dimension`` is the deployment's embedding size."""

    @property
    def dimension(self) -> int: ...
    def tenant(self, tenant_id: uuid.UUID, *, read_only: bool = False) -> TenantUnitOfWork: ...
    def system(self) -> SystemUnitOfWork: ...
