"""ChatService.get: one session, for its own user only (the HTTP API's GET of a session)."""

from __future__ import annotations

import pytest

from tenantrag.domain.errors import NotFound, PermissionDenied
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import Workspace


async def test_a_session_is_read_by_its_user_and_the_system_only(
    app: TenantRag, workspace: Workspace
) -> None:
    member = workspace.actor(Role.MEMBER)
    session = await app.chat.start(member, workspace.tenant.id, title="Research")
    assert await app.chat.get(member, workspace.tenant.id, session.id) == session
    assert await app.chat.get(Principal.system(), workspace.tenant.id, session.id) == session
    for other in (workspace.actor(Role.OWNER), workspace.actor(Role.ADMIN), workspace.stranger):
        with pytest.raises(NotFound):
            await app.chat.get(other, workspace.tenant.id, session.id)
    with pytest.raises(NotFound):
        await app.chat.get(member, workspace.other_tenant.id, session.id)
    with pytest.raises(PermissionDenied):
        await app.chat.get(workspace.actor(Role.VIEWER), workspace.tenant.id, session.id)
    await app.chat.delete(member, workspace.tenant.id, session.id)
    with pytest.raises(NotFound):
        await app.chat.get(member, workspace.tenant.id, session.id)
