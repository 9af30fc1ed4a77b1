"""Authentication: the password flow, JWT checks, API keys in both headers, /v1/me."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.context import ApiContext
from tests.http.helpers import SECRET, assert_problem
from tests.http.world import World

PASSWORD = "correct horse battery staple"


def _claims(user_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "aud": "tenantrag",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_password_flow_issues_a_token_that_authenticates(
    client: httpx.AsyncClient, rag: TenantRag
) -> None:
    user = await rag.users.register(email="login@example.com", password=PASSWORD)
    response = await client.post(
        "/v1/auth/token", data={"username": "LOGIN@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    me = await client.get("/v1/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["id"] == str(user.id)
    assert me.json()["credential"] == {
        "method": "token",
        "tenant_id": None,
        "role_cap": None,
        "api_key_id": None,
    }


async def test_a_failed_login_is_a_401_that_does_not_say_why(
    client: httpx.AsyncClient, rag: TenantRag
) -> None:
    await rag.users.register(email="login@example.com", password=PASSWORD)
    for username, password in (
        ("login@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ):
        response = await client.post("/v1/auth/token", data={"username": username, "password": password})
        assert_problem(response, 401, "authentication_failed")
        assert response.json()["detail"] == "invalid email or password"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_token_endpoint_requires_its_form_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/auth/token", data={"username": "a@example.com"})
    assert_problem(response, 422, "invalid_input", field="password")


async def test_protected_routes_answer_401_without_credentials(
    client: httpx.AsyncClient, world: World
) -> None:
    for path in ("/v1/me", "/v1/me/tenants", f"/v1/tenants/{world.tenant.id}/documents"):
        response = await client.get(path)
        assert_problem(response, 401, "authentication_failed")
        assert response.headers["www-authenticate"] == 'Bearer realm="tenantrag"'


FORGERIES: dict[str, Callable[[uuid.UUID], str]] = {
    "expired": lambda uid: jwt.encode(_claims(uid, exp=datetime.now(UTC) - timedelta(seconds=1)), SECRET),
    "wrong audience": lambda uid: jwt.encode(_claims(uid, aud="another-service"), SECRET),
    "no audience": lambda uid: jwt.encode(_claims(uid, aud=None), SECRET),
    "no exp": lambda uid: jwt.encode(_claims(uid, exp=None), SECRET),
    "no iat": lambda uid: jwt.encode(_claims(uid, iat=None), SECRET),
    "no sub": lambda uid: jwt.encode(_claims(uid, sub=None), SECRET),
    "sub not a user id": lambda uid: jwt.encode(_claims(uid, sub="not-a-uuid"), SECRET),
    "unknown user": lambda uid: jwt.encode(_claims(uuid.uuid4()), SECRET),
    "wrong key": lambda uid: jwt.encode(_claims(uid), "another secret, of a reasonable length"),
    "other algorithm": lambda uid: jwt.encode(_claims(uid), SECRET, algorithm="HS512"),
    "alg none": lambda uid: jwt.encode(_claims(uid), "", algorithm="none"),  # "" is no key
    "tampered payload": lambda uid: _tamper(jwt.encode(_claims(uid), SECRET)),
    "garbage": lambda uid: "not.a.jwt",
}


async def test_bad_tokens_are_refused(client: httpx.AsyncClient, world: World) -> None:
    owner = world.users[Role.OWNER].id
    good = await client.get(
        f"/v1/tenants/{world.tenant.id}", headers=_bearer(jwt.encode(_claims(owner), SECRET))
    )
    assert good.status_code == 200, good.text
    for name, forge in FORGERIES.items():
        response = await client.get(f"/v1/tenants/{world.tenant.id}", headers=_bearer(forge(owner)))
        assert response.status_code == 401, name
        assert_problem(response, 401, "authentication_failed")


def _tamper(token: str) -> str:
    """Swap the payload for another user's, keeping the original signature."""
    header, _payload, signature = token.split(".")
    other = jwt.encode(_claims(uuid.uuid4()), SECRET).split(".")[1]
    return f"{header}.{other}.{signature}"


async def test_a_deactivated_user_s_token_stops_working(
    client: httpx.AsyncClient, world: World, context: ApiContext
) -> None:
    import attrs

    user = world.users[Role.MEMBER]
    headers = world.as_role(Role.MEMBER)
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    async with context.rag.uow.system() as uow:
        await uow.users.update(attrs.evolve(user, is_active=False))
        await uow.commit()
    assert_problem(await client.get("/v1/me", headers=headers), 401, "authentication_failed")


async def test_an_api_key_authenticates_in_either_header(client: httpx.AsyncClient, world: World) -> None:
    key = await world.api_key(world.users[Role.MEMBER], world.tenant, Role.VIEWER)
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        me = await client.get("/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        credential = me.json()["credential"]
        assert credential["method"] == "api_key"
        assert credential["tenant_id"] == str(world.tenant.id)
        assert credential["role_cap"] == "viewer"
        tenants = await client.get("/v1/me/tenants", headers=headers)
        assert [(t["tenant"]["id"], t["role"]) for t in tenants.json()] == [(str(world.tenant.id), "viewer")]


async def test_revoked_malformed_and_conflicting_keys_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world.users[Role.OWNER]
    key = await world.api_key(owner, world.tenant, Role.ADMIN)
    other_key = await world.api_key(owner, world.tenant, Role.ADMIN)
    path = f"/v1/tenants/{world.tenant.id}"
    both = {"X-API-Key": key, "Authorization": f"Bearer {other_key}"}
    assert_problem(await client.get(path, headers=both), 401, "authentication_failed")
    same = {"X-API-Key": key, "Authorization": f"Bearer {key}"}
    assert (await client.get(path, headers=same)).status_code == 200
    assert_problem(await client.get(path, headers={"X-API-Key": "trk_nope"}), 401, "authentication_failed")
    assert_problem(
        await client.get(path, headers={"X-API-Key": key[:-2] + "xx"}), 401, "authentication_failed"
    )
    key_id = (await world.rag.api_keys.list(Principal.user(owner.id), world.tenant.id)).items[0].id
    revoked = await client.delete(f"{path}/api-keys/{key_id}", headers=world.as_role(Role.OWNER))
    assert revoked.status_code == 204
    assert_problem(await client.get(path, headers={"X-API-Key": key}), 401, "authentication_failed")


async def test_my_tenants_lists_each_membership_with_its_role(
    client: httpx.AsyncClient, world: World
) -> None:
    await world.rag.members.add(
        Principal.user(world.outsider.id),
        world.other.id,
        user_id=world.users[Role.VIEWER].id,
        role=Role.ADMIN,
    )
    response = await client.get("/v1/me/tenants", headers=world.as_role(Role.VIEWER))
    assert response.status_code == 200
    assert [(t["tenant"]["slug"], t["role"]) for t in response.json()] == [
        ("acme-research", "viewer"),
        ("globex", "admin"),
    ]
