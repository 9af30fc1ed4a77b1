"""``/v1/me``: the caller, how they authenticated, their tenants, and their password."""

from __future__ import annotations

from fastapi import Response, status

from tenantrag.domain.errors import AuthenticationFailed, NotFound, PermissionDenied
from tenantrag.entrypoints.http.account_schemas import PasswordChange
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


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=problems(400, 401, 403, 409, 422))
async def change_password(body: PasswordChange, actor: CurrentPrincipal, rag: App) -> Response:
    """Change the caller's password, given the current one (a wrong one is a 422 naming
    `current_password`). Signed in with a token only: an API key cannot change its user's password.
    Tokens already issued stay valid until they expire."""
    if actor.api_key_id is not None:
        raise PermissionDenied("an API key cannot change its user's password; sign in with the password")
    if actor.user_id is None:  # pragma: no cover - network credentials always name a user
        raise AuthenticationFailed("no user behind these credentials")
    await rag.users.change_password(
        actor.user_id, current_password=body.current_password, new_password=body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
