"""Search (text, vector, filters), query logs and feedback, chat sessions and their privacy."""

from __future__ import annotations

import httpx
import pytest

from tenantrag.domain.policy import Role
from tests.http.helpers import assert_problem
from tests.http.world import Headers, World


@pytest.fixture
async def corpus(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """Three documents in the tenant and one in the other tenant; their ids by filename."""
    member = world.as_role(Role.MEMBER)
    ids = {}
    for filename, text, tags, metadata in (
        ("cats.md", "Cats purr when they are content.", ["pets"], {"lang": "en"}),
        ("dogs.md", "Dogs bark at the postman.", ["pets", "loud"], {"lang": "en"}),
        ("chats.md", "Les chats ronronnent.", ["pets"], {"lang": "fr"}),
    ):
        body = {"filename": filename, "text": text, "tags": tags, "metadata": metadata}
        response = await client.post(
            f"/v1/tenants/{world.tenant.id}/documents", params={"wait": "true"}, json=body, headers=member
        )
        ids[filename] = response.json()["document"]["id"]
    elsewhere = {"filename": "cats.md", "text": "Cats purr loudly in Globex too."}
    await client.post(
        f"/v1/tenants/{world.other.id}/documents",
        params={"wait": "true"},
        json=elsewhere,
        headers=world.as_outsider,
    )
    return ids


def _search(world: World) -> str:
    return f"/v1/tenants/{world.tenant.id}/search"


async def test_text_search_finds_the_tenant_s_own_chunks_only(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    response = await client.post(
        _search(world), json={"text": "cats purr"}, headers=world.as_role(Role.VIEWER)
    )
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits[0]["document_id"] == corpus["cats.md"]
    assert {h["document_id"] for h in hits} <= set(corpus.values())
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert response.json()["query_log_id"] is not None  # every search is recorded


async def test_filters_narrow_the_hits(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    viewer = world.as_role(Role.VIEWER)

    async def found(search_filter: dict[str, object]) -> set[str]:
        body = {"text": "pets", "k": 10, "filter": search_filter}
        response = await client.post(_search(world), json=body, headers=viewer)
        assert response.status_code == 200, response.text
        return {h["document_id"] for h in response.json()["hits"]}

    assert await found({"tags_all": ["pets", "loud"]}) == {corpus["dogs.md"]}
    assert await found({"metadata": {"lang": "fr"}}) == {corpus["chats.md"]}
    assert await found({"document_ids": [corpus["cats.md"]]}) == {corpus["cats.md"]}
    assert await found({"tags_any": ["missing"]}) == set()


async def test_vector_search_and_its_validation(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    viewer = world.as_role(Role.VIEWER)
    chunks = await client.get(
        f"/v1/tenants/{world.tenant.id}/documents/{corpus['dogs.md']}/chunks?embeddings=true", headers=viewer
    )
    vector = chunks.json()["items"][0]["embedding"]
    response = await client.post(_search(world), json={"embedding": vector, "k": 1}, headers=viewer)
    assert [h["document_id"] for h in response.json()["hits"]] == [corpus["dogs.md"]]
    assert response.json()["hits"][0]["score"] == pytest.approx(1.0)
    for body, field in (
        ({"embedding": [1.0, 2.0], "k": 1}, "embedding"),
        ({"embedding": [0.0] * 64}, "embedding"),
        ({"text": "x", "embedding": vector}, "query"),
        ({}, "query"),
        ({"text": "   "}, "text"),
        ({"text": "x", "filter": {"tags_any": [""]}}, "filter.tags_any.0"),
    ):
        assert_problem(
            await client.post(_search(world), json=body, headers=viewer), 422, "invalid_input", field
        )


async def test_a_recorded_search_takes_feedback_from_its_author_only(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    viewer = world.as_role(Role.VIEWER)
    searched = await client.post(_search(world), json={"text": "dogs", "record": True}, headers=viewer)
    log_id = searched.json()["query_log_id"]
    logs = f"/v1/tenants/{world.tenant.id}/query-logs"
    log = (await client.get(f"{logs}/{log_id}", headers=viewer)).json()
    assert log["query"] == "dogs"
    assert [s["chunk_id"] for s in log["sources"]] == [h["chunk_id"] for h in searched.json()["hits"]]
    feedback = {"feedback": "thumbs_up", "quality_score": 0.9}
    given = await client.post(f"{logs}/{log_id}/feedback", json=feedback, headers=viewer)
    assert (given.json()["feedback"], given.json()["quality_score"]) == ("thumbs_up", 0.9)
    # An admin reads every log but gives feedback only on their own; a member reads only their own.
    admin = world.as_role(Role.ADMIN)
    assert (await client.get(f"{logs}/{log_id}", headers=admin)).status_code == 200
    assert_problem(
        await client.post(f"{logs}/{log_id}/feedback", json=feedback, headers=admin), 404, "not_found"
    )
    assert_problem(await client.get(f"{logs}/{log_id}", headers=world.as_role(Role.MEMBER)), 404, "not_found")
    bad = await client.post(f"{logs}/{log_id}/feedback", json={"feedback": "meh"}, headers=viewer)
    assert_problem(bad, 422, "invalid_input", "feedback")
    listed = await client.get(logs, headers=admin)
    assert [entry["id"] for entry in listed.json()["items"]] == [log_id]


async def test_query_logs_are_recorded_with_their_measurements(
    client: httpx.AsyncClient, world: World
) -> None:
    logs = f"/v1/tenants/{world.tenant.id}/query-logs"
    body = {
        "query": "what is a cat?",
        "response": "A small carnivore.",
        "sources": [{"chunk_id": "01a20dd0-8b26-7000-b13c-7f7a4c422c81", "score": 0.5}],
        "latency_ms": 12.5,
        "token_count": 42,
        "metadata": {"model": "m"},
    }
    created = await client.post(logs, json=body, headers=world.as_role(Role.VIEWER))
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in body} == body
    too_good = await client.post(
        logs, json={"query": "q", "quality_score": 2}, headers=world.as_role(Role.VIEWER)
    )
    assert_problem(too_good, 422, "invalid_input", "quality_score")


async def test_chat_sessions_are_private_to_their_user(client: httpx.AsyncClient, world: World) -> None:
    sessions = f"/v1/tenants/{world.tenant.id}/chat/sessions"
    member, admin = world.as_role(Role.MEMBER), world.as_role(Role.ADMIN)
    session = (await client.post(sessions, json={"title": "Planning"}, headers=member)).json()
    messages = f"{sessions}/{session['id']}/messages"
    for role, content in (("user", "hello"), ("assistant", "hi there")):
        posted = await client.post(messages, json={"role": role, "content": content}, headers=member)
        assert posted.status_code == 201, posted.text
    listed = (await client.get(messages, headers=member)).json()["items"]
    assert [(m["role"], m["content"]) for m in listed] == [("user", "hello"), ("assistant", "hi there")]
    fetched = (await client.get(f"{sessions}/{session['id']}", headers=member)).json()
    assert (fetched["id"], fetched["title"]) == (session["id"], "Planning")
    assert [s["id"] for s in (await client.get(sessions, headers=member)).json()["items"]] == [session["id"]]
    assert (await client.get(sessions, headers=admin)).json()["items"] == []
    one = f"{sessions}/{session['id']}"
    for method, url in (("GET", one), ("GET", messages), ("POST", messages), ("DELETE", one)):
        body = {"role": "user", "content": "x"} if method == "POST" else None
        assert_problem(await client.request(method, url, json=body, headers=admin), 404, "not_found")
    bad_role = await client.post(messages, json={"role": "robot", "content": "x"}, headers=member)
    assert_problem(bad_role, 422, "invalid_input", "role")
    assert (await client.delete(f"{sessions}/{session['id']}", headers=member)).status_code == 204
    assert_problem(await client.get(messages, headers=member), 404, "not_found")


async def test_a_viewer_cannot_chat(client: httpx.AsyncClient, world: World) -> None:
    viewer: Headers = world.as_role(Role.VIEWER)
    response = await client.post(f"/v1/tenants/{world.tenant.id}/chat/sessions", json={}, headers=viewer)
    assert_problem(response, 403, "permission_denied")
