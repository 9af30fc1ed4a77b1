"""Registering, logging in, founding tenants, and what non-members can learn (nothing)."""

from __future__ import annotations

import attrs
import bcrypt
import pytest

from tenantrag.domain.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import PASSWORD, Workspace


async def test_register_normalises_email_and_hashes_the_password(app: TenantRag) -> None:
    user = await app.users.register(email="  Alice@Example.COM ", password="s3cret-enough", full_name="Alice")
    assert user.email == "alice@example.com"
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2")
    assert "s3cret-enough" not in user.password_hash
    assert await app.users.get_by_email("ALICE@example.com") == user


async def test_emails_are_unique_whatever_their_case(app: TenantRag) -> None:
    await app.users.register(email="bob@example.com", password="pw-123456")
    with pytest.raises(Conflict, match=r"bob@example\.com"):
        await app.users.register(email="BOB@example.com", password="other-pw")


async def test_authenticate_records_the_login(app: TenantRag, clock: object) -> None:
    user = await app.users.register(email="c@example.com", password=PASSWORD)
    logged_in = await app.users.authenticate(email="C@example.com", password=PASSWORD)
    assert logged_in.id == user.id
    assert logged_in.last_login_at is not None
    assert (await app.users.get(user.id)).last_login_at == logged_in.last_login_at


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("c@example.com", "wrong"),
        ("nobody@example.com", PASSWORD),
        ("not-an-email", PASSWORD),
        ("c@example.com", ""),
    ],
)
async def test_every_failed_login_looks_the_same(app: TenantRag, email: str, password: str) -> None:
    await app.users.register(email="c@example.com", password=PASSWORD)
    with pytest.raises(AuthenticationFailed) as raised:
        await app.users.authenticate(email=email, password=password)
    assert raised.value.message == "invalid email or password"


async def test_a_bcrypt_hash_is_upgraded_to_argon2_on_login(app: TenantRag) -> None:
    user = await app.users.register(email="legacy@example.com", password=None)
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    async with app.uow.system() as uow:
        await uow.users.update(attrs.evolve(user, password_hash=legacy))
        await uow.commit()
    await app.users.authenticate(email="legacy@example.com", password=PASSWORD)
    stored = await app.users.get(user.id)
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2")
    assert (await app.users.authenticate(email="legacy@example.com", password=PASSWORD)).id == user.id


async def test_a_user_without_password_cannot_log_in(app: TenantRag) -> None:
    await app.users.register(email="bot@example.com")
    with pytest.raises(AuthenticationFailed):
        await app.users.authenticate(email="bot@example.com", password="anything")


async def test_founding_a_tenant_makes_the_founder_its_owner(app: TenantRag) -> None:
    founder = await app.users.register(email="f@example.com", password=PASSWORD)
    actor = Principal.user(founder.id)
    tenant = await app.tenants.create(actor, name="Demo Workspace", settings={"language": "en"})
    assert tenant.slug == "demo-workspace"
    assert tenant.settings == {"language": "en"}
    mine = await app.tenants.list_mine(actor)
    assert [(t.tenant.id, t.role) for t in mine] == [(tenant.id, Role.OWNER)]
    assert (await app.members.get(actor, tenant.id, founder.id)).role is Role.OWNER


async def test_slugs_are_unique(app: TenantRag) -> None:
    founder = await app.users.register(email="f@example.com", password=PASSWORD)
    await app.tenants.create(Principal.user(founder.id), name="Acme")
    with pytest.raises(Conflict, match="acme"):
        await app.tenants.create(Principal.user(founder.id), name="ACME!")
    async with app.uow.system() as uow:
        page = await uow.tenants.list(PageRequest())
    assert len(page.items) == 1, "the failed create left nothing behind"


async def test_the_system_must_name_an_owner(app: TenantRag) -> None:
    with pytest.raises(InvalidInput) as raised:
        await app.tenants.create(Principal.system(), name="Nobody's")
    assert raised.value.field == "owner_id"


async def test_only_superusers_create_tenants_for_others(app: TenantRag) -> None:
    alice = await app.users.register(email="alice@example.com", password=PASSWORD)
    bob = await app.users.register(email="bob@example.com", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        await app.tenants.create(Principal.user(alice.id), name="For Bob", owner_id=bob.id)
    root = await app.users.register(email="root@example.com", password=PASSWORD, is_superuser=True)
    tenant = await app.tenants.create(
        Principal.user(root.id, is_superuser=True), name="For Bob", owner_id=bob.id
    )
    assert [t.tenant.id for t in await app.tenants.list_mine(Principal.user(bob.id))] == [tenant.id]


async def test_outsiders_cannot_tell_a_tenant_exists(app: TenantRag, workspace: Workspace) -> None:
    for ref in (workspace.tenant.id, str(workspace.tenant.id), workspace.tenant.slug):
        with pytest.raises(NotFound):
            await app.tenants.resolve(workspace.stranger, ref)
    with pytest.raises(NotFound):
        await app.tenants.resolve(workspace.stranger, "no-such-tenant")
    assert (
        await app.tenants.resolve(workspace.actor(Role.VIEWER), workspace.tenant.slug)
    ).id == workspace.tenant.id


async def test_renaming_needs_admin_and_keeps_the_slug(app: TenantRag, workspace: Workspace) -> None:
    with pytest.raises(PermissionDenied):
        await app.tenants.update(workspace.actor(Role.MEMBER), workspace.tenant.id, name="Mine now")
    renamed = await app.tenants.update(workspace.actor(Role.ADMIN), workspace.tenant.id, name="Acme Labs")
    assert renamed.name == "Acme Labs"
    assert renamed.slug == workspace.tenant.slug


async def test_only_owners_delete_a_tenant_and_everything_goes(app: TenantRag, workspace: Workspace) -> None:
    owner = workspace.actor(Role.OWNER)
    await app.ingestion.add_text(owner, workspace.tenant.id, filename="a.txt", text="alpha beta gamma")
    with pytest.raises(PermissionDenied):
        await app.tenants.delete(workspace.actor(Role.ADMIN), workspace.tenant.id)
    await app.tenants.delete(owner, workspace.tenant.id)
    with pytest.raises(NotFound):
        await app.tenants.get(owner, workspace.tenant.id)
    async with app.uow.tenant(workspace.tenant.id) as uow:
        assert await uow.chunks.count() == 0
        assert await uow.memberships.count_active_owners() == 0
    assert await app.tenants.list_mine(owner) == []


async def test_listing_every_tenant_is_for_privileged_callers(app: TenantRag, workspace: Workspace) -> None:
    with pytest.raises(PermissionDenied):
        await app.tenants.list_all(workspace.actor(Role.OWNER))
    page = await app.tenants.list_all(Principal.system())
    assert {t.id for t in page.items} == {workspace.tenant.id, workspace.other_tenant.id}
