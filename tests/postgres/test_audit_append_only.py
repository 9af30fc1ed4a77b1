"""The audit log on PostgreSQL: append-only for the runtime role, isolated like every tenant
table, and gone with its tenant (the foreign key's cascade runs as the table's owner)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory
from tenantrag.domain.model.audit_entry import AuditAction, AuditEntry
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.usecases.audit import record
from tenantrag.domain.usecases.principal import Principal
from tests.postgres.conftest import ROLE, World

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 8, tzinfo=UTC)


async def _refused(connection: AsyncConnection, sql: str, **params: object) -> str:
    with pytest.raises(DBAPIError) as caught:
        async with connection.begin_nested():
            await connection.execute(text(sql), params)
    return str(caught.value.orig)


async def test_the_runtime_role_may_add_and_read_entries_but_never_change_or_delete_them(
    factory: PostgresUnitOfWorkFactory, world: World
) -> None:
    tenant = world.a.seeded.tenant.id
    actor = Principal.user(world.a.seeded.owner.id)
    async with factory.tenant(tenant) as uow:
        entry = await record(uow, actor, AuditAction.TENANT_UPDATE, ("tenant", tenant), at=NOW)
        await uow.commit()
    async with factory.tenant(tenant) as uow:
        connection = uow._session.connection()
        assert (await connection.execute(text("SELECT current_user"))).scalar() == ROLE
        count = "SELECT count(*) FROM audit_entries WHERE id = :id"
        assert (await connection.execute(text(count), {"id": entry.id})).scalar() == 1
        for sql in (
            "UPDATE audit_entries SET outcome = 'refused' WHERE id = :id",
            "DELETE FROM audit_entries WHERE id = :id",
            "TRUNCATE audit_entries",
        ):
            assert "permission denied" in await _refused(connection, sql, id=entry.id)
        # Another tenant's entry is refused by row-level security.
        other = world.b.seeded.tenant.id
        assert "row-level security" in await _refused(
            connection,
            "INSERT INTO audit_entries (tenant_id, id, actor_kind, action, target_kind, outcome, details,"
            " created_at) VALUES (:t, :i, 'system', 'tenant.update', 'tenant', 'succeeded', '{}', now())",
            t=other, i=uuid.uuid4(),
        )  # fmt: skip
    assert entry in await _list(factory, tenant)  # unchanged


async def _list(factory: PostgresUnitOfWorkFactory, tenant: uuid.UUID) -> list[AuditEntry]:
    async with factory.tenant(tenant, read_only=True) as uow:
        return list((await uow.audit.list(PageRequest(limit=10))).items)


async def test_deleting_the_tenant_deletes_its_log(factory: PostgresUnitOfWorkFactory, world: World) -> None:
    tenant = world.a.seeded.tenant.id
    async with factory.tenant(tenant) as uow:
        await record(uow, Principal.system(), AuditAction.TENANT_UPDATE, ("tenant", tenant), at=NOW)
        await uow.commit()
    async with factory.tenant(tenant) as uow:
        await uow.tenant.delete()
        await uow.commit()
    assert await _list(factory, tenant) == []
