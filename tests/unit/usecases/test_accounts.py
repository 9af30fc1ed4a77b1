"""Operators' account administration (rag.accounts) on both backends: list, disable and
enable, reset a password, delete without ever leaving a tenant ownerless."""

from __future__ import annotations

import asyncio

import pytest

from tenantrag.domain.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import PASSWORD

SYSTEM = Principal.system()
TRIALS = 15


async def test_only_operators_administer_accounts(app: TenantRag) -> None:
    ada = await app.users.register(email="ada@example.com", password=PASSWORD)
    boss = await app.users.register(email="boss@example.com", password=PASSWORD, is_superuser=True)
    for call in (
        app.accounts.list(Principal.user(ada.id)),
        app.accounts.set_active(Principal.user(ada.id), ada.id, active=False),
        app.accounts.delete(Principal.user(ada.id), ada.id),
        app.accounts.reset_password(Principal.user(ada.id), ada.id, new_password="another passphrase"),
    ):
        with pytest.raises(PermissionDenied, match="operators"):
            await call

    listed = await app.accounts.list(Principal.user(boss.id, is_superuser=True), PageRequest(limit=10))
    assert [user.email for user in listed.items] == ["ada@example.com", "boss@example.com"]


async def test_a_disabled_account_cannot_log_in_until_enabled(app: TenantRag) -> None:
    ada = await app.users.register(email="ada@example.com", password=PASSWORD)

    disabled = await app.accounts.set_active(SYSTEM, "ADA@example.com", active=False)
    assert not disabled.is_active
    with pytest.raises(AuthenticationFailed):
        await app.users.authenticate(email="ada@example.com", password=PASSWORD)

    enabled = await app.accounts.set_active(SYSTEM, ada.id, active=True)
    assert enabled.is_active
    assert (await app.users.authenticate(email="ada@example.com", password=PASSWORD)).id == ada.id


async def test_a_reset_password_replaces_the_old_one_and_follows_the_rules(app: TenantRag) -> None:
    await app.users.register(email="ada@example.com", password=PASSWORD)

    with pytest.raises(InvalidInput, match=r"new_password: must be at least 8 characters"):
        await app.accounts.reset_password(SYSTEM, "ada@example.com", new_password="x")
    await app.accounts.reset_password(SYSTEM, "ada@example.com", new_password="a brand new passphrase")

    with pytest.raises(AuthenticationFailed):
        await app.users.authenticate(email="ada@example.com", password=PASSWORD)
    assert await app.users.authenticate(email="ada@example.com", password="a brand new passphrase")


async def test_unknown_accounts_are_named(app: TenantRag) -> None:
    with pytest.raises(NotFound, match=r"nobody@example\.com"):
        await app.accounts.delete(SYSTEM, "nobody@example.com")
    with pytest.raises(InvalidInput, match="email"):
        await app.accounts.find(SYSTEM, "not an email")


async def test_deleting_a_user_takes_memberships_and_keys_but_keeps_documents(app: TenantRag) -> None:
    owner = await app.users.register(email="owner@example.com", password=PASSWORD)
    ada = await app.users.register(email="ada@example.com", password=PASSWORD)
    tenant = await app.tenants.create(Principal.user(owner.id), name="Acme")
    await app.members.add(Principal.user(owner.id), tenant.id, user_id=ada.id, role=Role.MEMBER)
    await app.api_keys.issue(Principal.user(ada.id), tenant.id, name="ci")
    document = await app.ingestion.add_text(
        Principal.user(ada.id), tenant.id, filename="notes.md", text="Notes that outlive their author."
    )

    await app.accounts.delete(SYSTEM, ada.id)

    with pytest.raises(NotFound):
        await app.accounts.find(SYSTEM, ada.id)
    members = (await app.members.list(SYSTEM, tenant.id, PageRequest(limit=10))).items
    assert [member.user_id for member in members] == [owner.id]
    assert not (await app.api_keys.list(SYSTEM, tenant.id, PageRequest(limit=10))).items
    kept = await app.documents.get(SYSTEM, tenant.id, document.id)
    assert kept.uploaded_by is None


async def test_the_only_owner_cannot_be_deleted(app: TenantRag) -> None:
    owner = await app.users.register(email="owner@example.com", password=PASSWORD)
    tenant = await app.tenants.create(Principal.user(owner.id), name="Acme")

    with pytest.raises(Conflict, match="only owner") as refused:
        await app.accounts.delete(SYSTEM, owner.id)

    assert refused.value.details["tenant_ids"] == [str(tenant.id)]
    assert (await app.accounts.find(SYSTEM, owner.id)).id == owner.id


async def test_deleting_two_owners_at_once_leaves_one_owner(app: TenantRag) -> None:
    first = await app.users.register(email="first@example.com", password=PASSWORD)
    for trial in range(TRIALS):
        second = await app.users.register(email=f"second-{trial}@example.com", password=PASSWORD)
        tenant = await app.tenants.create(Principal.user(first.id), name=f"Race {trial}")
        await app.members.add(Principal.user(first.id), tenant.id, user_id=second.id, role=Role.OWNER)

        # The user deletion and the other owner leaving race for the tenant's lock.
        outcomes = await asyncio.gather(
            app.accounts.delete(SYSTEM, second.id),
            app.members.remove(Principal.user(first.id), tenant.id, first.id),
            return_exceptions=True,
        )

        refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert len(refused) == 1, f"trial {trial}: {outcomes!r}"
        assert isinstance(refused[0], Conflict), repr(refused[0])
        members = (await app.members.list(SYSTEM, tenant.id, PageRequest(limit=10))).items
        assert [member.role for member in members if member.is_active] == [Role.OWNER], f"trial {trial}"
