"""Tenant isolation through every tenant port: tenant A's unit of work cannot see or
change tenant B's rows, and cannot write rows carrying B's tenant id."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import NotFound, PermissionDenied
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chat import ChatSession, Message
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import SearchFilter, VectorQuery
from tests.contract.factories import (
    Seeded,
    basis,
    make_api_key,
    make_chat_session,
    make_chunk,
    make_document,
    make_job,
    make_membership,
    make_message,
    make_query_log,
    make_user,
    seed_tenant,
)

ALL = PageRequest(limit=1000)


@attrs.frozen
class Estate:
    """One row of every kind, committed for one tenant."""

    seeded: Seeded
    member: Membership
    document: Document
    chunk: Chunk
    api_key: ApiKey
    job: Job
    log: QueryLog
    session: ChatSession
    message: Message

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.seeded.tenant.id


async def _estate(backend: UnitOfWorkFactory) -> Estate:
    seeded = await seed_tenant(backend)
    tenant_id, owner_id = seeded.tenant.id, seeded.owner.id
    user = make_user()
    async with backend.system() as system:
        await system.users.add(user)
        await system.commit()
    document = make_document(tenant_id, storage_key="shared/key", tags=["t"])
    session = make_chat_session(tenant_id, owner_id)
    estate = Estate(
        seeded=seeded,
        member=make_membership(tenant_id, user.id, role=Role.VIEWER),
        document=document,
        chunk=make_chunk(document, 0, basis(0)),
        api_key=make_api_key(tenant_id, owner_id),
        job=make_job(tenant_id, document_id=document.id),
        log=make_query_log(tenant_id),
        session=session,
        message=make_message(session),
    )
    async with backend.tenant(tenant_id) as uow:
        await uow.memberships.add(estate.member)
        await uow.documents.add(estate.document)
        await uow.chunks.add_many([estate.chunk])
        await uow.api_keys.add(estate.api_key)
        await uow.jobs.add(estate.job)
        await uow.query_logs.add(estate.log)
        await uow.chat_sessions.add(estate.session)
        await uow.messages.add(estate.message)
        await uow.commit()
    return estate


@pytest.fixture
async def a(backend: UnitOfWorkFactory) -> Estate:
    return await _estate(backend)


@pytest.fixture
async def b(backend: UnitOfWorkFactory) -> Estate:
    return await _estate(backend)


async def _assert_b_untouched(backend: UnitOfWorkFactory, b: Estate) -> None:
    async with backend.tenant(b.tenant_id) as uow:
        assert await uow.tenant.get() == b.seeded.tenant
        assert await uow.memberships.get(b.member.user_id) == b.member
        assert await uow.documents.get(b.document.id) == b.document
        assert list(await uow.chunks.list_for_document(b.document.id)) == [b.chunk]
        assert await uow.api_keys.get(b.api_key.id) == b.api_key
        assert await uow.jobs.get(b.job.id) == b.job
        assert await uow.query_logs.get(b.log.id) == b.log
        assert await uow.chat_sessions.get(b.session.id) == b.session
        assert list((await uow.messages.list(b.session.id, ALL)).items) == [b.message]


async def test_another_tenants_rows_cannot_be_read(backend: UnitOfWorkFactory, a: Estate, b: Estate) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        assert await uow.tenant.get() == a.seeded.tenant
        assert await uow.memberships.get(b.member.user_id) is None
        assert await uow.memberships.get(b.seeded.owner.id) is None
        assert await uow.documents.get(b.document.id) is None
        assert list(await uow.chunks.list_for_document(b.document.id)) == []
        assert await uow.api_keys.get(b.api_key.id) is None
        assert await uow.jobs.get(b.job.id) is None
        assert await uow.query_logs.get(b.log.id) is None
        assert await uow.chat_sessions.get(b.session.id) is None


async def test_another_tenants_rows_are_not_listed_or_counted(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        assert {m.id for m in (await uow.memberships.list(ALL)).items} == {
            a.seeded.membership.id,
            a.member.id,
        }
        assert await uow.memberships.count_active_owners() == 1
        assert [d.id for d in (await uow.documents.list(ALL)).items] == [a.document.id]
        assert [d.id for d in (await uow.documents.list(ALL, tag="t")).items] == [a.document.id]
        assert await uow.chunks.count() == 1
        assert [k.id for k in (await uow.api_keys.list(ALL)).items] == [a.api_key.id]
        assert [j.id for j in (await uow.jobs.list(ALL)).items] == [a.job.id]
        assert list((await uow.jobs.list(ALL, document_id=b.document.id)).items) == []
        assert [q.id for q in (await uow.query_logs.list(ALL)).items] == [a.log.id]
        assert [s.id for s in (await uow.chat_sessions.list(ALL)).items] == [a.session.id]
        assert list((await uow.chat_sessions.list(ALL, user_id=b.seeded.owner.id)).items) == []
        assert list((await uow.messages.list(b.session.id, ALL)).items) == []


async def test_search_never_returns_another_tenants_chunks(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        # B's chunk matches the query exactly, A's too; only A's may come back.
        hits = await uow.chunks.search(VectorQuery(embedding=basis(0), k=1000))
        assert [h.chunk_id for h in hits] == [a.chunk.id]
        only_b = SearchFilter.from_json({"document_id": {"$in": [str(b.document.id)]}})
        assert list(await uow.chunks.search(VectorQuery(embedding=basis(0), filter=only_b))) == []


async def test_another_tenants_rows_cannot_be_updated(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        with pytest.raises(NotFound):
            await uow.tenant.update(attrs.evolve(b.seeded.tenant, name="Hijacked"))
        with pytest.raises(NotFound):
            await uow.memberships.update(attrs.evolve(b.member, role=Role.OWNER))
        with pytest.raises(NotFound):
            await uow.documents.update(attrs.evolve(b.document, title="Hijacked"))
        with pytest.raises(NotFound):
            await uow.api_keys.update(attrs.evolve(b.api_key, name="Hijacked"))
        with pytest.raises(NotFound):
            await uow.jobs.update(attrs.evolve(b.job, summary="Hijacked"))
        with pytest.raises(NotFound):
            await uow.query_logs.update(attrs.evolve(b.log, response="Hijacked"))
        with pytest.raises(NotFound):
            await uow.chat_sessions.update(attrs.evolve(b.session, title="Hijacked"))
        await uow.commit()
    await _assert_b_untouched(backend, b)


async def test_another_tenants_rows_cannot_be_deleted(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        with pytest.raises(NotFound):
            await uow.memberships.delete(b.member.user_id)
        with pytest.raises(NotFound):
            await uow.documents.delete(b.document.id)
        assert await uow.chunks.delete_for_document(b.document.id) == 0
        with pytest.raises(NotFound):
            await uow.chat_sessions.delete(b.session.id)
        await uow.commit()
    await _assert_b_untouched(backend, b)


async def test_own_rows_cannot_be_moved_to_another_tenant(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        with pytest.raises(PermissionDenied):
            await uow.documents.update(attrs.evolve(a.document, tenant_id=b.tenant_id))
        with pytest.raises(PermissionDenied):
            await uow.api_keys.update(attrs.evolve(a.api_key, tenant_id=b.tenant_id))
        with pytest.raises(PermissionDenied):
            await uow.jobs.update(attrs.evolve(a.job, tenant_id=b.tenant_id))
        with pytest.raises(PermissionDenied):
            await uow.query_logs.update(attrs.evolve(a.log, tenant_id=b.tenant_id))
        with pytest.raises(PermissionDenied):
            await uow.chat_sessions.update(attrs.evolve(a.session, tenant_id=b.tenant_id))
        with pytest.raises(PermissionDenied):
            await uow.memberships.update(attrs.evolve(a.member, tenant_id=b.tenant_id))


async def test_rows_of_another_tenant_cannot_be_added(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    b_id = b.tenant_id
    async with backend.tenant(a.tenant_id) as uow:
        with pytest.raises(PermissionDenied):
            await uow.memberships.add(make_membership(b_id, a.member.user_id))
        with pytest.raises(PermissionDenied):
            await uow.documents.add(make_document(b_id))
        with pytest.raises(PermissionDenied):
            await uow.chunks.add_many([make_chunk(b.document, 1)])
        with pytest.raises(PermissionDenied):
            await uow.api_keys.add(make_api_key(b_id, b.seeded.owner.id))
        with pytest.raises(PermissionDenied):
            await uow.jobs.add(make_job(b_id))
        with pytest.raises(PermissionDenied):
            await uow.query_logs.add(make_query_log(b_id))
        with pytest.raises(PermissionDenied):
            await uow.chat_sessions.add(make_chat_session(b_id, b.seeded.owner.id))
        with pytest.raises(PermissionDenied):
            await uow.messages.add(make_message(b.session))
        await uow.commit()
    await _assert_b_untouched(backend, b)
    async with backend.tenant(b_id) as uow:
        assert await uow.chunks.count() == 1
        assert len((await uow.documents.list(ALL)).items) == 1


async def test_own_rows_cannot_point_at_another_tenants_rows(
    backend: UnitOfWorkFactory, a: Estate, b: Estate
) -> None:
    async with backend.tenant(a.tenant_id) as uow:
        with pytest.raises(NotFound):
            await uow.chunks.add_many([make_chunk(b.document, 1, tenant_id=a.tenant_id)])
        with pytest.raises(NotFound):
            await uow.jobs.add(make_job(a.tenant_id, document_id=b.document.id))
        with pytest.raises(NotFound):
            await uow.messages.add(make_message(b.session, tenant_id=a.tenant_id))
        assert await uow.chunks.count() == 1
