"""PostgreSQL-only tests: each gets a new database migrated to head, on the session's server.

``world`` seeds two tenants, A and B, with a row in every tenant table, through the
backend; the isolation tests then attack B's rows from raw SQL bound to A, as the
runtime role, on a connection that logged in as a superuser (the test server's
``postgres``), which is the case isolation must survive.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import attrs
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.postgres import PostgresOptions, PostgresUnitOfWorkFactory, open_postgres
from tenantrag.adapters.postgres.engine import create_postgres_engine
from tenantrag.domain.model.audit_entry import AuditEntry
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.evaluation_run import EvaluationRun
from tenantrag.domain.model.invitation import Invitation
from tests.contract.factories import (
    DIMENSION,
    Seeded,
    make_api_key,
    make_chat_session,
    make_chunk,
    make_document,
    make_job,
    make_message,
    make_query_log,
    seed_tenant,
)

pytestmark = pytest.mark.postgres

ROLE = PostgresOptions().runtime_role


@pytest.fixture
def url(postgres_database: Callable[[int], str]) -> str:
    return postgres_database(DIMENSION)


@pytest.fixture
async def factory(url: str) -> AsyncIterator[PostgresUnitOfWorkFactory]:
    opened = await open_postgres(url, DIMENSION, migrate=False)
    try:
        yield opened
    finally:
        await opened.dispose()


@pytest.fixture
async def raw(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the same database that logs in as the test server's superuser."""
    engine = create_postgres_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@attrs.frozen
class TenantRows:
    seeded: Seeded
    document_id: uuid.UUID
    chunk_id: uuid.UUID


@attrs.frozen
class World:
    a: TenantRows
    b: TenantRows


async def fill(factory: PostgresUnitOfWorkFactory, seeded: Seeded, *, tags: tuple[str, ...]) -> TenantRows:
    tenant_id, user_id = seeded.tenant.id, seeded.owner.id
    document = make_document(tenant_id, tags=tags, metadata={"team": "x"})
    chunk = make_chunk(document, 0, metadata={"team": "x"})
    session = make_chat_session(tenant_id, user_id)
    version = DocumentVersion(
        id=uuid.uuid4(), tenant_id=tenant_id, document_id=document.id, version=1,
        content_sha256="0" * 64, storage_key=f"documents/{document.id}/v1/a.txt",
        created_at=document.created_at, updated_at=document.created_at,
    )  # fmt: skip
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.versions.add(version)
        await uow.chunks.add_many([chunk])
        await uow.api_keys.add(make_api_key(tenant_id, user_id))
        await uow.jobs.add(make_job(tenant_id, document_id=document.id))
        await uow.query_logs.add(make_query_log(tenant_id))
        await uow.chat_sessions.add(session)
        await uow.messages.add(make_message(session))
        await uow.repository(EvaluationRun).add(
            EvaluationRun(
                id=uuid.uuid4(), tenant_id=tenant_id, user_id=user_id, created_at=document.created_at
            )
        )
        invitation = Invitation(
            id=uuid.uuid4(), tenant_id=tenant_id, email="invitee@example.com", role="member",
            invited_by=user_id, created_at=document.created_at, expires_at=document.created_at,
        )  # fmt: skip
        await uow.repository(Invitation).add(invitation)
        await uow.audit.add(
            AuditEntry(
                id=uuid.uuid4(), tenant_id=tenant_id, actor_kind="user", actor_id=user_id,
                action="member.add", target_kind="user", target_id=user_id, created_at=document.created_at,
            )
        )  # fmt: skip
        await uow.commit()
    return TenantRows(seeded, document.id, chunk.id)


@pytest.fixture
async def world(factory: PostgresUnitOfWorkFactory) -> World:
    a = await fill(factory, await seed_tenant(factory), tags=("shared",))
    b = await fill(factory, await seed_tenant(factory), tags=("shared",))
    return World(a, b)
