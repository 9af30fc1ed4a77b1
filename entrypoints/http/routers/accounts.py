"""``POST /v1/auth/signup``: anyone may create an account, when the deployment allows it.

Off by default (``ALLOW_SIGNUP``): operators create users (``tenantrag user create``). A new
account belongs to no tenant; it signs in with ``POST /v1/auth/token`` and may create one.
"""

from __future__ import annotations

from fastapi import status

from tenantrag.domain.errors import PermissionDenied
from tenantrag.domain.model.user import check_new_password
from tenantrag.entrypoints.http.account_schemas import SignUp
from tenantrag.entrypoints.http.dependencies import App, Config
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import UserOut

router = api_router(prefix="/auth", tag="auth")


@router.post("/signup", status_code=status.HTTP_201_CREATED, responses=problems(400, 403, 409, 422))
async def sign_up(body: SignUp, rag: App, config: Config) -> UserOut:
    """Create an account (403 unless the deployment allows sign-up: `ALLOW_SIGNUP`).

    An email already in use is a 409."""
    if not config.allow_signup:
        raise PermissionDenied("sign-up is off on this server; ask an operator for an account")
    check_new_password("password", body.password)  # the rule every interface applies
    user = await rag.users.register(email=body.email, password=body.password, full_name=body.full_name)
    return UserOut.of(user)
