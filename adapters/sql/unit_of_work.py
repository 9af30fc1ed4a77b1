"""Units of work over an SQLAlchemy AsyncEngine, and the factory a SQL backend is.

A unit of work is ONE transaction on one connection of its own: it is entered
once, and ``commit()`` or ``rollback()`` ends it and returns the connection to the
pool. Using it afterwards (or before ``async with``) raises UnitOfWorkNotActive,
as the port says; rolling back an ended one does nothing.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Self

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql.audit_log import SqlAuditLog
from tenantrag.adapters.sql.chunk_repository import ChunkSearch, ChunkWriter, SqlChunkRepository
from tenantrag.adapters.sql.dialect import SqlDialect
from tenantrag.adapters.sql.invitations import SqlInvitationDirectory
from tenantrag.adapters.sql.job_queue import SqlJobQueue
from tenantrag.adapters.sql.read_routing import ReadRouting
from tenantrag.adapters.sql.repository import repository_for
from tenantrag.adapters.sql.rows import Mapper, chunk_mapper
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.system_repositories import (
    SqlApiKeyDirectory,
    SqlEmbeddingModelRecord,
    SqlMembershipDirectory,
    SqlTenantRepository,
    SqlUserRepository,
)
from tenantrag.adapters.sql.tenant_repositories import (
    SqlApiKeyRepository,
    SqlChatSessionRepository,
    SqlCurrentTenantRepository,
    SqlDocumentRepository,
    SqlDocumentVersionRepository,
    SqlJobRepository,
    SqlMembershipRepository,
    SqlMessageRepository,
    SqlQueryLogRepository,
)
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk
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
from tenantrag.domain.validation import identifier

_tracer = trace.get_tracer("tenantrag")


def _end_span(span: trace.Span, error: BaseException | None) -> None:
    if error is not None:
        span.record_exception(error)
        span.set_status(trace.StatusCode.ERROR, type(error).__name__)
    span.end()


class _SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        dialect: SqlDialect,
        tenant_id: uuid.UUID | None,
        *,
        read_only: bool = False,
        routing: ReadRouting | None = None,
    ) -> None:
        self._session = SqlSession(engine, dialect, tenant_id, read_only=read_only, routing=routing)
        # One span per transaction; the API's no-op unless tracing is configured (TRACING).
        self._span: trace.Span = trace.INVALID_SPAN
        self._span_attributes = {
            "tenantrag.uow.kind": "system" if tenant_id is None else "tenant",
            "tenantrag.uow.read_only": read_only,
            "db.system.name": dialect.name,
        }

    async def __aenter__(self) -> Self:
        # Only inside a traced operation (a request, a search): an idle worker's claim every
        # second would otherwise be a trace of its own.
        if trace.get_current_span().is_recording():
            self._span = _tracer.start_span("tenantrag.unit_of_work", attributes=self._span_attributes)
        try:
            await self._session.open()
        except BaseException as error:
            _end_span(self._span, error)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.rollback()
        finally:
            _end_span(self._span, exc)

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()


class SqlTenantUnitOfWork(_SqlUnitOfWork):
    def __init__(
        self,
        engine: AsyncEngine,
        dialect: SqlDialect,
        tenant_id: uuid.UUID,
        dimension: int,
        chunks: Mapper[Chunk],
        *,
        search: ChunkSearch,
        writer: ChunkWriter | None = None,
        read_only: bool = False,
        routing: ReadRouting | None = None,
    ) -> None:
        super().__init__(engine, dialect, tenant_id, read_only=read_only, routing=routing)
        self.tenant_id = tenant_id
        session = self._session
        # Typed as the ports: the protocols' attributes are settable, hence invariant.
        self.tenant: CurrentTenantRepository = SqlCurrentTenantRepository(session, tenant_id)
        self.memberships: MembershipRepository = SqlMembershipRepository(session, tenant_id)
        self.documents: DocumentRepository = SqlDocumentRepository(session, tenant_id)
        self.versions: DocumentVersionRepository = SqlDocumentVersionRepository(session, tenant_id)
        self.chunks: ChunkRepository = SqlChunkRepository(
            session, tenant_id, chunks, dimension, search=search, writer=writer
        )
        self.api_keys: ApiKeyRepository = SqlApiKeyRepository(session, tenant_id)
        self.jobs: JobRepository = SqlJobRepository(session, tenant_id)
        self.query_logs: QueryLogRepository = SqlQueryLogRepository(session, tenant_id)
        self.chat_sessions: ChatSessionRepository = SqlChatSessionRepository(session, tenant_id)
        self.messages: MessageRepository = SqlMessageRepository(session, tenant_id)
        self.audit: AuditLog = SqlAuditLog(session, tenant_id)

    def repository(self, entity: type[E]) -> Repository[E]:
        return repository_for(entity, self._session, self.tenant_id)


class SqlSystemUnitOfWork(_SqlUnitOfWork):
    def __init__(self, engine: AsyncEngine, dialect: SqlDialect) -> None:
        super().__init__(engine, dialect, None)
        self.tenants: TenantRepository = SqlTenantRepository(self._session)
        self.users: UserRepository = SqlUserRepository(self._session)
        self.memberships: MembershipDirectory = SqlMembershipDirectory(self._session)
        self.api_keys: ApiKeyDirectory = SqlApiKeyDirectory(self._session)
        self.invitations: InvitationDirectory = SqlInvitationDirectory(self._session)
        self.job_queue: JobQueue = SqlJobQueue(self._session)
        self.embedding_model: EmbeddingModelRecord = SqlEmbeddingModelRecord(self._session)


class SqlUnitOfWorkFactory:
    """A SQL backend: units of work on one engine, in one dialect, with the backend's chunk
    ``search`` and (optional) bulk chunk ``writer`` given to every tenant unit of work.

    With a ``replica`` (an engine, or a ``ReadRouting`` that also measures its lag),
    read-only tenant units of work run there while it answers, and on the primary when it
    does not (read_routing.py); everything else, system work included (logins must see a
    password change at once), runs on the primary ``engine``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        dimension: int,
        dialect: SqlDialect,
        *,
        search: ChunkSearch,
        writer: ChunkWriter | None = None,
        replica: AsyncEngine | ReadRouting | None = None,
    ) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
            raise InvalidInput("dimension", f"must be a positive integer, got {dimension!r}")
        self._engine = engine
        if isinstance(replica, AsyncEngine):
            replica = ReadRouting(engine, replica)
        self._routing = replica
        self._dimension = dimension
        self._dialect = dialect
        self._search = search
        self._writer = writer
        self._chunks = chunk_mapper(dialect.embeddings)

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def replica(self) -> AsyncEngine | None:
        return None if self._routing is None else self._routing.replica

    @property
    def read_routing(self) -> ReadRouting | None:
        """Where reads go, when there is a replica (its state is in the health report)."""
        return self._routing

    def tenant(self, tenant_id: uuid.UUID, *, read_only: bool = False) -> SqlTenantUnitOfWork:
        return SqlTenantUnitOfWork(
            self._engine,
            self._dialect,
            identifier("tenant_id", tenant_id),
            self._dimension,
            self._chunks,
            search=self._search,
            writer=self._writer,
            read_only=read_only,
            routing=self._routing,
        )

    def system(self) -> SqlSystemUnitOfWork:
        return SqlSystemUnitOfWork(self._engine, self._dialect)

    async def dispose(self) -> None:
        """Close every pooled connection; the factory cannot be used afterwards."""
        if self._routing is not None:
            await self._routing.close()
            await self._routing.replica.dispose()
        await self._engine.dispose()
