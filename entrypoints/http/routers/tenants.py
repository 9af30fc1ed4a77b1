"""``/v1/tenants``: found, read, rename and delete a tenant."""

from __future__ import annotations

from fastapi import Response, status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import TenantCreate, TenantOut, TenantUpdate

router = api_router(prefix="/tenants", tag="tenants")


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 409, 422))
async def create_tenant(body: TenantCreate, actor: CurrentPrincipal, rag: App) -> TenantOut:
    """Create a tenant; the caller becomes its owner. API keys cannot create tenants (403)."""
    tenant = await rag.tenants.create(actor, name=body.name, slug=body.slug, settings=body.settings)
    return TenantOut.of(tenant)


@router.get("/{tenant}", responses=problems(401, 404, 422))
async def get_tenant(tenant: TenantId, actor: CurrentPrincipal, rag: App) -> TenantOut:
    return TenantOut.of(await rag.tenants.get(actor, tenant))


@router.patch("/{tenant}", responses=problems(400, 401, 403, 404, 422))
async def update_tenant(tenant: TenantId, body: TenantUpdate, actor: CurrentPrincipal, rag: App) -> TenantOut:
    """Rename a tenant or replace its settings (admins and owners). The slug never changes."""
    return TenantOut.of(await rag.tenants.update(actor, tenant, name=body.name, settings=body.settings))


@router.delete("/{tenant}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422))
async def delete_tenant(tenant: TenantId, actor: CurrentPrincipal, rag: App) -> Response:
    """Delete a tenant and everything it owns (owners only)."""
    await rag.tenants.delete(actor, tenant)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
