"""The tenant-scoped repositories: each names its mapping and writes only its own queries.

Built with the unit of work's tenant id, so every statement is scoped to it (repository.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.repository import SqlRepository, TableRepository
from tenantrag.adapters.sql.rows import E
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Condition, Rows, StaleRow
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

    async def lock(self) -> Tenant | None:
        # FOR NO KEY UPDATE: lockers wait for each other, but the foreign-key checks of
        # every insert into the tenant's tables (FOR KEY SHARE) do not wait for them.
        return await locked(self._rows, self._mine, key_share=True)

    async def update(self, tenant: Tenant) -> None:
        # Another tenant's row is out of reach, so it does not exist from here.
        if tenant.id != self._tenant_id:
            raise NotFound("tenant", tenant.id)
        await self._rows.update(tenant)

    async def delete(self) -> None:
        if await self._rows.delete(self._mine) == 0:
            raise NotFound("tenant", self._tenant_id)


class SqlMembershipRepository(SqlRepository[Membership]):
    """Addressed by user: a user has one membership per tenant."""

    mapper = rows.MEMBERSHIPS

    async def get(self, user_id: uuid.UUID) -> Membership | None:
        return await self.rows.one(self.c.user_id == user_id)

    async def delete(self, user_id: uuid.UUID) -> None:
        if await self.rows.delete(self.c.user_id == user_id) == 0:
            raise NotFound("membership of user", user_id)

    async def count_active_owners(self) -> int:
        return await self.rows.count(self.c.role == Role.OWNER.value, self.c.is_active.is_(True))


class SqlDocumentRepository(SqlRepository[Document]):
    mapper = rows.DOCUMENTS

    async def get_by_source_key(self, source_key: str) -> Document | None:
        return await self.rows.one(self.c.source_key == source_key)

    async def lock(self, document_id: uuid.UUID) -> Document | None:
        return await locked(self.rows, self.c.id == document_id)

    async def list(
        self, page: PageRequest, *, status: DocumentStatus | None = None, tag: str | None = None
    ) -> Page[Document]:
        conditions = self.equal(status=None if status is None else DocumentStatus.parse(status).value)
        if tag is not None:
            conditions.append(self.rows.session.dialect.array_contains(self.c.tags, tag))
        return await self.rows.page(page, *conditions)


class SqlDocumentVersionRepository(TableRepository[DocumentVersion]):
    mapper = rows.DOCUMENT_VERSIONS

    async def get(self, document_id: uuid.UUID, version: int) -> DocumentVersion | None:
        return await self.rows.one(*self.equal(document_id=document_id, version=version))

    async def list_for_document(self, document_id: uuid.UUID) -> Sequence[DocumentVersion]:
        return await self.rows.all(self.c.document_id == document_id, order_by=[self.c.version])


class SqlApiKeyRepository(SqlRepository[ApiKey]):
    mapper = rows.API_KEYS


class SqlJobRepository(SqlRepository[Job]):
    mapper = rows.JOBS

    async def update(self, job: Job, *, if_attempt: int | None = None) -> None:
        if if_attempt is None:
            await self.rows.update(job)
            return
        try:
            await self.rows.update(
                job, only_if=self.equal(attempts=if_attempt, status=JobStatus.RUNNING.value)
            )
        except StaleRow:
            raise lease_lost(job.id, if_attempt) from None

    async def list(self, page: PageRequest, *, document_id: uuid.UUID | None = None) -> Page[Job]:
        return await self.rows.page(page, *self.equal(document_id=document_id))

    async def unfinished_for_document(self, document_id: uuid.UUID) -> Sequence[Job]:
        unfinished = self.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
        return await self.rows.all(
            self.c.document_id == document_id, unfinished, order_by=[self.c.created_at]
        )


class SqlQueryLogRepository(SqlRepository[QueryLog]):
    mapper = rows.QUERY_LOGS


class SqlChatSessionRepository(SqlRepository[ChatSession]):
    mapper = rows.CHAT_SESSIONS

    async def list(self, page: PageRequest, *, user_id: uuid.UUID | None = None) -> Page[ChatSession]:
        return await self.rows.page(page, *self.equal(user_id=user_id))


class SqlMessageRepository(TableRepository[Message]):
    mapper = rows.MESSAGES

    async def list(self, session_id: uuid.UUID, page: PageRequest) -> Page[Message]:
        return await self.rows.page(page, self.c.session_id == session_id)


async def locked(rows: Rows[E], condition: Condition, *, key_share: bool = False) -> E | None:
    """The one row ``condition`` names, locked until the transaction ends (SqlSession.lock)."""
    statement = rows.select(condition).limit(1).with_for_update(key_share=key_share)
    row = (await rows.session.lock(statement)).mappings().first()
    return None if row is None else rows.mapper.from_row(row)
