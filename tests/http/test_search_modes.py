"""Search modes over HTTP: defaults, the filter language, 422s naming the offending part, and
every search recorded as a query log (filters, mode, latency, the chunks returned).

The app here is built with HYBRID_FUSION=rrf and HYBRID_RRF_K=7, so the hybrid scores show
the settings at work.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tenantrag.domain.filtering import parse_filter
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import assert_problem, make_settings
from tests.http.world import Headers, World

RRF_K = 7


@pytest.fixture
def settings(database_url: str) -> Settings:
    auto_migrate = not database_url.startswith("postgresql")
    return make_settings(database_url, auto_migrate=auto_migrate, hybrid_fusion="rrf", hybrid_rrf_k=RRF_K)


@pytest.fixture
async def corpus(world: World) -> dict[str, str]:
    """Three documents of the tenant (all say "animal") and one of the other tenant; ids by name."""
    ids = {}
    for filename, text, tags, metadata in (
        ("cats.md", "Cats purr when they are content. Every animal rests.", ["pets"], {"lang": "en", "n": 1}),
        ("dogs.md", "Dogs bark at the postman. An animal guards.", ["pets", "loud"], {"lang": "en", "n": 2}),
        ("chats.md", "Les chats ronronnent. Animal.", ["pets"], {"lang": "fr", "n": 3}),
    ):
        document = await world.rag.ingestion.add_text(
            world.owner, world.tenant.id, filename=filename, text=text, tags=tags, metadata=metadata
        )
        ids[filename] = str(document.id)
    # The other tenant's document, which no search of this tenant may find.
    await world.rag.ingestion.add_text(
        Principal.user(world.outsider.id),
        world.other.id,
        filename="cats.md",
        text="Cats purr, animal of Globex.",
    )
    return ids


def _search(world: World) -> str:
    return f"/v1/tenants/{world.tenant.id}/search"


async def post(client: httpx.AsyncClient, world: World, body: dict[str, Any], headers: Headers) -> Any:
    response = await client.post(_search(world), json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_mode_defaults_to_hybrid_for_text_and_vector_for_an_embedding(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    viewer = world.as_role(Role.VIEWER)
    hybrid = await post(client, world, {"text": "cats purr", "k": 3}, viewer)
    assert hybrid["mode"] == "hybrid"
    assert hybrid["hits"][0]["document_id"] == corpus["cats.md"]
    top = hybrid["hits"][0]
    assert (top["vector_rank"], top["text_rank"]) == (1, 1)
    assert top["score"] == pytest.approx(2 / (RRF_K + 1))  # HYBRID_FUSION and HYBRID_RRF_K at work
    assert {h["document_id"] for h in hybrid["hits"]} <= set(corpus.values())

    text = await post(client, world, {"text": "cats purr", "mode": "text"}, viewer)
    assert (text["mode"], [h["document_id"] for h in text["hits"]]) == ("text", [corpus["cats.md"]])
    hit = text["hits"][0]
    assert (hit["document_version"], hit["ordinal"], hit["metadata"]["lang"]) == (1, 0, "en")
    assert "purr" in hit["content"]
    assert (hit["vector_rank"], hit["text_rank"]) == (None, None)

    chunks = await client.get(
        f"/v1/tenants/{world.tenant.id}/documents/{corpus['dogs.md']}/chunks?embeddings=true", headers=viewer
    )
    vector = chunks.json()["items"][0]["embedding"]
    found = await post(client, world, {"embedding": vector, "k": 1}, viewer)
    assert (found["mode"], found["hits"][0]["document_id"]) == ("vector", corpus["dogs.md"])
    both = await post(client, world, {"embedding": vector, "text": "cats", "mode": "hybrid", "k": 3}, viewer)
    assert {h["document_id"] for h in both["hits"][:2]} == {corpus["dogs.md"], corpus["cats.md"]}


@pytest.mark.parametrize("mode", ["vector", "text", "hybrid"])
async def test_the_filter_language_applies_in_every_mode(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str], mode: str
) -> None:
    viewer = world.as_role(Role.VIEWER)

    async def found(search_filter: dict[str, Any]) -> set[str]:
        body = {"text": "animal", "mode": mode, "k": 10, "filter": search_filter}
        return {h["document_id"] for h in (await post(client, world, body, viewer))["hits"]}

    assert await found({}) == set(corpus.values())
    assert await found({"$and": [{"tags": {"$any": ["loud"]}}, {"metadata.lang": "en"}]}) == {
        corpus["dogs.md"]
    }
    assert await found({"$or": [{"metadata.n": {"$gte": 3}}, {"tags": "loud"}]}) == {
        corpus["dogs.md"],
        corpus["chats.md"],
    }
    assert await found({"$not": {"document_id": {"$in": [corpus["cats.md"]]}}, "status": "completed"}) == {
        corpus["dogs.md"],
        corpus["chats.md"],
    }
    assert await found({"tags_all": ["pets", "loud"]}) == {corpus["dogs.md"]}  # the earlier form
    assert await found({"metadata": {"lang": "fr"}}) == {corpus["chats.md"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "x", "filter": {"$and": [{"metadata.x": {"$gt": [1]}}]}}, "filter.$and[0].metadata.x.$gt"),
        ({"text": "x", "filter": {"$or": [{"tags": ["a"]}]}}, "filter.$or[0].tags"),
        ({"text": "x", "filter": {"colour": "red"}}, "filter.colour"),
        ({"text": "x", "filter": {"metadata.year": {"$between": [1, 2]}}}, "filter.metadata.year.$between"),
        ({"text": "x", "filter": {"tags_any": [""]}}, "filter.tags_any.0"),
        ({"text": "x", "filter": ["tags"]}, "filter"),
        ({"text": "x", "mode": "fuzzy"}, "mode"),
        ({"text": "x", "mode": "text", "embedding": [1.0] * 64}, "embedding"),
        ({"embedding": [1.0] * 64, "mode": "hybrid"}, "text"),
        ({"text": "-cats", "mode": "text", "match": "websearch"}, "text"),
        ({"text": "the of", "mode": "text"}, "text"),
        ({"text": '"', "mode": "hybrid", "match": "websearch"}, "text"),
        ({"text": "cats", "match": "exact"}, "match"),
        ({"text": "cats", "group": "all"}, "group"),
        ({"text": "cats", "mode": "vector", "hybrid": {"rrf_k": 10}}, "hybrid"),
        ({"text": "cats", "hybrid": {"rrf_k": 0}}, "hybrid.rrf_k"),
        ({"text": "cats", "hybrid": {"method": "borda"}}, "hybrid.method"),
        ({"text": "cats", "hybrid": {"vector_weight": 0, "text_weight": 0}}, "hybrid"),
        ({"text": "cats", "hybrid": {"text_weight": -1}}, "hybrid.text_weight"),
        ({"text": "x" * 1001, "mode": "text"}, "text"),
    ],
)
async def test_a_malformed_request_is_a_422_naming_the_offending_part(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post(_search(world), json=body, headers=world.as_role(Role.VIEWER))
    assert_problem(response, 422, "invalid_input", field)


async def test_every_search_is_recorded_with_its_filter_mode_latency_and_chunks(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    viewer = world.as_role(Role.VIEWER)
    key = await world.key_as(Role.VIEWER)
    chunks = await client.get(
        f"/v1/tenants/{world.tenant.id}/documents/{corpus['cats.md']}/chunks?embeddings=true", headers=viewer
    )
    vector = chunks.json()["items"][0]["embedding"]
    searches: list[tuple[dict[str, Any], Headers]] = [
        ({"text": "animal", "filter": {"tags": "pets"}, "k": 2}, viewer),
        ({"text": "animal", "mode": "text", "filter": {"metadata.n": {"$lt": 3}}}, key),
        ({"embedding": vector, "k": 1, "record": False}, viewer),  # `record` is ignored now
        ({"text": "zebra", "mode": "text"}, viewer),  # nothing found is recorded too
        ({"text": "animal", "hybrid": {"rrf_k": 1, "text_weight": 0.5, "candidates": 5}}, viewer),
    ]
    responses = [await post(client, world, body, headers) for body, headers in searches]
    logs_url = f"/v1/tenants/{world.tenant.id}/query-logs"
    admin = world.as_role(Role.ADMIN)
    logs = {log["id"]: log for log in (await client.get(logs_url, headers=admin)).json()["items"]}
    assert len(logs) == len(searches)
    for (body, _), response in zip(searches, responses, strict=True):
        log = logs[response["query_log_id"]]
        assert log["query"] == body.get("text", "[embedding]")
        assert [s["chunk_id"] for s in log["sources"]] == [h["chunk_id"] for h in response["hits"]]
        assert [s["score"] for s in log["sources"]] == [h["score"] for h in response["hits"]]
        assert log["latency_ms"] > 0
        described = log["metadata"]["search"]
        assert described["mode"] == response["mode"]
        assert described["k"] == body.get("k", 10)
        if "filter" in body:  # logged in the language's normal form
            assert parse_filter(described["filter"]["where"]) == parse_filter(body["filter"])
        else:
            assert described["filter"] == {}
    hybrid = logs[responses[-1]["query_log_id"]]["metadata"]["search"]
    assert hybrid["fusion"] == {
        "method": "rrf",
        "rrf_k": 1,
        "vector_weight": 1.0,
        "text_weight": 0.5,
        "candidates": 10,
    }
    assert logs[responses[2]["query_log_id"]]["metadata"]["search"]["embedding"] == "given"
    # Feedback is given on a search's log by whoever searched.
    rated = await client.post(
        f"{logs_url}/{responses[0]['query_log_id']}/feedback", json={"feedback": "thumbs_up"}, headers=viewer
    )
    assert rated.status_code == 200, rated.text


async def test_another_tenant_s_chunks_are_never_found(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    for mode in ("vector", "text", "hybrid"):
        body = {"text": "cats purr animal", "mode": mode, "k": 10}
        hits = (await post(client, world, body, world.as_role(Role.VIEWER)))["hits"]
        assert {h["document_id"] for h in hits} <= set(corpus.values())
        assert all("Globex" not in h["content"] for h in hits)
