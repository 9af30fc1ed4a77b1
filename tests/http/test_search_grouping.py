"""Search over HTTP grouped by document (`group`), with `match`, and `empty_reason`.

Text scores are the backend's, so only which documents come back is asserted; text queries
are single words, which any-word and every-word matching read alike.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tenantrag.domain.policy import Role
from tests.http.helpers import assert_problem
from tests.http.world import Headers, World

PARAGRAPH = "Walruses haul out on the ice floes of the arctic sea to rest between their dives. "
LONG = "\n\n".join(f"Part {n}. " + PARAGRAPH * 5 for n in range(30))
SHORT = {
    "notes.md": "A walrus was seen near the harbour. Boats waited.",
    "zoo.md": "The zoo keeps a walrus, two penguins and a sleepy seal.",
}


@pytest.fixture
async def corpus(world: World) -> dict[str, str]:
    ids = {}
    for filename, text in {"long.md": LONG, **SHORT}.items():
        document = await world.rag.ingestion.add_text(
            world.owner, world.tenant.id, filename=filename, text=text, tags=["animals"]
        )
        ids[filename] = str(document.id)
    return ids


async def search(client: httpx.AsyncClient, world: World, body: dict[str, Any], headers: Headers) -> Any:
    response = await client.post(f"/v1/tenants/{world.tenant.id}/search", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("mode", "text"), [("vector", PARAGRAPH), ("text", "walrus"), ("hybrid", PARAGRAPH)])
async def test_documents_are_returned_once_each_with_their_chunks(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str], mode: str, text: str
) -> None:
    viewer = world.as_role(Role.VIEWER)
    chunks = await search(client, world, {"text": text, "mode": mode, "k": 3}, viewer)
    assert (chunks["group"], chunks["documents"]) == ("chunks", None)  # the API's default

    found = await search(client, world, {"text": text, "mode": mode, "k": 3, "group": "documents"}, viewer)
    assert found["group"] == "documents"
    assert found["match"] == (None if mode == "vector" else "any")
    documents = found["documents"]
    assert sorted(d["document_id"] for d in documents) == sorted(corpus.values())
    assert [d["score"] for d in documents] == sorted((d["score"] for d in documents), reverse=True)
    assert found["hits"] == [d["best"] for d in documents]
    for document in documents:
        assert document["chunks"][0] == document["best"]
        assert {c["document_id"] for c in document["chunks"]} == {document["document_id"]}
        assert document["document_version"] == 1
        if mode == "hybrid":
            assert document["vector_rank"] in (1, 2, 3)
        else:
            assert (document["vector_rank"], document["text_rank"]) == (None, None)
    [long] = [d for d in documents if d["document_id"] == corpus["long.md"]]
    assert len(long["chunks"]) > 1
    assert found["empty_reason"] is None


async def test_an_empty_response_says_why(client: httpx.AsyncClient, world: World) -> None:
    viewer = world.as_role(Role.VIEWER)

    async def reason(body: dict[str, Any]) -> str | None:
        found = await search(client, world, body, viewer)
        if found["empty_reason"] is None:
            assert found["hits"]
            return None
        assert found["hits"] == []
        assert found["empty_reason"]["message"]
        return str(found["empty_reason"]["code"])

    assert await reason({"text": "walrus"}) == "no_chunks"
    assert await reason({"text": "walrus", "mode": "text", "group": "documents"}) == "no_chunks"
    for filename, text in SHORT.items():
        await world.rag.ingestion.add_text(world.owner, world.tenant.id, filename=filename, text=text)
    for group in ("chunks", "documents"):
        for mode in ("vector", "text", "hybrid"):
            body = {"text": "walrus", "mode": mode, "group": group, "filter": {"tags": "missing"}}
            assert await reason(body) == "filter_excludes_all"
        assert await reason({"text": "zebra", "mode": "text", "group": group}) == "no_matching_words"
        websearch = {"text": "zebra", "mode": "text", "group": group, "match": "websearch"}
        assert await reason(websearch) == "no_matching_words"
        hybrid = await search(client, world, {"text": "zebra", "group": group}, viewer)
        assert hybrid["hits"]
        assert hybrid["empty_reason"] is None
        assert hybrid["text_empty_reason"]["code"] == "no_matching_words"
        found = await search(client, world, {"text": "walrus", "group": group}, viewer)
        assert found["text_empty_reason"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "walrus", "group": "pages"}, "group"),
        ({"text": "walrus", "match": "fuzzy"}, "match"),
        ({"text": "walrus", "match": None}, "match"),
        ({"text": '"', "match": "websearch", "group": "documents"}, "text"),
    ],
)
async def test_a_bad_group_or_match_is_a_422_naming_it(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post(
        f"/v1/tenants/{world.tenant.id}/search", json=body, headers=world.as_role(Role.VIEWER)
    )
    assert_problem(response, 422, "invalid_input", field)


async def test_a_grouped_search_is_logged_with_its_documents_best_chunks(
    client: httpx.AsyncClient, world: World, corpus: dict[str, str]
) -> None:
    viewer = world.as_role(Role.VIEWER)
    body = {"text": "walrus", "group": "documents", "match": "websearch", "k": 2}
    found = await search(client, world, body, viewer)
    log_url = f"/v1/tenants/{world.tenant.id}/query-logs/{found['query_log_id']}"
    log = (await client.get(log_url, headers=viewer)).json()
    assert [(s["chunk_id"], s["score"]) for s in log["sources"]] == [
        (d["best"]["chunk_id"], d["score"]) for d in found["documents"]
    ]
    described = log["metadata"]["search"]
    assert (described["group"], described["match"], described["k"]) == ("documents", "websearch", 2)
