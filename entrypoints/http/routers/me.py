"""``/v1/me``: the caller, how they authenticated, and their tenants."""

from __future__ import annotations

from tenantrag.domain.errors import AuthenticationFailed, NotFound
from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import Credential, MeOut, MyTenantOut, UserOut

router = api_router(prefix="/me", tag="me")


@router.get("", responses=problems(401))
async def get_me(actor: CurrentPrincipal, rag: App) -> MeOut:
    if actor.user_id is None:  # pragma: no cover - network credentials always name a user
        raise AuthenticationFailed("no user behind these credentials")
    try:
        user = await rag.users.get(actor.user_id)
    except NotFound:
        raise AuthenticationFailed("no user behind these credentials") from None
    credential = Credential(
        method="token" if actor.api_key_id is None else "api_key",
        tenant_id=actor.tenant_id,
        role_cap=actor.role_cap,
        api_key_id=actor.api_key_id,
    )
    return MeOut(user=UserOut.of(user), credential=credential)


@router.get("/tenants", responses=problems(401))
async def my_tenants(actor: CurrentPrincipal, rag: App) -> list[MyTenantOut]:
    """The tenants the caller belongs to, with its role in each; an API key sees only its own."""
    return [MyTenantOut.of(item) for item in await rag.tenants.list_mine(actor)]
