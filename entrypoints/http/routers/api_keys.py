"""``/v1/tenants/{tenant}/api-keys``: issue (plaintext shown once), list and revoke keys.

Members manage their own keys; admins see and revoke everyone's. A key is capped
at a role no higher than its issuer's.
"""

from __future__ import annotations

import uuid

from fastapi import Response, status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import ApiKeyCreate, ApiKeyOut, ApiKeyPage, IssuedApiKeyOut

router = api_router(prefix="/tenants/{tenant}/api-keys", tag="api keys")


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 409, 422))
async def issue_api_key(
    tenant: TenantId, body: ApiKeyCreate, actor: CurrentPrincipal, rag: App
) -> IssuedApiKeyOut:
    """Issue a key acting as the caller in this tenant. Store `secret` now: it is never shown again."""
    issued = await rag.api_keys.issue(
        actor, tenant, name=body.name, role_cap=body.role_cap, expires_at=body.expires_at
    )
    return IssuedApiKeyOut(
        **ApiKeyOut.of(issued.key).model_dump(), secret=issued.plaintext, key=issued.plaintext
    )


@router.get("", responses=problems(401, 403, 404, 422))
async def list_api_keys(tenant: TenantId, page: Paging, actor: CurrentPrincipal, rag: App) -> ApiKeyPage:
    result = await rag.api_keys.list(actor, tenant, page)
    return ApiKeyPage(items=[ApiKeyOut.of(k) for k in result.items], next_cursor=result.next_cursor)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422))
async def revoke_api_key(tenant: TenantId, key_id: uuid.UUID, actor: CurrentPrincipal, rag: App) -> Response:
    """Revoke a key; it stays listed with `revoked_at`. Revoking twice is harmless."""
    await rag.api_keys.revoke(actor, tenant, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
