"""Membership rules: who may manage whom, and the last owner."""

from __future__ import annotations

import pytest

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import PASSWORD, Workspace


async def newcomer(app: TenantRag, name: str = "new") -> str:
    user = await app.users.register(email=f"{name}@example.com", password=PASSWORD)
    return str(user.id)


@pytest.mark.parametrize(
    ("actor", "role", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.OWNER, Role.ADMIN, True),
        (Role.ADMIN, Role.MEMBER, True),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.ADMIN, Role.ADMIN, False),
        (Role.ADMIN, Role.OWNER, False),
        (Role.MEMBER, Role.VIEWER, False),
        (Role.VIEWER, Role.VIEWER, False),
    ],
)
async def test_who_may_add_whom(
    app: TenantRag, workspace: Workspace, actor: Role, role: Role, allowed: bool
) -> None:
    user_id = await newcomer(app)
    if allowed:
        added = await app.members.add(workspace.actor(actor), workspace.tenant.id, user_id=user_id, role=role)
        assert added.role is role
        assert (await app.members.get(workspace.actor(actor), workspace.tenant.id, user_id)).role is role
    else:
        with pytest.raises(PermissionDenied):
            await app.members.add(workspace.actor(actor), workspace.tenant.id, user_id=user_id, role=role)
        with pytest.raises(NotFound):
            await app.members.get(workspace.actor(Role.OWNER), workspace.tenant.id, user_id)


async def test_add_by_email_and_no_duplicates(app: TenantRag, workspace: Workspace) -> None:
    await newcomer(app, "carol")
    owner = workspace.actor(Role.OWNER)
    added = await app.members.add(owner, workspace.tenant.id, email="Carol@example.com", role="viewer")
    assert added.role is Role.VIEWER
    with pytest.raises(Conflict):
        await app.members.add(owner, workspace.tenant.id, email="carol@example.com", role="member")
    with pytest.raises(NotFound):
        await app.members.add(owner, workspace.tenant.id, email="ghost@example.com", role="member")
    with pytest.raises(InvalidInput):
        await app.members.add(owner, workspace.tenant.id, role="member")


async def test_admins_cannot_touch_admins_or_owners(app: TenantRag, workspace: Workspace) -> None:
    admin = workspace.actor(Role.ADMIN)
    other_admin = await newcomer(app, "second-admin")
    await app.members.add(workspace.actor(Role.OWNER), workspace.tenant.id, user_id=other_admin, role="admin")
    for target in (str(workspace.users[Role.OWNER].id), other_admin):
        with pytest.raises(PermissionDenied):
            await app.members.change_role(admin, workspace.tenant.id, target, Role.VIEWER)
        with pytest.raises(PermissionDenied):
            await app.members.remove(admin, workspace.tenant.id, target)
    promoted = await app.members.change_role(
        admin, workspace.tenant.id, workspace.users[Role.VIEWER].id, "member"
    )
    assert promoted.role is Role.MEMBER
    with pytest.raises(PermissionDenied):
        await app.members.change_role(admin, workspace.tenant.id, workspace.users[Role.MEMBER].id, "admin")


async def test_the_last_owner_stays(app: TenantRag, workspace: Workspace) -> None:
    owner = workspace.actor(Role.OWNER)
    owner_id = workspace.users[Role.OWNER].id
    with pytest.raises(Conflict, match="at least one active owner"):
        await app.members.change_role(owner, workspace.tenant.id, owner_id, Role.ADMIN)
    with pytest.raises(Conflict):
        await app.members.remove(owner, workspace.tenant.id, owner_id)
    with pytest.raises(Conflict):
        await app.members.set_active(owner, workspace.tenant.id, owner_id, False)
    assert (await app.members.get(owner, workspace.tenant.id, owner_id)).role is Role.OWNER

    second = workspace.users[Role.ADMIN].id
    await app.members.change_role(owner, workspace.tenant.id, second, Role.OWNER)
    demoted = await app.members.change_role(owner, workspace.tenant.id, owner_id, Role.MEMBER)
    assert demoted.role is Role.MEMBER
    async with app.uow.tenant(workspace.tenant.id) as uow:
        assert await uow.memberships.count_active_owners() == 1


async def test_members_may_leave_but_not_remove_others(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    with pytest.raises(PermissionDenied):
        await app.members.remove(member, workspace.tenant.id, workspace.users[Role.VIEWER].id)
    await app.members.remove(member, workspace.tenant.id, workspace.users[Role.MEMBER].id)
    with pytest.raises(NotFound):
        await app.tenants.get(member, workspace.tenant.id)


async def test_a_suspended_member_loses_access_but_keeps_the_role(
    app: TenantRag, workspace: Workspace
) -> None:
    owner = workspace.actor(Role.OWNER)
    viewer_id = workspace.users[Role.VIEWER].id
    await app.members.set_active(owner, workspace.tenant.id, viewer_id, False)
    with pytest.raises(NotFound):
        await app.tenants.get(workspace.actor(Role.VIEWER), workspace.tenant.id)
    restored = await app.members.set_active(owner, workspace.tenant.id, viewer_id, True)
    assert restored.role is Role.VIEWER
    assert (
        await app.tenants.get(workspace.actor(Role.VIEWER), workspace.tenant.id)
    ).id == workspace.tenant.id


async def test_listing_members_is_for_members(app: TenantRag, workspace: Workspace) -> None:
    page = await app.members.list(workspace.actor(Role.VIEWER), workspace.tenant.id)
    assert {m.user_id for m in page.items} == {u.id for u in workspace.users.values()}
    with pytest.raises(NotFound):
        await app.members.list(workspace.stranger, workspace.tenant.id)
    with pytest.raises(NotFound):
        await app.members.list(Principal.user(workspace.users[Role.OWNER].id), workspace.other_tenant.id)
