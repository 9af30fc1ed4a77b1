"""The tenant-scoped repositories. Each reaches rows only through a tenant-scoped Rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Rows, StaleRow
from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chat import ChatSession, Message
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.job import Job, JobStatus, lease_lost
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Role


class SqlCurrentTenantRepository:
    """The tenants table has no tenant_id: the scope is ``tenants.id = :tenant``."""

    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.TENANTS)
        self._tenant_id = tenant_id
        self._mine = self._rows.table.c.id == tenant_id

    async def get(self) -> Tenant | None:
        return await self._rows.one(self._mine)

    async def update(self, tenant: Tenant) -> None:
        # Another tenant's row is out of reach, so it does not exist from here.
        if tenant.id != self._tenant_id:
            raise NotFound("tenant", tenant.id)
        await self._rows.update(tenant)

    async def delete(self) -> None:
        if await self._rows.delete(self._mine) == 0:
            raise NotFound("tenant", self._tenant_id)


class SqlMembershipRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.MEMBERSHIPS, tenant_id)
        self._c = self._rows.table.c

    async def add(self, membership: Membership) -> None:
        await self._rows.add(membership)

    async def get(self, user_id: uuid.UUID) -> Membership | None:
        return await self._rows.one(self._c.user_id == user_id)

    async def update(self, membership: Membership) -> None:
        await self._rows.update(membership)

    async def delete(self, user_id: uuid.UUID) -> None:
        if await self._rows.delete(self._c.user_id == user_id) == 0:
            raise NotFound("membership of user", user_id)

    async def list(self, page: PageRequest) -> Page[Membership]:
        return await self._rows.page(page)

    async def count_active_owners(self) -> int:
        return await self._rows.count(self._c.role == Role.OWNER.value, self._c.is_active.is_(True))


class SqlDocumentRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.DOCUMENTS, tenant_id)
        self._c = self._rows.table.c
        self._dialect = session.dialect

    async def add(self, document: Document) -> None:
        await self._rows.add(document)

    async def get(self, document_id: uuid.UUID) -> Document | None:
        return await self._rows.get(document_id)

    async def get_by_source_key(self, source_key: str) -> Document | None:
        return await self._rows.one(self._c.source_key == source_key)

    async def update(self, document: Document) -> None:
        await self._rows.update(document)

    async def delete(self, document_id: uuid.UUID) -> None:
        if await self._rows.delete(self._c.id == document_id) == 0:
            raise NotFound("document", document_id)

    async def list(
        self, page: PageRequest, *, status: DocumentStatus | None = None, tag: str | None = None
    ) -> Page[Document]:
        conditions = []
        if status is not None:
            conditions.append(self._c.status == DocumentStatus.parse(status).value)
        if tag is not None:
            conditions.append(self._dialect.array_contains(self._c.tags, tag))
        return await self._rows.page(page, *conditions)


class SqlDocumentVersionRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.DOCUMENT_VERSIONS, tenant_id)
        self._c = self._rows.table.c

    async def add(self, version: DocumentVersion) -> None:
        await self._rows.add(version)

    async def get(self, document_id: uuid.UUID, version: int) -> DocumentVersion | None:
        return await self._rows.one(self._c.document_id == document_id, self._c.version == version)

    async def update(self, version: DocumentVersion) -> None:
        await self._rows.update(version)

    async def list_for_document(self, document_id: uuid.UUID) -> Sequence[DocumentVersion]:
        return await self._rows.all(self._c.document_id == document_id, order_by=[self._c.version])


class SqlApiKeyRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.API_KEYS, tenant_id)

    async def add(self, key: ApiKey) -> None:
        await self._rows.add(key)

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return await self._rows.get(key_id)

    async def update(self, key: ApiKey) -> None:
        await self._rows.update(key)

    async def list(self, page: PageRequest) -> Page[ApiKey]:
        return await self._rows.page(page)


class SqlJobRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.JOBS, tenant_id)

    async def add(self, job: Job) -> None:
        await self._rows.add(job)

    async def get(self, job_id: uuid.UUID) -> Job | None:
        return await self._rows.get(job_id)

    async def update(self, job: Job, *, if_attempt: int | None = None) -> None:
        if if_attempt is None:
            await self._rows.update(job)
            return
        c = self._rows.table.c
        try:
            await self._rows.update(
                job, only_if=[c.attempts == if_attempt, c.status == JobStatus.RUNNING.value]
            )
        except StaleRow:
            raise lease_lost(job.id, if_attempt) from None

    async def list(self, page: PageRequest, *, document_id: uuid.UUID | None = None) -> Page[Job]:
        if document_id is None:
            return await self._rows.page(page)
        return await self._rows.page(page, self._rows.table.c.document_id == document_id)


class SqlQueryLogRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.QUERY_LOGS, tenant_id)

    async def add(self, log: QueryLog) -> None:
        await self._rows.add(log)

    async def get(self, log_id: uuid.UUID) -> QueryLog | None:
        return await self._rows.get(log_id)

    async def update(self, log: QueryLog) -> None:
        await self._rows.update(log)

    async def list(self, page: PageRequest) -> Page[QueryLog]:
        return await self._rows.page(page)


class SqlChatSessionRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.CHAT_SESSIONS, tenant_id)
        self._c = self._rows.table.c

    async def add(self, session: ChatSession) -> None:
        await self._rows.add(session)

    async def get(self, session_id: uuid.UUID) -> ChatSession | None:
        return await self._rows.get(session_id)

    async def update(self, session: ChatSession) -> None:
        await self._rows.update(session)

    async def delete(self, session_id: uuid.UUID) -> None:
        if await self._rows.delete(self._c.id == session_id) == 0:
            raise NotFound("chat session", session_id)

    async def list(self, page: PageRequest, *, user_id: uuid.UUID | None = None) -> Page[ChatSession]:
        if user_id is None:
            return await self._rows.page(page)
        return await self._rows.page(page, self._c.user_id == user_id)


class SqlMessageRepository:
    def __init__(self, session: SqlSession, tenant_id: uuid.UUID) -> None:
        self._rows = Rows(session, rows.MESSAGES, tenant_id)

    async def add(self, message: Message) -> None:
        await self._rows.add(message)

    async def list(self, session_id: uuid.UUID, page: PageRequest) -> Page[Message]:
        return await self._rows.page(page, self._rows.table.c.session_id == session_id)
