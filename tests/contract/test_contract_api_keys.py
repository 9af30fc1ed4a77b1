"""API keys: the tenant repository, and the directory that finds a key by its prefix."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import Seeded, all_pages, at, ids_by_creation, make_api_key


async def test_api_keys_round_trip(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    key = make_api_key(tenant_a.tenant.id, tenant_a.owner.id)
    used = attrs.evolve(key, last_used_at=at(10), usage_count=3)
    revoked = attrs.evolve(used, revoked_at=at(20))
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.api_keys.add(key)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.api_keys.get(key.id) == key
        assert await uow.api_keys.get(uuid.uuid4()) is None
        await uow.api_keys.update(used)
        await uow.api_keys.update(revoked)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.api_keys.get(key.id) == revoked


async def test_updating_a_missing_key_is_not_found(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(NotFound):
            await uow.api_keys.update(make_api_key(tenant_a.tenant.id, tenant_a.owner.id))


async def test_a_key_is_found_by_prefix_across_tenants(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    key_a = make_api_key(tenant_a.tenant.id, tenant_a.owner.id)
    key_b = make_api_key(tenant_b.tenant.id, tenant_b.owner.id)
    for key in (key_a, key_b):
        async with backend.tenant(key.tenant_id) as uow:
            await uow.api_keys.add(key)
            await uow.commit()
    async with backend.system() as system:
        assert await system.api_keys.find_by_prefix(key_a.prefix) == key_a
        assert await system.api_keys.find_by_prefix(key_b.prefix) == key_b
        assert await system.api_keys.find_by_prefix("zzzzzzzzzzzz") is None


async def test_a_prefix_is_unique_across_all_tenants(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    key = make_api_key(tenant_a.tenant.id, tenant_a.owner.id, prefix="abcdefabcdef")
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.api_keys.add(key)
        await uow.commit()
    async with backend.tenant(tenant_b.tenant.id) as uow:
        with pytest.raises(Conflict, match="abcdefabcdef") as caught:
            await uow.api_keys.add(make_api_key(tenant_b.tenant.id, tenant_b.owner.id, prefix="abcdefabcdef"))
        assert caught.value.details["rule"] == "api_keys.prefix"
        assert caught.value.message == "an API key with prefix 'abcdefabcdef' already exists"
    async with backend.tenant(tenant_a.tenant.id) as uow:
        other = make_api_key(tenant_a.tenant.id, tenant_a.owner.id)
        await uow.api_keys.add(other)
        with pytest.raises(Conflict):
            await uow.api_keys.update(attrs.evolve(other, prefix="abcdefabcdef"))


async def test_api_keys_page_in_creation_order(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    keys = [make_api_key(tenant_a.tenant.id, tenant_a.owner.id, created_at=at(-(i % 2))) for i in range(5)]
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for key in keys:
            await uow.api_keys.add(key)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        listed = await all_pages(uow.api_keys.list, limit=2)
    assert [k.id for k in listed] == ids_by_creation(keys)
