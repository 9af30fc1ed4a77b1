"""Tenants and users: the system repositories, and a tenant unit of work's own tenant row."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import (
    all_pages,
    at,
    ids_by_creation,
    make_tenant,
    make_user,
    seed_tenant,
)


async def test_a_committed_tenant_is_found_by_id_and_slug(backend: UnitOfWorkFactory) -> None:
    tenant = make_tenant(slug="acme")
    async with backend.system() as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    async with backend.system() as uow:
        assert await uow.tenants.get(tenant.id) == tenant
        assert await uow.tenants.get_by_slug("acme") == tenant
        assert await uow.tenants.get(uuid.uuid4()) is None
        assert await uow.tenants.get_by_slug("nobody") is None


async def test_a_taken_slug_is_a_conflict_naming_the_rule(backend: UnitOfWorkFactory) -> None:
    await seed_tenant(backend, slug="acme")
    async with backend.system() as uow:
        with pytest.raises(Conflict, match="slug 'acme'") as caught:
            await uow.tenants.add(make_tenant(slug="acme"))
    assert caught.value.details["rule"] == "tenants.slug"


async def test_a_slug_taken_earlier_in_the_same_unit_of_work_is_a_conflict(
    backend: UnitOfWorkFactory,
) -> None:
    async with backend.system() as uow:
        await uow.tenants.add(make_tenant(slug="twice"))
        with pytest.raises(Conflict):
            await uow.tenants.add(make_tenant(slug="twice"))


async def test_adding_an_existing_id_is_a_conflict(backend: UnitOfWorkFactory) -> None:
    seeded = await seed_tenant(backend)
    async with backend.system() as uow:
        with pytest.raises(Conflict):
            await uow.tenants.add(attrs.evolve(seeded.tenant, slug="another-slug"))
        with pytest.raises(Conflict):
            await uow.users.add(attrs.evolve(seeded.owner, email="other@example.com"))


async def test_tenants_page_in_creation_order(backend: UnitOfWorkFactory) -> None:
    # Pairs share a timestamp, so the id must break ties.
    tenants = [make_tenant(created_at=at(i // 2)) for i in range(7)]
    async with backend.system() as uow:
        for tenant in reversed(tenants):
            await uow.tenants.add(tenant)
        await uow.commit()
    async with backend.system() as uow:
        listed = await all_pages(uow.tenants.list, limit=3)
    assert [t.id for t in listed] == ids_by_creation(tenants)


async def test_the_current_tenant_reads_and_updates_its_own_row(
    backend: UnitOfWorkFactory,
) -> None:
    seeded = await seed_tenant(backend)
    renamed = attrs.evolve(seeded.tenant, name="Renamed", settings={"theme": "dark"}, updated_at=at(60))
    async with backend.tenant(seeded.tenant.id) as uow:
        assert uow.tenant_id == seeded.tenant.id
        assert await uow.tenant.get() == seeded.tenant
        await uow.tenant.update(renamed)
        await uow.commit()
    async with backend.system() as uow:
        assert await uow.tenants.get(seeded.tenant.id) == renamed


async def test_the_current_tenant_cannot_take_a_used_slug(backend: UnitOfWorkFactory) -> None:
    first, second = await seed_tenant(backend, slug="first"), await seed_tenant(backend)
    async with backend.tenant(second.tenant.id) as uow:
        with pytest.raises(Conflict, match="slug 'first'"):
            await uow.tenant.update(attrs.evolve(second.tenant, slug="first"))
    assert first.tenant.slug == "first"


async def test_a_unit_of_work_for_a_missing_tenant_finds_no_tenant(backend: UnitOfWorkFactory) -> None:
    ghost = make_tenant()
    async with backend.tenant(ghost.id) as uow:
        assert await uow.tenant.get() is None
        with pytest.raises(NotFound):
            await uow.tenant.update(ghost)
        with pytest.raises(NotFound):
            await uow.tenant.delete()


async def test_users_round_trip_and_are_found_by_email(backend: UnitOfWorkFactory) -> None:
    user = make_user(email="ada@example.com")
    async with backend.system() as uow:
        await uow.users.add(user)
        await uow.commit()
    later = attrs.evolve(user, full_name="Ada King", last_login_at=at(5), updated_at=at(5))
    async with backend.system() as uow:
        assert await uow.users.get(user.id) == user
        assert await uow.users.get_by_email("ada@example.com") == user
        assert await uow.users.get_by_email("nobody@example.com") is None
        await uow.users.update(later)
        await uow.commit()
    async with backend.system() as uow:
        assert await uow.users.get(user.id) == later


async def test_a_taken_email_is_a_conflict_on_add_and_on_update(backend: UnitOfWorkFactory) -> None:
    ada, bob = make_user(email="ada@example.com"), make_user(email="bob@example.com")
    async with backend.system() as uow:
        await uow.users.add(ada)
        await uow.users.add(bob)
        await uow.commit()
    async with backend.system() as uow:
        with pytest.raises(Conflict, match=r"ada@example\.com") as caught:
            await uow.users.add(make_user(email="ada@example.com"))
        assert caught.value.details["rule"] == "users.email"
        assert caught.value.message == "a user with email 'ada@example.com' already exists"
        with pytest.raises(Conflict):
            await uow.users.update(attrs.evolve(bob, email="ada@example.com"))


async def test_updating_a_missing_user_is_not_found(backend: UnitOfWorkFactory) -> None:
    async with backend.system() as uow:
        with pytest.raises(NotFound):
            await uow.users.update(make_user())


async def test_users_page_in_creation_order(backend: UnitOfWorkFactory) -> None:
    users = [make_user(created_at=at(i % 3)) for i in range(8)]
    async with backend.system() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()
    async with backend.system() as uow:
        listed = await all_pages(uow.users.list, limit=3)
        whole = await uow.users.list(PageRequest(limit=1000))
    assert whole.next_cursor is None
    assert [u.id for u in whole.items] == ids_by_creation(users)
    assert [u.id for u in listed] == ids_by_creation(users)
