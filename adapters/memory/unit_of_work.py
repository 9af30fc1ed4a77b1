"""Units of work over a MemoryStore, and the factory that is the memory backend.

A unit of work is ONE transaction: it is entered once, and ``commit()`` or
``rollback()`` ends it. Using it afterwards (or before ``async with``), for a read
or a write, raises UnitOfWorkNotActive; committing twice does too. Rolling back an
ended unit of work does nothing, so ``__aexit__`` after ``commit()`` is harmless.
Ask the factory for a new unit of work for the next transaction.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Self

from tenantrag.adapters.memory.job_queue import MemoryJobQueue
from tenantrag.adapters.memory.store import MemoryStore
from tenantrag.adapters.memory.system_repositories import (
    MemoryApiKeyDirectory,
    MemoryEmbeddingModelRecord,
    MemoryMembershipDirectory,
    MemoryTenantRepository,
    MemoryUserRepository,
)
from tenantrag.adapters.memory.tenant_repositories import (
    MemoryApiKeyRepository,
    MemoryChatSessionRepository,
    MemoryChunkRepository,
    MemoryCurrentTenantRepository,
    MemoryDocumentRepository,
    MemoryDocumentVersionRepository,
    MemoryJobRepository,
    MemoryMembershipRepository,
    MemoryMessageRepository,
    MemoryQueryLogRepository,
)
from tenantrag.adapters.memory.tenant_scope import TenantScope
from tenantrag.adapters.memory.transaction import Transaction
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.job_queue import JobQueue
from tenantrag.domain.ports.repositories import (
    ApiKeyDirectory,
    ApiKeyRepository,
    ChatSessionRepository,
    ChunkRepository,
    CurrentTenantRepository,
    DocumentRepository,
    DocumentVersionRepository,
    EmbeddingModelRecord,
    JobRepository,
    MembershipDirectory,
    MembershipRepository,
    MessageRepository,
    QueryLogRepository,
    TenantRepository,
    UserRepository,
)
from tenantrag.domain.ports.unit_of_work import UnitOfWorkNotActive
from tenantrag.domain.validation import identifier


class _MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._tx: Transaction | None = None
        self._used = False

    async def __aenter__(self) -> Self:
        if self._used:
            raise UnitOfWorkNotActive("a unit of work runs one transaction; ask the factory for a new one")
        self._used = True
        self._tx = Transaction(self._store, read_only=self._read_only)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        tx = self._transaction()
        # Ended whatever happens: a commit that fails applied nothing, as in SQL.
        self._tx = None
        tx.commit()

    async def rollback(self) -> None:
        self._tx = None

    def _transaction(self) -> Transaction:
        if self._tx is None:
            state = "has ended (commit or rollback)" if self._used else "is not open; use `async with`"
            raise UnitOfWorkNotActive(f"this unit of work {state}")
        return self._tx


class MemoryTenantUnitOfWork(_MemoryUnitOfWork):
    def __init__(
        self, store: MemoryStore, tenant_id: uuid.UUID, dimension: int, *, read_only: bool = False
    ) -> None:
        super().__init__(store, read_only=read_only)
        self.tenant_id = tenant_id
        scope = TenantScope(tenant_id, self._transaction)
        # Typed as the ports: the protocols' attributes are settable, hence invariant.
        self.tenant: CurrentTenantRepository = MemoryCurrentTenantRepository(scope)
        self.memberships: MembershipRepository = MemoryMembershipRepository(scope)
        self.documents: DocumentRepository = MemoryDocumentRepository(scope)
        self.versions: DocumentVersionRepository = MemoryDocumentVersionRepository(scope)
        self.chunks: ChunkRepository = MemoryChunkRepository(scope, dimension)
        self.api_keys: ApiKeyRepository = MemoryApiKeyRepository(scope)
        self.jobs: JobRepository = MemoryJobRepository(scope)
        self.query_logs: QueryLogRepository = MemoryQueryLogRepository(scope)
        self.chat_sessions: ChatSessionRepository = MemoryChatSessionRepository(scope)
        self.messages: MessageRepository = MemoryMessageRepository(scope)


class MemorySystemUnitOfWork(_MemoryUnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.tenants: TenantRepository = MemoryTenantRepository(self._transaction)
        self.users: UserRepository = MemoryUserRepository(self._transaction)
        self.memberships: MembershipDirectory = MemoryMembershipDirectory(self._transaction)
        self.api_keys: ApiKeyDirectory = MemoryApiKeyDirectory(self._transaction)
        self.job_queue: JobQueue = MemoryJobQueue(self._transaction)
        self.embedding_model: EmbeddingModelRecord = MemoryEmbeddingModelRecord(self._transaction)


class MemoryUnitOfWorkFactory:
    """The memory backend: one store shared by every unit of work it hands out."""

    def __init__(self, dimension: int) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
            raise InvalidInput("dimension", f"must be a positive integer, got {dimension!r}")
        self._dimension = dimension
        self._store = MemoryStore()

    @property
    def dimension(self) -> int:
        return self._dimension

    def tenant(self, tenant_id: uuid.UUID, *, read_only: bool = False) -> MemoryTenantUnitOfWork:
        return MemoryTenantUnitOfWork(
            self._store, identifier("tenant_id", tenant_id), self._dimension, read_only=read_only
        )

    def system(self) -> MemorySystemUnitOfWork:
        return MemorySystemUnitOfWork(self._store)
