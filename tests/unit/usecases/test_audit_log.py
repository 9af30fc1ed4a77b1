"""The audit log through the use cases, on every backend: what is recorded, by whom, how it
is filtered and paged, who may read it, and that a change that rolls back records nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.audit_entry import ActorKind, AuditAction, AuditEntry, Outcome
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.audit import audit_filter, record
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import Workspace


async def _actions(app: TenantRag, workspace: Workspace, **where: Any) -> list[AuditAction]:
    admin = workspace.actor(Role.ADMIN)
    page = await app.audit.list(admin, workspace.tenant.id, PageRequest(limit=100), audit_filter(**where))
    return [entry.action for entry in page.items]


async def test_sensitive_operations_are_recorded_with_actor_target_and_details(
    app: TenantRag, workspace: Workspace, clock: ManualClock
) -> None:
    owner, admin = workspace.actor(Role.OWNER), workspace.actor(Role.ADMIN)
    tenant = workspace.tenant.id
    # The workspace's three additions come first, by the owner.
    assert await _actions(app, workspace) == [AuditAction.MEMBER_ADD] * 3
    start = clock.advance(timedelta(minutes=1))
    await app.members.change_role(admin, tenant, workspace.users[Role.VIEWER].id, Role.MEMBER)
    await app.members.set_active(admin, tenant, workspace.users[Role.VIEWER].id, False)
    issued = await app.api_keys.issue(admin, tenant, name="ci")
    await app.api_keys.revoke(owner, tenant, issued.key.id)
    invitation = await app.invitations.invite(admin, tenant, email="new@example.com", role=Role.VIEWER)
    await app.invitations.revoke(admin, tenant, invitation.id)
    await app.tenants.update(owner, tenant, name="Acme Labs", settings={"b": 1, "a": 2})
    document = await app.ingestion.add_text(admin, tenant, filename="a.txt", text="to be deleted")
    await app.documents.delete(admin, tenant, document.id)
    await app.members.remove(owner, tenant, workspace.users[Role.VIEWER].id)

    page = await app.audit.list(admin, tenant, PageRequest(limit=100), audit_filter(since=start))
    entries = page.items
    assert [e.action for e in entries] == [
        AuditAction.MEMBER_UPDATE, AuditAction.MEMBER_UPDATE, AuditAction.API_KEY_ISSUE,
        AuditAction.API_KEY_REVOKE, AuditAction.INVITATION_CREATE, AuditAction.INVITATION_REVOKE,
        AuditAction.TENANT_UPDATE, AuditAction.DOCUMENT_DELETE, AuditAction.MEMBER_REMOVE,
    ]  # fmt: skip
    assert all(e.tenant_id == tenant and e.outcome is Outcome.SUCCEEDED for e in entries)
    assert all(e.created_at == start for e in entries)
    role_change, suspension, issue, revoke, invite, _, rename, deletion, removal = entries
    viewer = workspace.users[Role.VIEWER].id
    assert (role_change.actor_kind, role_change.actor_id) == (ActorKind.USER, workspace.users[Role.ADMIN].id)
    assert (role_change.target_kind, role_change.target_id) == ("user", viewer)
    assert role_change.details == {"role": "member", "previous_role": "viewer"}
    assert suspension.details == {"is_active": False}
    assert (issue.target_kind, issue.target_id) == ("api_key", issued.key.id)
    assert issue.details == {"name": "ci", "role_cap": "member", "prefix": issued.key.prefix}
    assert revoke.actor_id == workspace.users[Role.OWNER].id
    assert invite.details == {"email": "new@example.com", "role": "viewer"}
    assert rename.details == {"name": "Acme Labs", "settings_keys": ["a", "b"]}
    assert (deletion.target_kind, deletion.target_id) == ("document", document.id)
    assert (removal.target_id, removal.details) == (viewer, {"role": "member"})


async def test_filters_and_pages(app: TenantRag, workspace: Workspace, clock: ManualClock) -> None:
    admin, tenant = workspace.actor(Role.ADMIN), workspace.tenant.id
    first = clock.advance(timedelta(hours=1))
    await app.api_keys.issue(admin, tenant, name="one")
    second = clock.advance(timedelta(hours=1))
    await app.api_keys.issue(admin, tenant, name="two")
    assert await _actions(app, workspace, action="api_key.issue") == [AuditAction.API_KEY_ISSUE] * 2
    assert await _actions(app, workspace, since=first, until=second) == [AuditAction.API_KEY_ISSUE]
    assert (
        await _actions(app, workspace, actor_id=workspace.users[Role.ADMIN].id)
        == [AuditAction.API_KEY_ISSUE] * 2
    )
    assert await _actions(app, workspace, actor_kind="system") == []
    assert await _actions(app, workspace, outcome="refused") == []
    # Keyset pages: the five entries, two at a time, each once, oldest first.
    seen: list[AuditEntry] = []
    cursor: str | None = None
    while True:
        page = await app.audit.list(admin, tenant, PageRequest(limit=2, after=cursor))
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len({e.id for e in seen}) == 5
    assert seen == sorted(seen, key=lambda e: (e.created_at, e.id))
    with pytest.raises(InvalidInput, match="action"):
        audit_filter(action="tenant.explode")


async def test_only_admins_and_owners_read_the_log(app: TenantRag, workspace: Workspace) -> None:
    tenant = workspace.tenant.id
    assert (await app.audit.list(workspace.actor(Role.OWNER), tenant)).items
    for role in (Role.MEMBER, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            await app.audit.list(workspace.actor(role), tenant)
    with pytest.raises(NotFound):
        await app.audit.list(workspace.stranger, tenant)
    # Another tenant's log holds nothing of this one.
    other = await app.audit.list(workspace.stranger, workspace.other_tenant.id)
    assert other.items == ()


async def test_a_change_that_does_not_commit_records_nothing(app: TenantRag, workspace: Workspace) -> None:
    owner, tenant = workspace.actor(Role.OWNER), workspace.tenant.id
    before = await _actions(app, workspace)
    # Refused (the last owner): the entry would have been in the same transaction.
    with pytest.raises(Conflict):
        await app.members.change_role(owner, tenant, workspace.users[Role.OWNER].id, Role.ADMIN)
    # Recorded, then rolled back.
    async with app.uow.tenant(tenant) as uow:
        await record(uow, owner, AuditAction.TENANT_UPDATE, ("tenant", tenant), at=app.audit.clock.now())
        await uow.rollback()
    assert await _actions(app, workspace) == before


async def test_an_api_key_is_recorded_as_the_actor(app: TenantRag, workspace: Workspace) -> None:
    tenant = workspace.tenant.id
    issued = await app.api_keys.issue(workspace.actor(Role.ADMIN), tenant, name="bot", role_cap=Role.ADMIN)
    key = await app.api_keys.verify(issued.plaintext)
    await app.invitations.invite(key, tenant, email="bot-invite@example.com")
    entry = (await app.audit.list(Principal.system(), tenant, PageRequest(limit=100))).items[-1]
    assert (entry.actor_kind, entry.actor_id, entry.action) == (
        ActorKind.API_KEY, issued.key.id, AuditAction.INVITATION_CREATE,
    )  # fmt: skip


async def test_refusals_are_recorded_in_their_own_transaction(app: TenantRag, workspace: Workspace) -> None:
    tenant = workspace.tenant.id
    admin, member = workspace.actor(Role.ADMIN), workspace.actor(Role.MEMBER)
    owner_id = workspace.users[Role.OWNER].id
    with pytest.raises(PermissionDenied):
        await app.members.change_role(admin, tenant, owner_id, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        await app.invitations.invite(member, tenant, email="x@example.com")
    with pytest.raises(PermissionDenied):
        await app.tenants.update(member, tenant, name="Mine now")
    key = await app.api_keys.verify((await app.api_keys.issue(admin, tenant, name="k")).plaintext)
    with pytest.raises(PermissionDenied):
        await app.api_keys.issue(key, tenant, name="child")
    # A stranger is told the tenant does not exist, and nothing is recorded for them.
    with pytest.raises(NotFound):
        await app.tenants.update(workspace.stranger, tenant, name="Theirs")
    page = await app.audit.list(admin, tenant, PageRequest(limit=100), audit_filter(outcome="refused"))
    refused = [(e.action, e.actor_id, e.target_id, e.details["code"]) for e in page.items]
    assert refused == [
        (AuditAction.MEMBER_UPDATE, workspace.users[Role.ADMIN].id, owner_id, "permission_denied"),
        (AuditAction.INVITATION_CREATE, workspace.users[Role.MEMBER].id, None, "permission_denied"),
        (AuditAction.TENANT_UPDATE, workspace.users[Role.MEMBER].id, tenant, "permission_denied"),
        (AuditAction.API_KEY_ISSUE, key.api_key_id, None, "permission_denied"),
    ]
    assert all(e.details["reason"] for e in page.items)
    # The refused changes themselves did not happen.
    assert (await app.members.get(admin, tenant, owner_id)).role is Role.OWNER
    assert (await app.tenants.get(admin, tenant)).name == workspace.tenant.name
