"""API keys: shown once, stored hashed, bound to a tenant, capped, revocable, expiring."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.domain.errors import AuthenticationFailed, NotFound, PermissionDenied
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tests.unit.usecases.workspace import Workspace


async def test_issue_and_verify(app: TenantRag, workspace: Workspace) -> None:
    issued = await app.api_keys.issue(
        workspace.actor(Role.MEMBER), workspace.tenant.id, name="ci", role_cap="viewer"
    )
    assert issued.plaintext.startswith(f"trk_{issued.key.prefix}_")
    assert issued.plaintext not in repr(issued)
    assert issued.plaintext.split("_", 2)[2] not in issued.key.secret_hash
    principal = await app.api_keys.verify(issued.plaintext)
    assert principal.user_id == workspace.users[Role.MEMBER].id
    assert principal.tenant_id == workspace.tenant.id
    assert principal.role_cap is Role.VIEWER
    await app.api_keys.verify(issued.plaintext)
    listed = await app.api_keys.list(workspace.actor(Role.MEMBER), workspace.tenant.id)
    [stored] = listed.items
    assert stored.usage_count == 2
    assert stored.last_used_at is not None


async def test_a_key_never_exceeds_its_cap(app: TenantRag, workspace: Workspace) -> None:
    issued = await app.api_keys.issue(
        workspace.actor(Role.OWNER), workspace.tenant.id, name="ro", role_cap="viewer"
    )
    principal = await app.api_keys.verify(issued.plaintext)
    hits = await app.search.search(principal, workspace.tenant.id, text="anything")
    assert list(hits) == []
    with pytest.raises(PermissionDenied):
        await app.ingestion.add_text(principal, workspace.tenant.id, filename="x.txt", text="x")
    with pytest.raises(PermissionDenied):
        await app.tenants.delete(principal, workspace.tenant.id)


async def test_nobody_issues_a_key_above_their_own_role(app: TenantRag, workspace: Workspace) -> None:
    with pytest.raises(PermissionDenied):
        await app.api_keys.issue(
            workspace.actor(Role.MEMBER), workspace.tenant.id, name="x", role_cap="admin"
        )
    with pytest.raises(PermissionDenied):
        await app.api_keys.issue(
            workspace.actor(Role.VIEWER), workspace.tenant.id, name="x", role_cap="viewer"
        )


async def test_a_key_acts_only_in_its_tenant(app: TenantRag, workspace: Workspace) -> None:
    # The owner of the Acme tenant also joins Globex; the Acme key still cannot reach Globex.
    await app.members.add(
        workspace.stranger, workspace.other_tenant.id, user_id=workspace.users[Role.OWNER].id, role="owner"
    )
    issued = await app.api_keys.issue(
        workspace.actor(Role.OWNER), workspace.tenant.id, name="acme", role_cap="owner"
    )
    principal = await app.api_keys.verify(issued.plaintext)
    with pytest.raises(NotFound):
        await app.documents.list(principal, workspace.other_tenant.id)
    with pytest.raises(PermissionDenied):
        await app.tenants.create(principal, name="Spin-off")
    assert [t.tenant.id for t in await app.tenants.list_mine(principal)] == [workspace.tenant.id]


async def test_revoked_expired_and_forged_keys_fail_alike(
    app: TenantRag, workspace: Workspace, clock: ManualClock
) -> None:
    member = workspace.actor(Role.MEMBER)
    revoked = await app.api_keys.issue(member, workspace.tenant.id, name="old")
    await app.api_keys.revoke(member, workspace.tenant.id, revoked.key.id)
    expiring = await app.api_keys.issue(
        member, workspace.tenant.id, name="short", expires_at=clock.now() + timedelta(hours=1)
    )
    assert (await app.api_keys.verify(expiring.plaintext)).api_key_id == expiring.key.id
    clock.advance(timedelta(hours=2))
    good = await app.api_keys.issue(member, workspace.tenant.id, name="good")
    forged = good.plaintext[:-4] + ("AAAA" if not good.plaintext.endswith("AAAA") else "BBBB")
    unknown = "trk_zzzzzzzzzzzz_" + "A" * 43
    for plaintext in (revoked.plaintext, expiring.plaintext, forged, unknown, "garbage", ""):
        with pytest.raises(AuthenticationFailed):
            await app.api_keys.verify(plaintext)
    assert (await app.api_keys.verify(good.plaintext)).api_key_id == good.key.id


async def test_a_key_dies_with_its_membership(app: TenantRag, workspace: Workspace) -> None:
    issued = await app.api_keys.issue(workspace.actor(Role.MEMBER), workspace.tenant.id, name="k")
    await app.members.remove(
        workspace.actor(Role.OWNER), workspace.tenant.id, workspace.users[Role.MEMBER].id
    )
    principal = await app.api_keys.verify(issued.plaintext)
    with pytest.raises(NotFound):
        await app.documents.list(principal, workspace.tenant.id)


async def test_admins_see_and_revoke_every_key_members_only_their_own(
    app: TenantRag, workspace: Workspace
) -> None:
    mine = await app.api_keys.issue(workspace.actor(Role.MEMBER), workspace.tenant.id, name="mine")
    theirs = await app.api_keys.issue(workspace.actor(Role.OWNER), workspace.tenant.id, name="theirs")
    member_view = await app.api_keys.list(workspace.actor(Role.MEMBER), workspace.tenant.id)
    assert [k.id for k in member_view.items] == [mine.key.id]
    admin_view = await app.api_keys.list(workspace.actor(Role.ADMIN), workspace.tenant.id)
    assert {k.id for k in admin_view.items} == {mine.key.id, theirs.key.id}
    with pytest.raises(NotFound):
        await app.api_keys.revoke(workspace.actor(Role.MEMBER), workspace.tenant.id, theirs.key.id)
    revoked = await app.api_keys.revoke(workspace.actor(Role.ADMIN), workspace.tenant.id, mine.key.id)
    assert revoked.revoked_at is not None


async def test_a_key_cannot_issue_keys_so_nothing_outlives_it(app: TenantRag, workspace: Workspace) -> None:
    """Issue 17: a key that expires in seconds minted one without expiry, which outlived it."""
    owner = workspace.actor(Role.OWNER)
    parent = await app.api_keys.issue(
        owner, workspace.tenant.id, name="short", role_cap=Role.OWNER,
        expires_at=app.api_keys.clock.now() + timedelta(seconds=4),
    )  # fmt: skip
    as_key = await app.api_keys.verify(parent.plaintext)
    with pytest.raises(PermissionDenied, match="an API key cannot issue API keys"):
        await app.api_keys.issue(as_key, workspace.tenant.id, name="child")
    with pytest.raises(PermissionDenied):
        await app.api_keys.issue(as_key, workspace.tenant.id, name="child", expires_at=parent.key.expires_at)
    listed = await app.api_keys.list(owner, workspace.tenant.id)
    assert [key.name for key in listed.items] == ["short"]
