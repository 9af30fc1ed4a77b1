"""``/v1/tenants/{tenant}/invitations``: invite an email address, list and revoke invitations.

Members join by accepting (``/v1/me/invitations``). An invitation is answered the same
whether or not the address has an account, so inviting cannot tell who has one.
"""

from __future__ import annotations

import uuid

from fastapi import Response, status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.invitation_schemas import InvitationCreate, InvitationOut, InvitationPage
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router

router = api_router(prefix="/tenants/{tenant}/invitations", tag="members")


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 404, 422))
async def invite_member(
    tenant: TenantId, body: InvitationCreate, actor: CurrentPrincipal, rag: App
) -> InvitationOut:
    """Invite an email address with a role (admins and owners); inviting it again renews the invitation.

    The answer is the same whether or not the address has an account.
    """
    return InvitationOut.of(await rag.invitations.invite(actor, tenant, email=body.email, role=body.role))


@router.get("", responses=problems(401, 403, 404, 422))
async def list_invitations(
    tenant: TenantId, page: Paging, actor: CurrentPrincipal, rag: App
) -> InvitationPage:
    """The tenant's pending invitations (admins and owners)."""
    result = await rag.invitations.list(actor, tenant, page)
    return InvitationPage(items=[InvitationOut.of(i) for i in result.items], next_cursor=result.next_cursor)


@router.delete(
    "/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422)
)
async def revoke_invitation(
    tenant: TenantId, invitation_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> Response:
    await rag.invitations.revoke(actor, tenant, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
