"""Every role's allowed and denied operations, through JWTs and capped API keys, and cross-tenant.

For each tenant operation, every caller is tried in turn: a user in each role (JWT),
the owner's API key capped at each role, an outsider (JWT), and the outsider's API
key for their own tenant. Allowed callers get the success status, members below the
operation's role get 403, and everyone outside the tenant gets 404 (as if it did
not exist). The minimum roles mirror ``domain/policy.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx
import pytest

from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tests.http.helpers import assert_problem
from tests.http.world import Headers, World

Target = Callable[[World], Awaitable[str]]


_emails = itertools.count()


async def _new_user(world: World) -> str:
    user = await world.rag.users.register(email=f"new-{next(_emails)}@example.com")
    return str(user.id)


async def _member_with(role: Role, world: World) -> str:
    user_id = await _new_user(world)
    await world.rag.members.add(world.owner, world.tenant.id, user_id=user_id, role=role)
    return user_id


async def _new_member(world: World) -> str:
    return await _member_with(Role.MEMBER, world)


async def _new_viewer(world: World) -> str:
    return await _member_with(Role.VIEWER, world)


async def _document(world: World) -> str:
    document = await world.rag.ingestion.add_text(
        world.owner, world.tenant.id, filename="cats.md", text="Cats purr when they are content."
    )
    return str(document.id)


async def _job(world: World) -> str:
    document = await _document(world)
    jobs = await world.rag.jobs.list(world.owner, world.tenant.id, document_id=document)
    return str(jobs.items[0].id)


@attrs.frozen
class Op:
    name: str
    minimum: Role
    method: str
    path: str
    body: dict[str, Any] | Callable[[str], dict[str, Any]] | None = None
    target: Target | None = None
    success: int = 200
    files: dict[str, Any] | None = None
    # Refused (403) to every API key, whatever its cap: a key cannot issue keys.
    keys_refused: bool = False

    async def call(self, client: httpx.AsyncClient, world: World, headers: Headers) -> httpx.Response:
        target = await self.target(world) if self.target is not None else ""
        url = f"/v1/tenants/{world.tenant.id}{self.path.format(target=target)}"
        body = self.body(target) if callable(self.body) else self.body
        if self.files is not None:
            return await client.request(self.method, url, headers=headers, files=self.files, data=body)
        return await client.request(self.method, url, headers=headers, json=body)


OPS = [
    Op("read tenant", Role.VIEWER, "GET", ""),
    Op("rename tenant", Role.ADMIN, "PATCH", "", body={"name": "Acme Renamed"}),
    Op("list members", Role.VIEWER, "GET", "/members"),
    Op("read member", Role.VIEWER, "GET", "/members/{target}", target=_new_member),
    Op("invite member", Role.ADMIN, "POST", "/invitations", body={"email": "a@example.com", "role": "member"},
       success=201),
    Op("list invitations", Role.ADMIN, "GET", "/invitations"),
    Op("change role", Role.ADMIN, "PATCH", "/members/{target}", body={"role": "viewer"}, target=_new_member),
    Op("remove member", Role.ADMIN, "DELETE", "/members/{target}", target=_new_viewer, success=204),
    Op("list api keys", Role.MEMBER, "GET", "/api-keys"),
    Op("issue api key", Role.MEMBER, "POST", "/api-keys", body={"name": "ci", "role_cap": "viewer"},
       success=201, keys_refused=True),
    Op("add document", Role.MEMBER, "POST", "/documents", body={"filename": "a.md", "text": "Dogs bark."},
       success=202),
    Op("upload document", Role.MEMBER, "POST", "/documents/upload", files={"file": ("b.md", b"# B\nbirds")},
       success=202),
    Op("list versions", Role.VIEWER, "GET", "/documents/{target}/versions", target=_document),
    Op("list documents", Role.VIEWER, "GET", "/documents"),
    Op("read document", Role.VIEWER, "GET", "/documents/{target}", target=_document),
    Op("list chunks", Role.VIEWER, "GET", "/documents/{target}/chunks", target=_document),
    Op("delete document", Role.MEMBER, "DELETE", "/documents/{target}", target=_document, success=204),
    Op("search", Role.VIEWER, "POST", "/search", body={"text": "cats purr", "k": 3}),
    Op("record query log", Role.VIEWER, "POST", "/query-logs", body={"query": "cats?"}, success=201),
    Op("list query logs", Role.ADMIN, "GET", "/query-logs"),
    Op("list jobs", Role.VIEWER, "GET", "/jobs"),
    Op("read job", Role.VIEWER, "GET", "/jobs/{target}", target=_job),
    Op("start chat", Role.MEMBER, "POST", "/chat/sessions", body={"title": "hi"}, success=201),
    Op("list chats", Role.MEMBER, "GET", "/chat/sessions"),
]  # fmt: skip


def _expected(op: Op, role: Role, kind: str) -> int:
    if kind == "key" and op.keys_refused:
        return 403
    return op.success if role.rank >= op.minimum.rank else 403


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
async def test_each_caller_gets_what_the_policy_allows(
    client: httpx.AsyncClient, world: World, op: Op
) -> None:
    for role in Role:
        for kind, headers in (("jwt", world.as_role(role)), ("key", await world.key_as(role))):
            response = await op.call(client, world, headers)
            expected = _expected(op, role, kind)
            assert response.status_code == expected, f"{op.name} as {role} via {kind}: {response.text}"
            if expected == 403:
                assert_problem(response, 403, "permission_denied")
    # Outsiders, with a token or with a key of their own tenant, cannot tell the tenant exists.
    outsider_key = {"X-API-Key": await world.api_key(world.outsider, world.other, Role.OWNER)}
    for headers in (world.as_outsider, outsider_key):
        assert_problem(await op.call(client, world, headers), 404, "not_found")


async def test_a_key_acts_only_in_its_tenant_even_when_its_user_belongs_to_both(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world.users[Role.OWNER]
    await world.rag.members.add(
        Principal.user(world.outsider.id), world.other.id, user_id=owner.id, role=Role.OWNER
    )
    acme_key = {"X-API-Key": await world.api_key(owner, world.tenant, Role.OWNER)}
    assert (await client.get(f"/v1/tenants/{world.tenant.id}", headers=acme_key)).status_code == 200
    for path in ("", "/documents", "/members", "/api-keys"):
        for ref in (world.other.id, world.other.slug):
            assert_problem(await client.get(f"/v1/tenants/{ref}{path}", headers=acme_key), 404, "not_found")
    # The same user's token reaches both tenants.
    assert (
        await client.get(f"/v1/tenants/{world.other.slug}", headers=world.bearer(owner))
    ).status_code == 200


async def test_unknown_and_foreign_tenants_look_the_same(client: httpx.AsyncClient, world: World) -> None:
    headers = world.as_role(Role.OWNER)
    foreign = await client.get(f"/v1/tenants/{world.other.id}/documents", headers=headers)
    missing = await client.get("/v1/tenants/00000000-0000-0000-0000-000000000000/documents", headers=headers)
    foreign_slug = await client.get("/v1/tenants/globex/documents", headers=headers)
    missing_slug = await client.get("/v1/tenants/no-such-tenant/documents", headers=headers)
    for response in (foreign, missing, foreign_slug, missing_slug):
        assert_problem(response, 404, "not_found")
    details = {
        r.json()["detail"].replace(r.request.url.path.split("/")[3], "<ref>") for r in (foreign, missing)
    }
    assert len(details) == 1


async def test_another_tenant_s_document_answers_404_even_by_its_id(
    client: httpx.AsyncClient, world: World
) -> None:
    theirs = await world.rag.ingestion.add_text(
        Principal.user(world.outsider.id), world.other.id, filename="secret.md", text="globex plans"
    )
    headers = world.as_role(Role.OWNER)
    for method, suffix in (("GET", ""), ("GET", "/chunks"), ("DELETE", "")):
        # Through our own tenant: the document is not there.
        url = f"/v1/tenants/{world.tenant.id}/documents/{theirs.id}{suffix}"
        assert_problem(await client.request(method, url, headers=headers), 404, "not_found")
        # Through theirs: neither is the tenant, for us.
        url = f"/v1/tenants/{world.other.id}/documents/{theirs.id}{suffix}"
        assert_problem(await client.request(method, url, headers=headers), 404, "not_found")


async def test_only_the_owner_deletes_the_tenant(client: httpx.AsyncClient, world: World) -> None:
    path = f"/v1/tenants/{world.tenant.id}"
    assert_problem(await client.delete(path, headers=world.as_outsider), 404, "not_found")
    owner_key_capped = await world.key_as(Role.ADMIN)
    for headers in (owner_key_capped, *(world.as_role(r) for r in (Role.ADMIN, Role.MEMBER, Role.VIEWER))):
        assert_problem(await client.delete(path, headers=headers), 403, "permission_denied")
    assert (await client.delete(path, headers=world.as_role(Role.OWNER))).status_code == 204
    assert_problem(await client.get(path, headers=world.as_role(Role.OWNER)), 404, "not_found")


async def test_admins_cannot_touch_owners_and_a_tenant_keeps_an_owner(
    client: httpx.AsyncClient, world: World
) -> None:
    members = f"/v1/tenants/{world.tenant.id}/members"
    owner_id = world.users[Role.OWNER].id
    admin = world.as_role(Role.ADMIN)
    assert_problem(await client.patch(f"{members}/{owner_id}", json={"role": "viewer"}, headers=admin), 403,
                   "permission_denied")  # fmt: skip
    assert_problem(await client.delete(f"{members}/{owner_id}", headers=admin), 403, "permission_denied")
    invite_owner = {"email": "new-owner@example.com", "role": "owner"}
    invitations = f"/v1/tenants/{world.tenant.id}/invitations"
    assert_problem(await client.post(invitations, json=invite_owner, headers=admin), 403, "permission_denied")
    owner = world.as_role(Role.OWNER)
    last_owner = await client.patch(f"{members}/{owner_id}", json={"role": "admin"}, headers=owner)
    assert_problem(last_owner, 409, "conflict")
    assert_problem(await client.delete(f"{members}/{owner_id}", headers=owner), 409, "conflict")


async def test_a_member_leaves_by_removing_themself(client: httpx.AsyncClient, world: World) -> None:
    viewer = world.users[Role.VIEWER]
    url = f"/v1/tenants/{world.tenant.id}/members/{viewer.id}"
    assert (await client.delete(url, headers=world.as_role(Role.VIEWER))).status_code == 204
    gone = await client.get(f"/v1/tenants/{world.tenant.id}", headers=world.as_role(Role.VIEWER))
    assert_problem(gone, 404, "not_found")


async def test_an_api_key_cannot_create_tenants_or_exceed_its_issuer(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key_as(Role.OWNER)
    assert_problem(
        await client.post("/v1/tenants", json={"name": "Shadow"}, headers=key), 403, "permission_denied"
    )
    member = world.as_role(Role.MEMBER)
    too_high = {"name": "mine", "role_cap": "admin"}
    url = f"/v1/tenants/{world.tenant.id}/api-keys"
    assert_problem(await client.post(url, json=too_high, headers=member), 403, "permission_denied")


async def test_members_see_and_revoke_only_their_own_keys(client: httpx.AsyncClient, world: World) -> None:
    url = f"/v1/tenants/{world.tenant.id}/api-keys"
    mine = await client.post(url, json={"name": "mine"}, headers=world.as_role(Role.MEMBER))
    assert mine.status_code == 201
    assert mine.json()["key"].startswith("trk_")
    assert "secret_hash" not in mine.json()
    theirs = await client.post(url, json={"name": "theirs"}, headers=world.as_role(Role.ADMIN))
    listed = await client.get(url, headers=world.as_role(Role.MEMBER))
    assert [k["name"] for k in listed.json()["items"]] == ["mine"]
    assert all("key" not in k for k in listed.json()["items"])
    everything = await client.get(url, headers=world.as_role(Role.ADMIN))
    assert sorted(k["name"] for k in everything.json()["items"]) == ["mine", "theirs"]
    revoke_theirs = await client.delete(f"{url}/{theirs.json()['id']}", headers=world.as_role(Role.MEMBER))
    assert_problem(revoke_theirs, 404, "not_found")
    assert (
        await client.delete(f"{url}/{mine.json()['id']}", headers=world.as_role(Role.ADMIN))
    ).status_code == 204
