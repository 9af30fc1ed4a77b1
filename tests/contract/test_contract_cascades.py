"""Deletes cascade as ON DELETE CASCADE does: documents, chat sessions, whole tenants."""

from __future__ import annotations

from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import (
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

ALL = PageRequest(limit=1000)


async def test_deleting_a_document_deletes_its_chunks_and_jobs(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id = tenant_a.tenant.id
    doomed, kept = make_document(tenant_id), make_document(tenant_id)
    doomed_job, kept_job, loose_job = (
        make_job(tenant_id, document_id=doomed.id),
        make_job(tenant_id, document_id=kept.id),
        make_job(tenant_id),
    )
    async with backend.tenant(tenant_id) as uow:
        await uow.documents.add(doomed)
        await uow.documents.add(kept)
        await uow.chunks.add_many([make_chunk(doomed, i) for i in range(3)] + [make_chunk(kept, 0)])
        for job in (doomed_job, kept_job, loose_job):
            await uow.jobs.add(job)
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        await uow.documents.delete(doomed.id)
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        assert list(await uow.chunks.list_for_document(doomed.id)) == []
        assert len(await uow.chunks.list_for_document(kept.id)) == 1
        assert await uow.chunks.count() == 1
        assert await uow.jobs.get(doomed_job.id) is None
        assert {j.id for j in (await uow.jobs.list(ALL)).items} == {kept_job.id, loose_job.id}


async def test_deleting_a_chat_session_deletes_its_messages(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id, user_id = tenant_a.tenant.id, tenant_a.owner.id
    doomed, kept = make_chat_session(tenant_id, user_id), make_chat_session(tenant_id, user_id)
    kept_message = make_message(kept)
    async with backend.tenant(tenant_id) as uow:
        await uow.chat_sessions.add(doomed)
        await uow.chat_sessions.add(kept)
        await uow.messages.add(make_message(doomed))
        await uow.messages.add(make_message(doomed))
        await uow.messages.add(kept_message)
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        await uow.chat_sessions.delete(doomed.id)
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        assert await uow.chat_sessions.get(doomed.id) is None
        assert list((await uow.messages.list(doomed.id, ALL)).items) == []
        assert list((await uow.messages.list(kept.id, ALL)).items) == [kept_message]


async def _fill(backend: UnitOfWorkFactory, seeded: Seeded) -> None:
    """Give a tenant one row of every kind."""
    tenant_id, user_id = seeded.tenant.id, seeded.owner.id
    document = make_document(tenant_id)
    session = make_chat_session(tenant_id, user_id)
    async with backend.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many([make_chunk(document, 0)])
        await uow.api_keys.add(make_api_key(tenant_id, user_id))
        await uow.jobs.add(make_job(tenant_id, document_id=document.id))
        await uow.query_logs.add(make_query_log(tenant_id))
        await uow.chat_sessions.add(session)
        await uow.messages.add(make_message(session))
        await uow.commit()


async def test_deleting_the_tenant_deletes_everything_it_owns(backend: UnitOfWorkFactory) -> None:
    doomed, kept = await seed_tenant(backend), await seed_tenant(backend)
    await _fill(backend, doomed)
    await _fill(backend, kept)
    async with backend.tenant(doomed.tenant.id) as uow:
        await uow.tenant.delete()
        await uow.commit()
    async with backend.tenant(doomed.tenant.id) as uow:
        assert await uow.tenant.get() is None
        assert list((await uow.memberships.list(ALL)).items) == []
        assert list((await uow.documents.list(ALL)).items) == []
        assert await uow.chunks.count() == 0
        assert list((await uow.api_keys.list(ALL)).items) == []
        assert list((await uow.jobs.list(ALL)).items) == []
        assert list((await uow.query_logs.list(ALL)).items) == []
        assert list((await uow.chat_sessions.list(ALL)).items) == []
    async with backend.system() as system:
        assert await system.tenants.get(doomed.tenant.id) is None
        assert await system.tenants.get_by_slug(doomed.tenant.slug) is None
        assert list(await system.memberships.list_for_user(doomed.owner.id)) == []
        assert await system.users.get(doomed.owner.id) == doomed.owner  # users are not the tenant's
    async with backend.tenant(kept.tenant.id) as uow:
        assert await uow.tenant.get() == kept.tenant
        assert len((await uow.memberships.list(ALL)).items) == 1
        assert len((await uow.documents.list(ALL)).items) == 1
        assert await uow.chunks.count() == 1
        assert len((await uow.api_keys.list(ALL)).items) == 1
        assert len((await uow.jobs.list(ALL)).items) == 1
        assert len((await uow.query_logs.list(ALL)).items) == 1
        sessions = (await uow.chat_sessions.list(ALL)).items
        assert len(sessions) == 1
        assert len((await uow.messages.list(sessions[0].id, ALL)).items) == 1


async def test_a_deleted_tenants_slug_and_key_prefixes_are_free_again(backend: UnitOfWorkFactory) -> None:
    doomed = await seed_tenant(backend, slug="reused")
    key = make_api_key(doomed.tenant.id, doomed.owner.id)
    async with backend.tenant(doomed.tenant.id) as uow:
        await uow.api_keys.add(key)
        await uow.commit()
    async with backend.tenant(doomed.tenant.id) as uow:
        await uow.tenant.delete()
        await uow.commit()
    again = await seed_tenant(backend, slug="reused")
    async with backend.tenant(again.tenant.id) as uow:
        await uow.api_keys.add(make_api_key(again.tenant.id, again.owner.id, prefix=key.prefix))
        await uow.commit()
    async with backend.system() as system:
        found = await system.api_keys.find_by_prefix(key.prefix)
    assert found is not None
    assert found.tenant_id == again.tenant.id
