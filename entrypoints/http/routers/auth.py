"""``POST /v1/auth/token``: the OAuth2 password flow, answering with a JWT."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from tenantrag.domain.errors import AuthenticationFailed
from tenantrag.entrypoints.http.dependencies import App, Config
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import TokenOut

router = api_router(prefix="/auth", tag="auth")


@router.post("/token", responses=problems(400, 401, 422, 429))
async def issue_token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], rag: App, config: Config
) -> TokenOut:
    """Exchange an email (as `username`) and password for a bearer token.

    Wrong emails and wrong passwords are answered alike, so the endpoint does not
    reveal which emails have accounts. Repeated failures for one account from one
    client address, or for many accounts from one address, are answered 429 with
    `Retry-After` (the limits are settings) before any password is checked.
    """
    address = request.client.host if request.client is not None else "unknown"
    throttle = config.login_throttle
    await throttle.check(form.username, address)
    try:
        user = await rag.users.authenticate(email=form.username, password=form.password)
    except AuthenticationFailed:
        await throttle.failed(form.username, address)
        raise
    await throttle.succeeded(form.username, address)
    issued = config.tokens.issue(user.id)
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)
