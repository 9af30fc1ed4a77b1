"""Unit-of-work semantics: visibility, rollback, atomic commit, and the end of a unit of work.

Two units of work writing the same key at once: the second writer waits for the first
(PostgreSQL on the row's lock, SQLite on the write lock) and then fails that write with a
``Conflict``, like any other broken rule; its unit of work stays usable. The tests run the
second writer as a task and assert only the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import ReadOnlyUnitOfWork, UnitOfWorkFactory
from tenantrag.domain.search import VectorQuery
from tests.contract.factories import (
    Seeded,
    basis,
    make_chunk,
    make_document,
    make_membership,
    make_tenant,
    make_user,
)


class Boom(Exception):
    pass


async def _tenant_count(backend: UnitOfWorkFactory) -> int:
    async with backend.system() as uow:
        return len((await uow.tenants.list(PageRequest(limit=1000))).items)


async def test_nothing_is_visible_to_others_before_commit(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    async with backend.tenant(tenant_a.tenant.id) as writer:
        await writer.documents.add(document)
        await writer.chunks.add_many([make_chunk(document, 0)])
        async with backend.tenant(tenant_a.tenant.id) as reader:
            assert await reader.documents.get(document.id) is None
            assert list((await reader.documents.list(PageRequest())).items) == []
            assert await reader.chunks.count() == 0
            assert list(await reader.chunks.search(VectorQuery(embedding=basis(0)))) == []
        await writer.commit()
    async with backend.tenant(tenant_a.tenant.id) as reader:
        assert await reader.documents.get(document.id) == document
        assert await reader.chunks.count() == 1


async def test_a_unit_of_work_reads_its_own_writes(backend: UnitOfWorkFactory) -> None:
    tenant, user = make_tenant(slug="mine"), make_user(email="me@example.com")
    async with backend.system() as uow:
        await uow.tenants.add(tenant)
        await uow.users.add(user)
        assert await uow.tenants.get(tenant.id) == tenant
        assert await uow.tenants.get_by_slug("mine") == tenant
        assert await uow.users.get_by_email("me@example.com") == user
        assert [t.id for t in (await uow.tenants.list(PageRequest())).items] == [tenant.id]
        await uow.commit()
    document = make_document(tenant.id)
    chunk = make_chunk(document, 0, basis(3))
    async with backend.tenant(tenant.id) as tenant_uow:
        await tenant_uow.documents.add(document)
        await tenant_uow.chunks.add_many([chunk])
        assert await tenant_uow.documents.get(document.id) == document
        assert list(await tenant_uow.chunks.list_for_document(document.id)) == [chunk]
        hits = await tenant_uow.chunks.search(VectorQuery(embedding=basis(3)))
        assert [h.chunk_id for h in hits] == [chunk.id]
        await tenant_uow.documents.delete(document.id)
        assert await tenant_uow.documents.get(document.id) is None
        assert await tenant_uow.chunks.count() == 0


async def test_leaving_without_commit_rolls_back(backend: UnitOfWorkFactory) -> None:
    async with backend.system() as uow:
        await uow.tenants.add(make_tenant())
    async with backend.system() as uow:
        await uow.tenants.add(make_tenant())
        await uow.rollback()
    assert await _tenant_count(backend) == 0


async def test_an_exception_inside_the_block_rolls_back_and_propagates(backend: UnitOfWorkFactory) -> None:
    tenant = make_tenant()

    async def fail_midway() -> None:
        async with backend.system() as uow:
            await uow.tenants.add(tenant)
            raise Boom

    with pytest.raises(Boom):
        await fail_midway()
    async with backend.system() as uow:
        assert await uow.tenants.get(tenant.id) is None


async def test_a_rolled_back_delete_restores_everything_it_cascaded(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many([make_chunk(document, 0)])
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.tenant.delete()
        assert await uow.documents.get(document.id) is None
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.tenant.get() == tenant_a.tenant
        assert await uow.documents.get(document.id) == document
        assert await uow.chunks.count() == 1


async def test_a_failed_write_leaves_the_unit_of_work_usable(backend: UnitOfWorkFactory) -> None:
    before, after = make_tenant(), make_tenant()
    async with backend.system() as uow:
        await uow.tenants.add(before)
        with pytest.raises(Conflict):
            await uow.tenants.add(make_tenant(slug=before.slug))
        await uow.tenants.add(after)
        await uow.commit()
    async with backend.system() as uow:
        assert await uow.tenants.get(before.id) == before
        assert await uow.tenants.get(after.id) == after


Second = Callable[[Callable[[], Awaitable[None]]], Coroutine[Any, Any, None]]


async def interleave(first_commit: Callable[[], Awaitable[None]], second: Second) -> None:
    """Run ``second`` until it ends or reaches ``await checkpoint()``; commit the first unit
    of work; let ``second`` go on. Re-raises whatever ``second`` raised.

    A SQL backend may block the second writer on the first one's locks before it reaches
    the checkpoint; after a short wait the first commits anyway, which releases it.
    """
    reached, first_committed = asyncio.Event(), asyncio.Event()

    async def checkpoint() -> None:
        reached.set()
        await first_committed.wait()

    task = asyncio.create_task(second(checkpoint))
    waiter = asyncio.create_task(reached.wait())
    await asyncio.wait({task, waiter}, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    try:
        await first_commit()
    finally:
        first_committed.set()
        await asyncio.wait({task})
    task.result()


async def test_a_commit_that_conflicts_with_a_concurrent_commit_applies_nothing(
    backend: UnitOfWorkFactory,
) -> None:
    winner, loser = make_tenant(slug="contested"), make_tenant(slug="contested")
    bystander = make_user()
    async with backend.system() as first, backend.system() as second:
        await first.tenants.add(winner)

        async def second_work(checkpoint: Callable[[], Awaitable[None]]) -> None:
            await second.users.add(bystander)
            await second.tenants.add(loser)
            await checkpoint()
            await second.commit()

        with pytest.raises(Conflict, match="contested"):
            await interleave(first.commit, second_work)
    async with backend.system() as uow:
        assert await uow.tenants.get_by_slug("contested") == winner
        assert await uow.tenants.get(loser.id) is None
        assert await uow.users.get(bystander.id) is None


async def test_a_row_whose_parent_was_deleted_concurrently_is_not_committed(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    user = make_user()
    async with backend.system() as uow:
        await uow.users.add(user)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as deleter, backend.system() as adder:
        await deleter.tenant.delete()

        async def add_membership(checkpoint: Callable[[], Awaitable[None]]) -> None:
            await adder.memberships.add(make_membership(tenant_a.tenant.id, user.id))
            await checkpoint()
            await adder.commit()

        with pytest.raises((Conflict, NotFound)):
            await interleave(deleter.commit, add_membership)
    async with backend.system() as uow:
        assert await uow.tenants.get(tenant_a.tenant.id) is None
        assert list(await uow.memberships.list_for_user(user.id)) == []


async def test_a_delete_cascades_to_rows_committed_concurrently(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as deleter, backend.tenant(tenant_a.tenant.id) as adder:
        await deleter.documents.delete(document.id)

        async def add_chunk(_checkpoint: Callable[[], Awaitable[None]]) -> None:
            # Held until the delete commits (the document's row lock, or SQLite's write lock).
            await adder.chunks.add_many([make_chunk(document, 0)])
            await adder.commit()

        with contextlib.suppress(Conflict, NotFound):
            await interleave(deleter.commit, add_chunk)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.documents.get(document.id) is None
        assert await uow.chunks.count() == 0


async def test_a_unit_of_work_ends_with_commit(backend: UnitOfWorkFactory) -> None:
    uow = backend.system()
    with pytest.raises(RuntimeError):
        await uow.tenants.get_by_slug("before-entering")
    async with uow:
        await uow.tenants.add(make_tenant())
        await uow.commit()
        with pytest.raises(RuntimeError):
            await uow.tenants.get_by_slug("after-commit")
        with pytest.raises(RuntimeError):
            await uow.tenants.add(make_tenant())
        with pytest.raises(RuntimeError):
            await uow.commit()
        await uow.rollback()  # harmless
    with pytest.raises(RuntimeError):
        async with uow:
            pass
    assert await _tenant_count(backend) == 1


async def test_a_unit_of_work_ends_with_rollback(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.rollback()
        with pytest.raises(RuntimeError):
            await uow.documents.add(make_document(tenant_a.tenant.id))
        with pytest.raises(RuntimeError):
            await uow.commit()


async def test_a_write_that_meets_a_concurrent_commit_fails_alone(backend: UnitOfWorkFactory) -> None:
    taken, other = make_tenant(), make_tenant()
    async with backend.system() as first, backend.system() as second:
        await first.tenants.add(taken)

        async def second_work(checkpoint: Callable[[], Awaitable[None]]) -> None:
            with pytest.raises(Conflict):
                await second.tenants.add(make_tenant(slug=taken.slug))
            await second.tenants.add(other)  # the unit of work goes on, as after any Conflict
            await checkpoint()
            await second.commit()

        await interleave(first.commit, second_work)
    async with backend.system() as uow:
        assert await uow.tenants.get(taken.id) == taken
        assert await uow.tenants.get(other.id) == other


async def test_a_read_only_unit_of_work_reads_but_refuses_every_write(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    async with backend.tenant(tenant_a.tenant.id) as writer:
        await writer.documents.add(document)
        await writer.chunks.add_many([make_chunk(document, 0)])
        await writer.commit()
    chunks = [make_chunk(document, ordinal) for ordinal in range(1, 80)]  # the bulk path too
    async with backend.tenant(tenant_a.tenant.id, read_only=True) as reader:
        assert await reader.documents.get(document.id) == document
        assert [hit.document_id for hit in await reader.chunks.search(VectorQuery(embedding=basis(0)))] == [
            document.id
        ]
        with pytest.raises(ReadOnlyUnitOfWork):
            await reader.documents.add(make_document(tenant_a.tenant.id))
        with pytest.raises(ReadOnlyUnitOfWork):
            await reader.chunks.add_many(chunks)
        with pytest.raises(ReadOnlyUnitOfWork):
            await reader.documents.delete(document.id)
        # Refused before anything happened: the unit of work still reads.
        assert await reader.chunks.count() == 1
    async with backend.tenant(tenant_a.tenant.id) as reader:
        assert await reader.documents.get(document.id) == document
        assert await reader.chunks.count() == 1
