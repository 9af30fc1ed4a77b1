"""Who is calling: a JWT from the password flow, or an API key.

Two security schemes are declared, so the OpenAPI document shows both:

- ``bearer``: ``Authorization: Bearer <token>``, where the token is a JWT from
  ``POST /v1/auth/token`` or an API key (``trk_...``), told apart by the key's marker;
- ``apiKey``: ``X-API-Key: trk_...``.

An API key resolves to a principal bound to its tenant and capped at its role (the
domain's ``ApiKeyService.verify``), so the tenant check in every use case keeps it
inside that tenant. Network credentials never yield a system principal.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from tenantrag.domain.errors import AuthenticationFailed, NotFound
from tenantrag.domain.model.api_key import KEY_MARKER
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.context import ApiContext, get_context

TOKEN_URL = "/v1/auth/token"  # noqa: S105 - a path, not a secret

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    scheme_name="bearer",
    description=(
        "A JWT from `POST /v1/auth/token` (OAuth2 password flow), or an API key (`trk_...`) "
        "sent as a bearer token."
    ),
    auto_error=False,
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    description="An API key (`trk_...`). It acts only in its own tenant, never above its role cap.",
    auto_error=False,
)


def is_api_key(credential: str) -> bool:
    return credential.startswith(f"{KEY_MARKER}_")


async def authenticate(
    request: Request,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The ``CurrentPrincipal`` dependency; it also declares both schemes in the OpenAPI document.

    Routes built by ``routing.api_router`` authenticate before the body is read (see
    ``authenticate_request``), so this usually finds the principal already resolved.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    principal = await _from_credentials(get_context(request), bearer, api_key)
    request.state.principal = principal
    return principal


async def authenticate_request(request: Request) -> Principal:
    """Authenticate from the headers alone, before anything parses the body.

    A caller without valid credentials then learns nothing from how a body is
    validated: every protected operation answers 401 first, whatever was sent.
    """
    return await authenticate(request, await bearer_scheme(request), await api_key_scheme(request))


async def _from_credentials(context: ApiContext, bearer: str | None, api_key: str | None) -> Principal:
    if bearer and api_key and bearer != api_key:
        raise AuthenticationFailed("send one credential: a bearer token or an X-API-Key header, not both")
    if api_key or (bearer and is_api_key(bearer)):
        return await context.rag.api_keys.verify(api_key or bearer or "")
    if bearer:
        return await _user_principal(context, bearer)
    raise AuthenticationFailed("authentication required: a bearer token or an X-API-Key header")


async def _user_principal(context: ApiContext, token: str) -> Principal:
    user_id = context.config.tokens.user_id(token)
    try:
        user = await context.rag.users.get(user_id)
    except NotFound:
        raise AuthenticationFailed("invalid or expired access token") from None
    if not user.is_active:
        raise AuthenticationFailed("invalid or expired access token")
    return Principal.user(user.id, is_superuser=user.is_superuser)
