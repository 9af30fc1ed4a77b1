"""``GET /v1/tenants/{tenant}/audit-log``: admins read what changed, filtered and paged;
members may not; bad filters are problems naming the parameter."""

from __future__ import annotations

import httpx

from tenantrag.domain.policy import Role
from tests.http.helpers import assert_problem
from tests.http.world import World


def _url(world: World) -> str:
    return f"/v1/tenants/{world.tenant.id}/audit-log"


async def test_admins_list_filter_and_page_the_log(client: httpx.AsyncClient, world: World) -> None:
    admin = world.as_role(Role.ADMIN)
    invitations = f"/v1/tenants/{world.tenant.id}/invitations"
    for email in ("a@example.com", "b@example.com"):
        created = await client.post(invitations, json={"email": email, "role": "viewer"}, headers=admin)
        assert created.status_code == 201, created.text
    listed = await client.get(_url(world), params={"action": "invitation.create"}, headers=admin)
    assert listed.status_code == 200, listed.text
    entries = listed.json()["items"]
    assert [e["details"]["email"] for e in entries] == ["a@example.com", "b@example.com"]
    assert {(e["actor_kind"], e["actor_id"], e["outcome"]) for e in entries} == {
        ("user", str(world.users[Role.ADMIN].id), "succeeded")
    }
    first = await client.get(_url(world), params={"action": "invitation.create", "limit": 1}, headers=admin)
    cursor = first.json()["next_cursor"]
    second = await client.get(
        _url(world), params={"action": "invitation.create", "limit": 1, "cursor": cursor}, headers=admin
    )
    assert [p.json()["items"][0]["id"] for p in (first, second)] == [e["id"] for e in entries]
    assert second.json()["next_cursor"] is None
    refused = await client.get(_url(world), params={"outcome": "refused"}, headers=admin)
    assert refused.json()["items"] == []


async def test_members_may_not_read_the_log(client: httpx.AsyncClient, world: World) -> None:
    for role in (Role.MEMBER, Role.VIEWER):
        assert_problem(await client.get(_url(world), headers=world.as_role(role)), 403, "permission_denied")
    assert_problem(await client.get(_url(world), headers=world.as_outsider), 404, "not_found")


async def test_bad_filters_name_the_parameter(client: httpx.AsyncClient, world: World) -> None:
    owner = world.as_role(Role.OWNER)
    bad_action = await client.get(_url(world), params={"action": "tenant.explode"}, headers=owner)
    assert bad_action.status_code == 422
    assert "action" in bad_action.text
    naive = await client.get(_url(world), params={"since": "2026-01-01T00:00:00"}, headers=owner)
    assert_problem(naive, 422, "invalid_input", field="since")
    unknown = await client.get(_url(world), params={"who": "me"}, headers=owner)
    assert_problem(unknown, 422, "invalid_input", field="who")


async def test_an_entry_records_where_the_call_came_from(client: httpx.AsyncClient, world: World) -> None:
    admin = {**world.as_role(Role.ADMIN), "X-Request-ID": "req-audit-1"}
    invitations = f"/v1/tenants/{world.tenant.id}/invitations"
    created = await client.post(invitations, json={"email": "c@example.com"}, headers=admin)
    assert created.status_code == 201, created.text
    listed = await client.get(_url(world), params={"action": "invitation.create"}, headers=admin)
    source = listed.json()["items"][-1]["details"]["source"]
    assert source["request_id"] == "req-audit-1"
    assert source["address"]  # the test client's address
