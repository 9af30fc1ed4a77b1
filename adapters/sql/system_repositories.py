"""The system (cross-tenant) repositories: deliberately narrow, as the ports are.

Three of their methods reach tenant-owned rows, which PostgreSQL's row-level
security hides from a system unit of work. They do not switch isolation off: each
binds, for its one statement, the value a narrow policy admits rows by (see
``SqlSession.acting_for`` and migrations' row-level security revision). On PostgreSQL the
binding is signed with a key only the service and the database hold
(adapters/postgres/binding.py), so SQL running in the transaction cannot bind it itself;
``users`` and ``tenants`` admit system work only (``system`` is bound when it begins):

- founding a tenant writes its first membership *as that tenant*;
- login lists one user's memberships (policy ``memberships_directory``, SELECT only);
- a presented API key is found by its prefix (policy ``api_keys_directory``, SELECT only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.repository import SqlRepository, TableRepository
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sql.tables import Rows
from tenantrag.adapters.sql.tenant_repositories import locked
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.embedding_model import EMBEDDING_MODEL_ID, EmbeddingModel
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User


class SqlTenantRepository(SqlRepository[Tenant]):
    mapper = rows.TENANTS

    async def get_by_slug(self, slug: str) -> Tenant | None:
        return await self.rows.one(self.c.slug == slug)

    async def lock(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await locked(self.rows, self.c.id == tenant_id, key_share=True)


class SqlUserRepository(SqlRepository[User]):
    mapper = rows.USERS

    async def get_by_email(self, email: str) -> User | None:
        return await self.rows.one(self.c.email == email)


class SqlMembershipDirectory:
    def __init__(self, session: SqlSession) -> None:
        # Unscoped: founding a tenant writes a membership before any tenant unit of work exists.
        self._rows = Rows(session, rows.MEMBERSHIPS)

    async def add(self, membership: Membership) -> None:
        async with self._rows.session.acting_for(current_tenant_id=str(membership.tenant_id)):
            await self._rows.add(membership)

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[Membership]:
        table = self._rows.table
        async with self._rows.session.acting_for(directory_user_id=str(user_id)):
            return tuple(
                await self._rows.all(table.c.user_id == user_id, order_by=(table.c.created_at, table.c.id))
            )

    async def count_active_owners(self, tenant_id: uuid.UUID) -> int:
        table = self._rows.table
        async with self._rows.session.acting_for(current_tenant_id=str(tenant_id)):
            return await self._rows.count(
                table.c.tenant_id == tenant_id, table.c.role == "owner", table.c.is_active.is_(True)
            )


class SqlApiKeyDirectory:
    def __init__(self, session: SqlSession) -> None:
        self._rows = Rows(session, rows.API_KEYS)

    async def find_by_prefix(self, prefix: str) -> ApiKey | None:
        async with self._rows.session.acting_for(directory_api_key_prefix=prefix):
            return await self._rows.one(self._rows.table.c.prefix == prefix)


class SqlEmbeddingModelRecord(TableRepository[EmbeddingModel]):
    mapper = rows.EMBEDDING_MODELS

    async def get(self) -> EmbeddingModel | None:
        return await self.rows.get(EMBEDDING_MODEL_ID)
