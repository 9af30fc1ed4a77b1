"""The system (cross-tenant) repositories: deliberately narrow, as the ports are."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from tenantrag.adapters.memory.rows import detach_optional, in_creation_order, page_of
from tenantrag.adapters.memory.schema import (
    API_KEY_PREFIX,
    API_KEYS,
    EMBEDDING_MODELS,
    MEMBERSHIPS,
    TENANT_SLUG,
    TENANTS,
    USER_EMAIL,
    USERS,
)
from tenantrag.adapters.memory.transaction import Transaction
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.embedding_model import EMBEDDING_MODEL_ID, EmbeddingModel
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.pagination import Page, PageRequest

TransactionSource = Callable[[], Transaction]


class MemoryTenantRepository:
    def __init__(self, transaction: TransactionSource) -> None:
        self._tx = transaction

    async def add(self, tenant: Tenant) -> None:
        self._tx().insert(TENANTS, tenant)

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return detach_optional(self._tx().get(TENANTS, tenant_id))

    async def get_by_slug(self, slug: str) -> Tenant | None:
        return detach_optional(self._tx().find(TENANTS, TENANT_SLUG, slug))

    async def list(self, page: PageRequest) -> Page[Tenant]:
        return page_of(self._tx().rows(TENANTS), page)


class MemoryUserRepository:
    def __init__(self, transaction: TransactionSource) -> None:
        self._tx = transaction

    async def add(self, user: User) -> None:
        self._tx().insert(USERS, user)

    async def get(self, user_id: uuid.UUID) -> User | None:
        return detach_optional(self._tx().get(USERS, user_id))

    async def get_by_email(self, email: str) -> User | None:
        return detach_optional(self._tx().find(USERS, USER_EMAIL, email))

    async def update(self, user: User) -> None:
        self._tx().update(USERS, user)

    async def list(self, page: PageRequest) -> Page[User]:
        return page_of(self._tx().rows(USERS), page)


class MemoryMembershipDirectory:
    def __init__(self, transaction: TransactionSource) -> None:
        self._tx = transaction

    async def add(self, membership: Membership) -> None:
        self._tx().insert(MEMBERSHIPS, membership)

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[Membership]:
        return in_creation_order(m for m in self._tx().rows(MEMBERSHIPS) if m.user_id == user_id)


class MemoryApiKeyDirectory:
    def __init__(self, transaction: TransactionSource) -> None:
        self._tx = transaction

    async def find_by_prefix(self, prefix: str) -> ApiKey | None:
        return detach_optional(self._tx().find(API_KEYS, API_KEY_PREFIX, prefix))


class MemoryEmbeddingModelRecord:
    def __init__(self, transaction: TransactionSource) -> None:
        self._tx = transaction

    async def get(self) -> EmbeddingModel | None:
        return detach_optional(self._tx().get(EMBEDDING_MODELS, EMBEDDING_MODEL_ID))

    async def add(self, model: EmbeddingModel) -> None:
        self._tx().insert(EMBEDDING_MODELS, model)
