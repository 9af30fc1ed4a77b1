"""Every tenant route answers a tenant the caller cannot see exactly as a missing one (issue 17).

The red-team found ``GET /v1/tenants/<slug>`` answering 404 with the tenant's real id for a
tenant the caller could not see, and with the slug for a missing one, on all 30 routes. Here
every operation under ``/v1/tenants/{tenant}`` in the OpenAPI document is called for an unseen
tenant and for a missing one, by slug and by id, as a JWT and as an API key of another tenant:
the status and the whole problem body must be the same once the reference itself is set aside,
and nothing names the unseen tenant's id.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tenantrag.domain.policy import Role
from tests.http.world import Headers, World

MISSING_SLUG = "no-such-tenant-anywhere"
MISSING_ID = uuid.UUID("0190c0de-0000-7000-8000-000000000000")


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    paths = app.openapi()["paths"]
    return [
        (method.upper(), path.removeprefix("/v1/tenants/{tenant}"))
        for path, operations in paths.items()
        if path.startswith("/v1/tenants/{tenant}")
        for method in operations
    ]


async def _call(
    client: httpx.AsyncClient, method: str, path: str, ref: str, headers: Headers
) -> httpx.Response:
    filled = re.sub(r"\{[a-z_]+\}", str(uuid.UUID(int=7)), path)
    url = f"/v1/tenants/{ref}{filled}"
    if path.endswith("/upload"):
        return await client.post(url, files={"file": ("a.md", b"# A\ntext")}, headers=headers)
    body: dict[str, Any] | None = {} if method in ("POST", "PATCH") else None
    return await client.request(method, url, json=body, headers=headers)


def _shape(response: httpx.Response, ref: str) -> tuple[int, str]:
    return response.status_code, response.text.replace(ref, "<ref>")


async def test_an_unseen_tenant_answers_like_a_missing_one_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    unseen = world.other  # the outsider's tenant: nobody here is a member
    callers = {"jwt": world.as_role(Role.OWNER), "key": await world.key_as(Role.OWNER)}
    operations = _operations(app)
    assert len(operations) >= 30
    for method, path in operations:
        for kind, headers in callers.items():
            for unseen_ref, missing_ref in ((unseen.slug, MISSING_SLUG), (str(unseen.id), str(MISSING_ID))):
                hidden = await _call(client, method, path, unseen_ref, headers)
                missing = await _call(client, method, path, missing_ref, headers)
                where = f"{method} {path} as {kind} by {'slug' if unseen_ref == unseen.slug else 'id'}"
                assert _shape(hidden, unseen_ref) == _shape(missing, missing_ref), where
                assert hidden.status_code in (404, 422), (where, hidden.text)
                if unseen_ref == unseen.slug:
                    assert str(unseen.id) not in hidden.text, where


async def test_a_taken_slug_says_only_that_it_is_not_available(
    client: httpx.AsyncClient, world: World
) -> None:
    taken = await client.post(
        "/v1/tenants", json={"name": "Copycat", "slug": world.other.slug}, headers=world.as_role(Role.VIEWER)
    )
    assert taken.status_code == 409
    assert taken.json()["detail"] == f"the slug {world.other.slug!r} is not available; choose another"
    assert str(world.other.id) not in taken.text
    assert world.other.name not in taken.text
