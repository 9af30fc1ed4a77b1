"""The tenant-scoped repositories. Each reaches rows only through its TenantScope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tenantrag.adapters.memory.rows import detach, detach_hit, detach_optional, page_of
from tenantrag.adapters.memory.schema import (
    API_KEYS,
    CHAT_SESSIONS,
    CHUNKS,
    DOCUMENT_SOURCE_KEY,
    DOCUMENT_VERSIONS,
    DOCUMENTS,
    JOBS,
    MEMBERSHIP_TENANT_USER,
    MEMBERSHIPS,
    MESSAGES,
    QUERY_LOGS,
    TENANTS,
)
from tenantrag.adapters.memory.tenant_scope import TenantScope
from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chat import ChatSession, Message
from tenantrag.domain.model.chunk import Chunk, check_dimension
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.job import Job, JobStatus, lease_lost
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.search import (
    HybridQuery,
    SearchHit,
    SearchQuery,
    TextQuery,
    brute_force_top_k,
    hybrid_top_k,
    text_top_k,
)


class MemoryCurrentTenantRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def get(self) -> Tenant | None:
        return detach_optional(self._scope.tx.get(TENANTS, self._scope.tenant_id))

    async def update(self, tenant: Tenant) -> None:
        # Another tenant's row is out of reach, so it does not exist from here.
        if tenant.id != self._scope.tenant_id:
            raise NotFound("tenant", tenant.id)
        self._scope.tx.update(TENANTS, tenant)

    async def delete(self) -> None:
        self._scope.tx.delete(TENANTS, self._scope.tenant_id)


class MemoryMembershipRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, membership: Membership) -> None:
        self._scope.add(MEMBERSHIPS, membership)

    async def get(self, user_id: uuid.UUID) -> Membership | None:
        return detach_optional(self._find(user_id))

    async def update(self, membership: Membership) -> None:
        self._scope.update(MEMBERSHIPS, membership)

    async def delete(self, user_id: uuid.UUID) -> None:
        found = self._find(user_id)
        if found is None:
            raise NotFound("membership of user", user_id)
        self._scope.delete(MEMBERSHIPS, found.id)

    async def list(self, page: PageRequest) -> Page[Membership]:
        return page_of(self._scope.rows(MEMBERSHIPS), page)

    async def count_active_owners(self) -> int:
        return sum(1 for membership in self._scope.rows(MEMBERSHIPS) if membership.is_active_owner)

    def _find(self, user_id: uuid.UUID) -> Membership | None:
        # The key includes this tenant's id, so another tenant's membership cannot match.
        return self._scope.tx.find(MEMBERSHIPS, MEMBERSHIP_TENANT_USER, (self._scope.tenant_id, user_id))


class MemoryDocumentRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, document: Document) -> None:
        self._scope.add(DOCUMENTS, document)

    async def get(self, document_id: uuid.UUID) -> Document | None:
        return self._scope.get(DOCUMENTS, document_id)

    async def get_by_source_key(self, source_key: str) -> Document | None:
        key = (self._scope.tenant_id, source_key)
        return detach_optional(self._scope.tx.find(DOCUMENTS, DOCUMENT_SOURCE_KEY, key))

    async def update(self, document: Document) -> None:
        self._scope.update(DOCUMENTS, document)

    async def delete(self, document_id: uuid.UUID) -> None:
        self._scope.delete(DOCUMENTS, document_id)

    async def list(
        self, page: PageRequest, *, status: DocumentStatus | None = None, tag: str | None = None
    ) -> Page[Document]:
        def wanted(document: Document) -> bool:
            return (status is None or document.status is status) and (tag is None or tag in document.tags)

        return page_of(self._scope.rows(DOCUMENTS), page, wanted)


class MemoryDocumentVersionRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, version: DocumentVersion) -> None:
        self._scope.add(DOCUMENT_VERSIONS, version)

    async def get(self, document_id: uuid.UUID, version: int) -> DocumentVersion | None:
        for row in self._scope.rows(DOCUMENT_VERSIONS):
            if row.document_id == document_id and row.version == version:
                return detach(row)
        return None

    async def update(self, version: DocumentVersion) -> None:
        self._scope.update(DOCUMENT_VERSIONS, version)

    async def list_for_document(self, document_id: uuid.UUID) -> Sequence[DocumentVersion]:
        rows = (row for row in self._scope.rows(DOCUMENT_VERSIONS) if row.document_id == document_id)
        return [detach(row) for row in sorted(rows, key=lambda row: row.version)]


class MemoryChunkRepository:
    def __init__(self, scope: TenantScope, dimension: int) -> None:
        self._scope = scope
        self._dimension = dimension

    async def add_many(self, chunks: Sequence[Chunk]) -> None:
        # One multi-row INSERT: every chunk is stored, or none is.
        with self._scope.tx.statement():
            for chunk in chunks:
                check_dimension(chunk.embedding, self._dimension)
                self._scope.add(CHUNKS, chunk)

    async def list_for_document(self, document_id: uuid.UUID) -> Sequence[Chunk]:
        chunks = (chunk for chunk in self._scope.rows(CHUNKS) if chunk.document_id == document_id)
        return tuple(detach(chunk) for chunk in sorted(chunks, key=lambda chunk: chunk.ordinal))

    async def delete_for_document(self, document_id: uuid.UUID) -> int:
        doomed = [chunk.id for chunk in self._scope.rows(CHUNKS) if chunk.document_id == document_id]
        with self._scope.tx.statement():
            for chunk_id in doomed:
                self._scope.tx.delete(CHUNKS, chunk_id)
        return len(doomed)

    async def count(self) -> int:
        return sum(1 for _ in self._scope.rows(CHUNKS))

    async def search(self, query: SearchQuery) -> Sequence[SearchHit]:
        """The domain's references over the tenant's rows: this backend is what they mean."""
        if not isinstance(query, TextQuery):
            check_dimension(query.embedding, self._dimension)
        documents = {document.id: document for document in self._scope.rows(DOCUMENTS)}
        rows = [
            (chunk, documents[chunk.document_id])
            for chunk in self._scope.rows(CHUNKS)
            if chunk.document_id in documents
        ]
        if isinstance(query, TextQuery):
            hits = text_top_k(query, rows)
        elif isinstance(query, HybridQuery):
            hits = hybrid_top_k(query, rows)
        else:
            hits = brute_force_top_k(query, rows)
        return tuple(detach_hit(hit) for hit in hits)


class MemoryApiKeyRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, key: ApiKey) -> None:
        self._scope.add(API_KEYS, key)

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return self._scope.get(API_KEYS, key_id)

    async def update(self, key: ApiKey) -> None:
        self._scope.update(API_KEYS, key)

    async def list(self, page: PageRequest) -> Page[ApiKey]:
        return page_of(self._scope.rows(API_KEYS), page)


class MemoryJobRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, job: Job) -> None:
        self._scope.add(JOBS, job)

    async def get(self, job_id: uuid.UUID) -> Job | None:
        return self._scope.get(JOBS, job_id)

    async def update(self, job: Job, *, if_attempt: int | None = None) -> None:
        if if_attempt is not None:
            current = self._scope.lookup(JOBS, job.id)
            if current is not None and (
                current.attempts != if_attempt or current.status is not JobStatus.RUNNING
            ):
                raise lease_lost(job.id, if_attempt)
        self._scope.update(JOBS, job)

    async def list(self, page: PageRequest, *, document_id: uuid.UUID | None = None) -> Page[Job]:
        return page_of(
            self._scope.rows(JOBS), page, lambda job: document_id is None or job.document_id == document_id
        )


class MemoryQueryLogRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, log: QueryLog) -> None:
        self._scope.add(QUERY_LOGS, log)

    async def get(self, log_id: uuid.UUID) -> QueryLog | None:
        return self._scope.get(QUERY_LOGS, log_id)

    async def update(self, log: QueryLog) -> None:
        self._scope.update(QUERY_LOGS, log)

    async def list(self, page: PageRequest) -> Page[QueryLog]:
        return page_of(self._scope.rows(QUERY_LOGS), page)


class MemoryChatSessionRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, session: ChatSession) -> None:
        self._scope.add(CHAT_SESSIONS, session)

    async def get(self, session_id: uuid.UUID) -> ChatSession | None:
        return self._scope.get(CHAT_SESSIONS, session_id)

    async def update(self, session: ChatSession) -> None:
        self._scope.update(CHAT_SESSIONS, session)

    async def delete(self, session_id: uuid.UUID) -> None:
        self._scope.delete(CHAT_SESSIONS, session_id)

    async def list(self, page: PageRequest, *, user_id: uuid.UUID | None = None) -> Page[ChatSession]:
        return page_of(
            self._scope.rows(CHAT_SESSIONS),
            page,
            lambda session: user_id is None or session.user_id == user_id,
        )


class MemoryMessageRepository:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope

    async def add(self, message: Message) -> None:
        self._scope.add(MESSAGES, message)

    async def list(self, session_id: uuid.UUID, page: PageRequest) -> Page[Message]:
        return page_of(self._scope.rows(MESSAGES), page, lambda message: message.session_id == session_id)
