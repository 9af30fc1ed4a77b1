"""Memberships: the system directory (founding, "my tenants") and the tenant repository."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import (
    Seeded,
    all_pages,
    at,
    ids_by_creation,
    make_membership,
    make_tenant,
    make_user,
    seed_tenant,
)


async def _add_user(backend: UnitOfWorkFactory) -> uuid.UUID:
    user = make_user()
    async with backend.system() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user.id


async def test_founding_a_tenant_in_one_unit_of_work(backend: UnitOfWorkFactory) -> None:
    # The tenant and the user are still pending when the membership refers to them.
    tenant, user = make_tenant(), make_user()
    membership = make_membership(tenant.id, user.id, role=Role.OWNER)
    async with backend.system() as uow:
        await uow.tenants.add(tenant)
        await uow.users.add(user)
        await uow.memberships.add(membership)
        await uow.commit()
    async with backend.tenant(tenant.id) as tenant_uow:
        assert await tenant_uow.memberships.get(user.id) == membership


async def test_a_membership_needs_an_existing_tenant_and_user(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    user_id = await _add_user(backend)
    async with backend.system() as uow:
        with pytest.raises(NotFound, match="tenant"):
            await uow.memberships.add(make_membership(uuid.uuid4(), user_id))
        with pytest.raises(NotFound, match="user"):
            await uow.memberships.add(make_membership(tenant_a.tenant.id, uuid.uuid4()))
    async with backend.tenant(tenant_a.tenant.id) as tenant_uow:
        with pytest.raises(NotFound, match="user"):
            await tenant_uow.memberships.add(make_membership(tenant_a.tenant.id, uuid.uuid4()))


async def test_one_membership_per_tenant_and_user(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    again = make_membership(tenant_a.tenant.id, tenant_a.owner.id)
    async with backend.system() as uow:
        with pytest.raises(Conflict) as caught:
            await uow.memberships.add(again)
        assert caught.value.details["rule"] == "memberships.tenant_user"
        assert caught.value.message == (
            f"user {tenant_a.owner.id} is already a member of tenant {tenant_a.tenant.id}"
        )
    async with backend.tenant(tenant_a.tenant.id) as tenant_uow:
        with pytest.raises(Conflict):
            await tenant_uow.memberships.add(again)


async def test_list_for_user_spans_tenants_in_creation_order(backend: UnitOfWorkFactory) -> None:
    user_id = await _add_user(backend)
    tenants = [await seed_tenant(backend) for _ in range(3)]
    memberships = [
        make_membership(seeded.tenant.id, user_id, created_at=at(-i)) for i, seeded in enumerate(tenants)
    ]
    async with backend.system() as uow:
        for membership in memberships:
            await uow.memberships.add(membership)
        await uow.commit()
    async with backend.system() as uow:
        listed = await uow.memberships.list_for_user(user_id)
        assert list(await uow.memberships.list_for_user(uuid.uuid4())) == []
    assert [m.id for m in listed] == ids_by_creation(memberships)
    assert list(listed) == sorted(memberships, key=lambda m: (m.created_at, m.id))


async def test_tenant_memberships_crud(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    user_id = await _add_user(backend)
    membership = make_membership(tenant_a.tenant.id, user_id, role=Role.VIEWER)
    promoted = attrs.evolve(membership, role=Role.ADMIN, updated_at=at(1))
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.memberships.add(membership)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.memberships.get(user_id) == membership
        assert await uow.memberships.get(uuid.uuid4()) is None
        await uow.memberships.update(promoted)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.memberships.get(user_id) == promoted
        await uow.memberships.delete(user_id)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.memberships.get(user_id) is None
        assert await uow.memberships.get(tenant_a.owner.id) == tenant_a.membership


async def test_missing_memberships_cannot_be_updated_or_deleted(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    user_id = await _add_user(backend)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(NotFound):
            await uow.memberships.update(make_membership(tenant_a.tenant.id, user_id))
        with pytest.raises(NotFound):
            await uow.memberships.delete(user_id)


async def test_memberships_page_in_creation_order(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    added = [
        make_membership(tenant_a.tenant.id, await _add_user(backend), created_at=at(i // 3)) for i in range(6)
    ]
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for membership in added:
            await uow.memberships.add(membership)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        listed = await all_pages(uow.memberships.list, limit=4)
    assert [m.id for m in listed] == ids_by_creation([tenant_a.membership, *added])


async def test_count_active_owners_counts_only_active_owners(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id = tenant_a.tenant.id
    others = [
        make_membership(tenant_id, await _add_user(backend), role=Role.OWNER),
        make_membership(tenant_id, await _add_user(backend), role=Role.OWNER, is_active=False),
        make_membership(tenant_id, await _add_user(backend), role=Role.ADMIN),
    ]
    async with backend.tenant(tenant_id) as uow:
        assert await uow.memberships.count_active_owners() == 1
        for membership in others:
            await uow.memberships.add(membership)
        assert await uow.memberships.count_active_owners() == 2
        await uow.memberships.update(attrs.evolve(tenant_a.membership, role=Role.MEMBER))
        assert await uow.memberships.count_active_owners() == 1
