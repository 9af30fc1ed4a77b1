"""Jobs, query logs, chat sessions and messages."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.model.chat import MessageRole
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.model.query_log import Feedback, SourceRef
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import (
    Seeded,
    all_pages,
    at,
    ids_by_creation,
    make_chat_session,
    make_document,
    make_job,
    make_message,
    make_query_log,
    make_user,
)

ALL = PageRequest(limit=1000)


async def test_jobs_round_trip(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    document = make_document(tenant_a.tenant.id)
    job = make_job(tenant_a.tenant.id, document_id=document.id)
    running = job.start(now=at(1), lease_until=at(60))
    done = running.finish(JobStatus.SUCCEEDED, now=at(2), summary="3 chunks")
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.jobs.add(job)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.jobs.get(job.id) == job
        assert await uow.jobs.get(uuid.uuid4()) is None
        await uow.jobs.update(running)
        await uow.jobs.update(done)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.jobs.get(job.id) == done
        with pytest.raises(NotFound):
            await uow.jobs.update(make_job(tenant_a.tenant.id))
        with pytest.raises(Conflict):
            await uow.jobs.add(job)


async def test_a_job_may_name_only_an_existing_document(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(NotFound, match="document"):
            await uow.jobs.add(make_job(tenant_a.tenant.id, document_id=uuid.uuid4()))
        await uow.jobs.add(make_job(tenant_a.tenant.id))  # no document at all is fine


async def test_jobs_page_in_creation_order_and_filter_by_document(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id = tenant_a.tenant.id
    first, second = make_document(tenant_id), make_document(tenant_id)
    targets = [first.id, second.id, None]
    jobs = [make_job(tenant_id, document_id=targets[i % 3], created_at=at(i // 2)) for i in range(9)]
    async with backend.tenant(tenant_id) as uow:
        await uow.documents.add(first)
        await uow.documents.add(second)
        for job in jobs:
            await uow.jobs.add(job)
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        assert [j.id for j in await all_pages(uow.jobs.list, limit=4)] == ids_by_creation(jobs)
        of_first = await all_pages(lambda page: uow.jobs.list(page, document_id=first.id), limit=2)
    assert [j.id for j in of_first] == ids_by_creation([j for j in jobs if j.document_id == first.id])
    assert len(of_first) == 3


async def test_query_logs_round_trip_and_page(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    logs = [make_query_log(tenant_a.tenant.id, created_at=at(-(i // 2))) for i in range(5)]
    answered = attrs.evolve(
        logs[0],
        response="Mostly meat.",
        sources=[SourceRef(uuid.uuid4(), 0.9)],
        latency_ms=12.5,
        quality_score=0.8,
        feedback=Feedback.THUMBS_UP,
        metadata={"model": "tiny"},
    )
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for log in logs:
            await uow.query_logs.add(log)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.query_logs.get(logs[0].id) == logs[0]
        assert await uow.query_logs.get(uuid.uuid4()) is None
        await uow.query_logs.update(answered)
        with pytest.raises(NotFound):
            await uow.query_logs.update(make_query_log(tenant_a.tenant.id))
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.query_logs.get(logs[0].id) == answered
        listed = await all_pages(uow.query_logs.list, limit=2)
    assert [q.id for q in listed] == ids_by_creation(logs)


async def test_chat_sessions_round_trip_and_filter_by_user(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id, owner_id = tenant_a.tenant.id, tenant_a.owner.id
    other = make_user()
    async with backend.system() as system:
        await system.users.add(other)
        await system.commit()
    other_user = other.id
    sessions = [
        make_chat_session(tenant_id, owner_id if i % 2 else other_user, created_at=at(i)) for i in range(5)
    ]
    async with backend.tenant(tenant_id) as uow:
        for session in sessions:
            await uow.chat_sessions.add(session)
        await uow.commit()
    retitled = attrs.evolve(sessions[0], title="Cats", updated_at=at(99))
    async with backend.tenant(tenant_id) as uow:
        assert await uow.chat_sessions.get(sessions[0].id) == sessions[0]
        await uow.chat_sessions.update(retitled)
        assert [s.id for s in await all_pages(uow.chat_sessions.list, limit=2)] == ids_by_creation(sessions)
        mine = await all_pages(lambda page: uow.chat_sessions.list(page, user_id=owner_id), limit=1)
        assert [s.id for s in mine] == [sessions[1].id, sessions[3].id]
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        assert await uow.chat_sessions.get(sessions[0].id) == retitled
        with pytest.raises(NotFound):
            await uow.chat_sessions.update(make_chat_session(tenant_id, owner_id))
        with pytest.raises(NotFound):
            await uow.chat_sessions.delete(uuid.uuid4())


async def test_messages_belong_to_an_existing_session_and_page_in_order(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id = tenant_a.tenant.id
    session, other = (
        make_chat_session(tenant_id, tenant_a.owner.id),
        make_chat_session(tenant_id, tenant_a.owner.id),
    )
    messages = [
        make_message(
            session, role=(MessageRole.USER, MessageRole.ASSISTANT)[i % 2], content=f"m{i}", created_at=at(i)
        )
        for i in range(5)
    ]
    async with backend.tenant(tenant_id) as uow:
        with pytest.raises(NotFound, match="chat session"):
            await uow.messages.add(make_message(session))
        await uow.chat_sessions.add(session)
        await uow.chat_sessions.add(other)
        for message in reversed(messages):
            await uow.messages.add(message)
        await uow.messages.add(make_message(other))
        with pytest.raises(Conflict):
            await uow.messages.add(messages[0])
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        listed = await all_pages(lambda page: uow.messages.list(session.id, page), limit=2)
        assert list((await uow.messages.list(uuid.uuid4(), ALL)).items) == []
    assert listed == messages


async def test_rows_naming_a_user_need_that_user(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    ghost = uuid.uuid4()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(NotFound):
            await uow.chat_sessions.add(make_chat_session(tenant_a.tenant.id, ghost))
        assert (await uow.chat_sessions.list(ALL)).items == ()
