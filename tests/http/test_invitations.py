"""Invitations (issue 17): nobody joins a tenant without accepting, and inviting tells nothing
about who has an account.

The red-team created a tenant and added another user's address to it (201 with that user's id;
an unknown address got 404 "user ... not found"), and the added user then saw the tenant.
Now an admin invites an address; the answer is the same for any address; the invitee lists,
accepts or declines; admins list and revoke.
"""

from __future__ import annotations

from typing import Any

import httpx

from tenantrag.domain.policy import Role
from tests.http.helpers import assert_problem
from tests.http.world import World

# Differ between any two invitations; everything else in the answer must not.
_OWN_FIELDS = ("id", "email", "created_at", "expires_at")


def _url(world: World, path: str = "") -> str:
    return f"/v1/tenants/{world.tenant.id}/invitations{path}"


async def _invite(
    client: httpx.AsyncClient, world: World, email: str, role: str = "member"
) -> httpx.Response:
    return await client.post(
        _url(world), json={"email": email, "role": role}, headers=world.as_role(Role.ADMIN)
    )


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in _OWN_FIELDS}


async def test_inviting_answers_alike_for_any_address(client: httpx.AsyncClient, world: World) -> None:
    has_account = await _invite(client, world, world.outsider.email)
    no_account = await _invite(client, world, "nobody-here@example.com")
    already_member = await _invite(client, world, world.users[Role.VIEWER].email)
    statuses = {has_account.status_code, no_account.status_code, already_member.status_code}
    assert statuses == {201}, (has_account.text, no_account.text, already_member.text)
    shapes = [_shape(r.json()) for r in (has_account, no_account, already_member)]
    assert shapes[0] == shapes[1] == shapes[2]
    assert set(has_account.json()) == set(no_account.json())
    for response in (has_account, already_member):
        assert str(world.outsider.id) not in response.text
        assert str(world.users[Role.VIEWER].id) not in response.text
    # The old way in is gone.
    added = await client.post(
        f"/v1/tenants/{world.tenant.id}/members",
        json={"email": world.outsider.email, "role": "member"},
        headers=world.as_role(Role.OWNER),
    )
    assert added.status_code == 405


async def test_an_invitee_joins_only_by_accepting(client: httpx.AsyncClient, world: World) -> None:
    invitee = world.bearer(world.outsider)
    invited = await _invite(client, world, world.outsider.email.upper(), role="viewer")
    assert invited.json()["email"] == world.outsider.email
    tenant_url = f"/v1/tenants/{world.tenant.id}"
    assert_problem(await client.get(tenant_url, headers=invitee), 404, "not_found")
    mine = (await client.get("/v1/me/invitations", headers=invitee)).json()
    assert [(i["id"], i["role"], i["tenant_slug"], i["tenant_name"]) for i in mine] == [
        (invited.json()["id"], "viewer", world.tenant.slug, world.tenant.name)
    ]
    accepted = await client.post(f"/v1/me/invitations/{mine[0]['id']}/accept", headers=invitee)
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["user_id"], accepted.json()["role"]) == (str(world.outsider.id), "viewer")
    assert (await client.get(tenant_url, headers=invitee)).status_code == 200
    assert (await client.get("/v1/me/invitations", headers=invitee)).json() == []
    listed = await client.get(_url(world), headers=world.as_role(Role.ADMIN))
    assert listed.json()["items"] == []


async def test_declining_leaves_the_tenant_unseen(client: httpx.AsyncClient, world: World) -> None:
    invitee = world.bearer(world.outsider)
    invitation = (await _invite(client, world, world.outsider.email)).json()
    declined = await client.post(f"/v1/me/invitations/{invitation['id']}/decline", headers=invitee)
    assert declined.status_code == 204
    assert (await client.get("/v1/me/invitations", headers=invitee)).json() == []
    assert_problem(await client.get(f"/v1/tenants/{world.tenant.id}", headers=invitee), 404, "not_found")
    again = await client.post(f"/v1/me/invitations/{invitation['id']}/accept", headers=invitee)
    assert_problem(again, 404, "not_found")


async def test_only_the_invitee_answers_and_not_with_a_key(client: httpx.AsyncClient, world: World) -> None:
    invitation = (await _invite(client, world, world.outsider.email)).json()
    accept = f"/v1/me/invitations/{invitation['id']}/accept"
    for someone_else in (world.as_role(Role.OWNER), world.as_role(Role.VIEWER)):
        assert_problem(await client.post(accept, headers=someone_else), 404, "not_found")
        assert (await client.get("/v1/me/invitations", headers=someone_else)).json() == []
    outsider_key = {"X-API-Key": await world.api_key(world.outsider, world.other, Role.OWNER)}
    assert_problem(await client.post(accept, headers=outsider_key), 403, "permission_denied")
    assert_problem(await client.get("/v1/me/invitations", headers=outsider_key), 403, "permission_denied")


async def test_roles_bound_who_invites_whom(client: httpx.AsyncClient, world: World) -> None:
    email = {"email": "new@example.com"}
    admin, owner = world.as_role(Role.ADMIN), world.as_role(Role.OWNER)
    for role, headers, status in (
        ("owner", admin, 403), ("admin", admin, 403), ("member", admin, 201),
        ("admin", owner, 201), ("viewer", world.as_role(Role.MEMBER), 403),
    ):  # fmt: skip
        response = await client.post(_url(world), json={**email, "role": role}, headers=headers)
        assert response.status_code == status, (role, response.text)
    # An outsider cannot tell the tenant exists.
    assert_problem(await client.post(_url(world), json=email, headers=world.as_outsider), 404, "not_found")


async def test_admins_list_renew_and_revoke(client: httpx.AsyncClient, world: World) -> None:
    admin = world.as_role(Role.ADMIN)
    first = (await _invite(client, world, world.outsider.email, role="viewer")).json()
    renewed = (await _invite(client, world, world.outsider.email, role="member")).json()
    assert renewed["id"] == first["id"]
    assert renewed["role"] == "member"
    assert renewed["expires_at"] >= first["expires_at"]
    listed = (await client.get(_url(world), headers=admin)).json()["items"]
    assert [(i["email"], i["role"]) for i in listed] == [(world.outsider.email, "member")]
    assert_problem(
        await client.get(_url(world), headers=world.as_role(Role.MEMBER)), 403, "permission_denied"
    )
    assert (await client.delete(_url(world, f"/{first['id']}"), headers=admin)).status_code == 204
    assert_problem(await client.delete(_url(world, f"/{first['id']}"), headers=admin), 404, "not_found")
    accept = f"/v1/me/invitations/{first['id']}/accept"
    assert_problem(await client.post(accept, headers=world.bearer(world.outsider)), 404, "not_found")
