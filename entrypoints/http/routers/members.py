"""``/v1/tenants/{tenant}/members``: list, re-role and remove members.

Owners manage everyone; admins manage members and viewers; anyone may leave
(remove themself) except the last owner. Nobody is added here: users join by accepting an
invitation (``routers/invitations.py``), so no request can add someone unasked, nor learn
whether an address has an account.
"""

from __future__ import annotations

import uuid

from fastapi import Response, status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import MemberOut, MemberPage, MemberUpdate

router = api_router(prefix="/tenants/{tenant}/members", tag="members")


@router.get("", responses=problems(401, 404, 422))
async def list_members(tenant: TenantId, page: Paging, actor: CurrentPrincipal, rag: App) -> MemberPage:
    result = await rag.members.list(actor, tenant, page)
    return MemberPage(items=[MemberOut.of(m) for m in result.items], next_cursor=result.next_cursor)


@router.get("/{user_id}", responses=problems(401, 404, 422))
async def get_member(tenant: TenantId, user_id: uuid.UUID, actor: CurrentPrincipal, rag: App) -> MemberOut:
    return MemberOut.of(await rag.members.get(actor, tenant, user_id))


@router.patch("/{user_id}", responses=problems(400, 401, 403, 404, 409, 422))
async def change_role(
    tenant: TenantId, user_id: uuid.UUID, body: MemberUpdate, actor: CurrentPrincipal, rag: App
) -> MemberOut:
    """Change a member's role. A tenant keeps at least one owner (409)."""
    return MemberOut.of(await rag.members.change_role(actor, tenant, user_id, body.role))


@router.delete(
    "/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 409, 422)
)
async def remove_member(tenant: TenantId, user_id: uuid.UUID, actor: CurrentPrincipal, rag: App) -> Response:
    """Remove a member, or leave the tenant (your own user id)."""
    await rag.members.remove(actor, tenant, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
