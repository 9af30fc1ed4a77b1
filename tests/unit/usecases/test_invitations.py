"""Invitations through the use cases, on every backend: expiry, renewal, tenant deletion."""

from __future__ import annotations

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.model.invitation import INVITATION_LIFETIME
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import Workspace


async def test_an_expired_invitation_cannot_be_accepted_until_renewed(
    app: TenantRag, workspace: Workspace, clock: ManualClock
) -> None:
    admin = workspace.actor(Role.ADMIN)
    invitation = await app.invitations.invite(admin, workspace.tenant.id, email=workspace.outsider.email)
    assert invitation.expires_at == clock.now() + INVITATION_LIFETIME
    clock.advance(INVITATION_LIFETIME)
    with pytest.raises(Conflict, match="expired"):
        await app.invitations.accept(workspace.stranger, invitation.id)
    renewed = await app.invitations.invite(admin, workspace.tenant.id, email=workspace.outsider.email)
    assert (renewed.id, renewed.expires_at) == (invitation.id, clock.now() + INVITATION_LIFETIME)
    membership = await app.invitations.accept(workspace.stranger, invitation.id)
    assert (membership.user_id, membership.role) == (workspace.outsider.id, Role.MEMBER)
    # A member already: a second invitation can only be declined.
    again = await app.invitations.invite(admin, workspace.tenant.id, email=workspace.outsider.email)
    with pytest.raises(Conflict, match="already a member"):
        await app.invitations.accept(workspace.stranger, again.id)
    await app.invitations.decline(workspace.stranger, again.id)


async def test_invitations_go_with_their_tenant(app: TenantRag, workspace: Workspace) -> None:
    owner = workspace.actor(Role.OWNER)
    invitation = await app.invitations.invite(owner, workspace.tenant.id, email="later@example.com")
    await app.tenants.delete(owner, workspace.tenant.id)
    later = await app.users.register(email="later@example.com")
    assert await app.invitations.received(Principal.user(later.id)) == []
    with pytest.raises(NotFound):
        await app.invitations.accept(Principal.user(later.id), invitation.id)


async def test_a_user_registered_after_the_invitation_receives_it(
    app: TenantRag, workspace: Workspace
) -> None:
    invitation = await app.invitations.invite(
        workspace.actor(Role.OWNER), workspace.tenant.id, email="Newcomer@Example.com", role=Role.ADMIN
    )
    newcomer = await app.users.register(email="newcomer@example.com")
    received = await app.invitations.received(Principal.user(newcomer.id))
    assert [(r.invitation.id, r.tenant.id) for r in received] == [(invitation.id, workspace.tenant.id)]
    assert (await app.invitations.accept(Principal.user(newcomer.id), invitation.id)).role is Role.ADMIN
