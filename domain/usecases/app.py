"""TenantRag: every use case, wired to one set of ports.

This is what an embedding service holds. Build it with the entrypoints' bootstrap
(or, later, the container); the constructor only checks that the parts fit.
"""

from __future__ import annotations

from typing import Self

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.ports.blob_store import BlobStore
from tenantrag.domain.ports.chunker import Chunker
from tenantrag.domain.ports.clock import Clock
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.ports.parser import MediaTypeParser
from tenantrag.domain.ports.passwords import PasswordHasher
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.accounts import AccountAdministration
from tenantrag.domain.usecases.api_keys import ApiKeyService
from tenantrag.domain.usecases.audit import AuditService
from tenantrag.domain.usecases.chat import ChatService
from tenantrag.domain.usecases.documents import DocumentService
from tenantrag.domain.usecases.embedding_record import check_embedder
from tenantrag.domain.usecases.evaluation import EvaluationService
from tenantrag.domain.usecases.ingestion import IngestionService
from tenantrag.domain.usecases.invitations import InvitationService
from tenantrag.domain.usecases.jobs import JobService
from tenantrag.domain.usecases.members import MemberService
from tenantrag.domain.usecases.query_log_writer import QueryLogWriter
from tenantrag.domain.usecases.query_logs import QueryLogService
from tenantrag.domain.usecases.search import SearchService
from tenantrag.domain.usecases.tenants import TenantService
from tenantrag.domain.usecases.users import UserService


@attrs.define(init=False)
class TenantRag:
    uow: UnitOfWorkFactory
    embedder: Embedder
    tenants: TenantService
    users: UserService
    accounts: AccountAdministration
    members: MemberService
    invitations: InvitationService
    api_keys: ApiKeyService
    documents: DocumentService
    ingestion: IngestionService
    search: SearchService
    query_logs: QueryLogService
    query_log_writer: QueryLogWriter | None
    chat: ChatService
    jobs: JobService
    evaluations: EvaluationService
    audit: AuditService
    _clock: Clock

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        embedder: Embedder,
        chunker: Chunker,
        hasher: PasswordHasher,
        clock: Clock,
        parser: MediaTypeParser,
        blobs: BlobStore,
        fusion: Fusion | None = None,
        background_query_logs: bool = False,
    ) -> None:
        if embedder.dimension != uow.dimension:
            raise InvalidInput(
                "embedder",
                f"{embedder.name} makes {embedder.dimension}-dimensional vectors but the store "
                f"holds {uow.dimension}-dimensional ones; one deployment uses one dimension",
            )
        self.uow = uow
        self.embedder = embedder
        self._clock = clock
        self.tenants = TenantService(uow, clock, blobs)
        self.users = UserService(uow, clock, hasher)
        self.accounts = AccountAdministration(uow, clock, hasher)
        self.members = MemberService(uow, clock)
        self.invitations = InvitationService(uow, clock)
        self.api_keys = ApiKeyService(uow, clock)
        self.documents = DocumentService(uow, clock, blobs)
        self.ingestion = IngestionService(uow, clock, embedder, chunker, parser, blobs)
        # With background_query_logs (what the container, so every deployment, asks for),
        # searches' logs are written in the background (query_log_writer.py) and flush()
        # writes what is still waiting; otherwise each is written before the search answers.
        self.query_log_writer = QueryLogWriter(uow) if background_query_logs else None
        self.query_logs = QueryLogService(uow, clock, self.query_log_writer)
        self.search = SearchService(uow, clock, embedder, fusion or Fusion(), self.query_logs)
        self.chat = ChatService(uow, clock)
        self.jobs = JobService(uow, clock, self.documents, self.ingestion)
        self.evaluations = EvaluationService(uow, clock, self.search)
        self.audit = AuditService(uow, clock)

    async def check_embedder(self) -> EmbeddingModel:
        """Record this store's embedder on first use, and refuse another one afterwards
        (see embedding_record.py); deployments call it at start."""
        return await check_embedder(self.uow, self.embedder, self._clock)

    async def flush(self) -> None:
        """Write what is still waiting to be written (searches' query logs): a graceful
        shutdown calls it before the backend closes."""
        if self.query_log_writer is not None:
            await self.query_log_writer.close()

    async def aclose(self) -> None:
        """Write what waits (``flush``), then release the backend's connections (``dispose``),
        for stores that hold any. ``async with bootstrap() as rag:`` calls it on the way out."""
        await self.flush()
        dispose = getattr(self.uow, "dispose", None)
        if dispose is not None:
            await dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
