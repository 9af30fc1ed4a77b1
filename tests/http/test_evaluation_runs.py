"""``/v1/tenants/{tenant}/evaluation-runs``: admins start, list and read runs; members and
viewers get 403, other tenants' members 404; bad collections are 422 naming the file and line."""

from __future__ import annotations

import httpx
import pytest

from tenantrag.domain.policy import Role
from tests.http.world import World

QUERIES = '{"_id": "q1", "text": "cats purring"}\n{"_id": "q2", "text": "dogs barking"}\n'
QRELS = "query-id\tcorpus-id\tscore\nq1\tcats.md\t1\nq2\tdogs.md\t1\n"


@pytest.fixture
async def corpus(world: World) -> None:
    for name, text in (("cats.md", "Cats purr when content."), ("dogs.md", "Dogs bark at the postman.")):
        await world.rag.ingestion.add_text(
            world.owner, world.tenant.id, filename=name, text=text, source_key=name
        )


def _url(world: World, tenant: str | None = None) -> str:
    return f"/v1/tenants/{tenant or world.tenant.id}/evaluation-runs"


async def test_admins_run_list_and_read_evaluations(
    client: httpx.AsyncClient, world: World, corpus: None
) -> None:
    admin = world.as_role(Role.ADMIN)
    body = {"queries": QUERIES, "qrels": QRELS, "modes": ["text", "hybrid"], "k": 10}
    created = await client.post(_url(world), json=body, headers=admin)
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["modes"] == ["text", "hybrid"]
    assert run["user_id"] == str(world.users[Role.ADMIN].id)
    assert run["metrics"]["text"]["mrr@10"] == 1.0
    assert set(run["per_query"]["hybrid"]) == {"q1", "q2"}

    listed = await client.get(
        _url(world, world.tenant.slug), params={"limit": 1}, headers=world.owner_headers()
    )
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [item["id"] for item in page["items"]] == [run["id"]]
    assert "per_query" not in page["items"][0]
    assert page["next_cursor"] is None
    one = await client.get(f"{_url(world)}/{run['id']}", headers=admin)
    assert one.status_code == 200
    assert one.json() == run


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
async def test_members_and_viewers_are_refused(
    client: httpx.AsyncClient, world: World, corpus: None, role: Role
) -> None:
    headers = world.as_role(role)
    assert (await client.get(_url(world), headers=headers)).status_code == 403
    refused = await client.post(_url(world), json={"queries": QUERIES, "qrels": QRELS}, headers=headers)
    assert refused.status_code == 403
    capped = await world.key_as(Role.MEMBER)  # an owner's key capped at member
    assert (await client.get(_url(world), headers=capped)).status_code == 403


async def test_another_tenants_runs_are_not_found(
    client: httpx.AsyncClient, world: World, corpus: None
) -> None:
    created = await client.post(
        _url(world), json={"queries": QUERIES, "qrels": QRELS}, headers=world.owner_headers()
    )
    assert created.status_code == 201, created.text
    outsider = world.as_outsider
    assert (await client.get(_url(world), headers=outsider)).status_code == 404
    assert (await client.get(f"{_url(world)}/{created.json()['id']}", headers=outsider)).status_code == 404
    theirs = await client.get(_url(world, str(world.other.id)), headers=outsider)
    assert theirs.status_code == 200
    assert theirs.json()["items"] == []
    missing = await client.get(f"{_url(world, str(world.other.id))}/{created.json()['id']}", headers=outsider)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "case",
    [
        ({"queries": '{"_id": "q1"}\n', "qrels": QRELS}, "queries", "queries, line 1:"),
        (
            {"queries": QUERIES, "qrels": "q1 cats.md\n", "qrels_name": "my.qrels"},
            "qrels",
            "my.qrels, line 1:",
        ),
        ({"queries": QUERIES, "qrels": "q1\tnope.md\t1\n"}, "qrels", "match no document"),
        ({"queries": QUERIES, "qrels": QRELS, "modes": ["bm25"]}, None, "modes"),
    ],
)
async def test_bad_collections_are_422_and_store_nothing(
    client: httpx.AsyncClient, world: World, corpus: None, case: tuple[dict[str, object], str | None, str]
) -> None:
    body, field, words = case
    owner = world.owner_headers()
    refused = await client.post(_url(world), json=body, headers=owner)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    if field is not None:
        assert problem["field"] == field
    assert words in refused.text
    assert (await client.get(_url(world), headers=owner)).json()["items"] == []
