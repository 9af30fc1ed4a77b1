"""What the sync and async HTTP clients share: credentials, the base URL, and when to log in."""

from __future__ import annotations

from typing import Any

import attrs
import httpx

from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.http.schemas import TokenOut
from tenantrag.integrations import http_client_calls as calls
from tenantrag.integrations.http_client_calls import Call

DEFAULT_URL = "http://127.0.0.1:8000"


@attrs.define
class Credentials:
    """Who the client acts as: one of an API key, a bearer token, or an email and password."""

    api_key: str | None = attrs.field(default=None, repr=False)
    token: str | None = attrs.field(default=None, repr=False)
    email: str | None = None
    password: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if (self.email is None) != (self.password is None):
            raise InvalidInput(
                "password" if self.password is None else "email", "give an email and a password"
            )
        given = [self.api_key is not None, self.token is not None, self.email is not None]
        if sum(given) > 1:
            raise InvalidInput("credentials", "give one of api_key, token, or email and password")

    @property
    def logs_in(self) -> bool:
        return self.email is not None

    def headers(self) -> dict[str, str]:
        if self.api_key is not None:
            return {"X-API-Key": self.api_key}
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    def login(self) -> Call[TokenOut]:
        assert self.email is not None
        assert self.password is not None
        return calls.token(self.email, self.password)


class ClientBase:
    def __init__(self, base_url: str | httpx.URL, credentials: Credentials) -> None:
        self.base_url = str(base_url).rstrip("/")
        self.credentials = credentials

    def _url(self, call: Call[Any]) -> str:
        return self.base_url + call.path

    def _needs_token(self, call: Call[Any]) -> bool:
        return call.authenticated and self.credentials.logs_in and self.credentials.token is None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} {self.credentials!r}>"
