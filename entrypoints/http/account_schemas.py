"""Bodies of the caller's own account: sign-up and password change (see schemas.py for the
conventions every body follows). Passwords are checked by the use case (the rules are the
domain's), only bounded here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tenantrag.domain.model.user import MAX_PASSWORD_LENGTH
from tenantrag.domain.validation import MAX_NAME_LENGTH
from tenantrag.entrypoints.http.schemas import RequestBody

Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class SignUp(RequestBody):
    email: Annotated[str, Field(min_length=3, max_length=320, description="Also the login name.")]
    password: Password
    full_name: Annotated[str, Field(max_length=MAX_NAME_LENGTH)] = ""


class PasswordChange(RequestBody):
    current_password: Password = Field(description="The password in use now.")
    new_password: Password
