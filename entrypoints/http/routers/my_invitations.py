"""``/v1/me/invitations``: the signed-in user's invitations, accepted or declined.

Only a user signed in with a password (a JWT) answers invitations: an API key acts inside
its own tenant and cannot join another.
"""

from __future__ import annotations

import uuid

from fastapi import Response, status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal
from tenantrag.entrypoints.http.invitation_schemas import ReceivedInvitationOut
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import MemberOut

router = api_router(prefix="/me/invitations", tag="me")


@router.get("", responses=problems(401, 403))
async def my_invitations(actor: CurrentPrincipal, rag: App) -> list[ReceivedInvitationOut]:
    """The invitations addressed to your email, with the tenant each is for."""
    return [ReceivedInvitationOut.received(item) for item in await rag.invitations.received(actor)]


@router.post("/{invitation_id}/accept", responses=problems(401, 403, 404, 409, 422))
async def accept_invitation(invitation_id: uuid.UUID, actor: CurrentPrincipal, rag: App) -> MemberOut:
    """Join the tenant with the invitation's role (409 if it expired or you are a member already)."""
    return MemberOut.of(await rag.invitations.accept(actor, invitation_id))


@router.post(
    "/{invitation_id}/decline", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422)
)
async def decline_invitation(invitation_id: uuid.UUID, actor: CurrentPrincipal, rag: App) -> Response:
    await rag.invitations.decline(actor, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
