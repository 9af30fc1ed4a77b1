"""OpenAICompatibleEmbedder's exchange with a fake server on loopback: texts go in batches with the
key as a bearer token and come back in order, scaled to unit length; a reply of the wrong dimension
or malformed is refused; bad arguments are refused when the embedder is built, and it closes only
the HTTP client it made."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from tenantrag.adapters.embedders.openai_compatible import OpenAICompatibleEmbedder
from tenantrag.domain.errors import InvalidInput, Unavailable
from tenantrag.domain.ports.embedder import Embedder
from tests.unit.fake_embeddings_server import (
    DIMENSION,
    KEY,
    MODEL,
    FakeEmbeddingsServer,
    Reply,
    _no_proxies,  # noqa: F401 - a fixture, found by name
    embedder_for,
    fake_vector,
    server_fixture,  # noqa: F401 - a fixture, found by name
)


def assert_vectors(vectors: list[tuple[float, ...]], texts: list[str]) -> None:
    assert len(vectors) == len(texts)
    for vector, text in zip(vectors, texts, strict=True):
        assert vector == pytest.approx(tuple(fake_vector(text)), abs=1e-9)


# --- the happy path ------------------------------------------------------------------------


async def test_texts_go_in_batches_and_come_back_in_order(server: FakeEmbeddingsServer) -> None:
    texts = [f"text number {n}" for n in range(5)]
    async with embedder_for(server, batch_size=2) as embedder:
        vectors = await embedder.embed_documents(texts)

    assert_vectors(vectors, texts)
    assert [request.body["input"] for request in server.requests] == [texts[0:2], texts[2:4], texts[4:5]]
    assert {request.path for request in server.requests} == {"/v1/embeddings"}
    first = server.requests[0].body
    assert (first["model"], first["encoding_format"]) == (MODEL, "float")
    assert "dimensions" not in first


async def test_the_key_is_sent_as_a_bearer_token(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server) as embedder:
        await embedder.embed_query("hello")
    async with embedder_for(server, api_key=None) as anonymous:
        await anonymous.embed_query("hello")

    assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert "Authorization" not in server.requests[1].headers


async def test_dimensions_are_requested_only_when_asked(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server, request_dimensions=True) as embedder:
        vector = await embedder.embed_query("shorten me")

    assert server.requests[0].body["dimensions"] == DIMENSION
    assert server.requests[0].body["input"] == ["shorten me"]
    assert vector == pytest.approx(tuple(fake_vector("shorten me")))


async def test_out_of_order_indexes_are_put_back_in_order(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(reverse=True))
    texts = ["alpha", "beta", "gamma", "delta"]
    async with embedder_for(server) as embedder:
        vectors = await embedder.embed_documents(texts)

    assert_vectors(vectors, texts)


async def test_vectors_are_scaled_to_unit_length(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(scale=3.5))
    async with embedder_for(server) as embedder:
        (vector,) = await embedder.embed_documents(["loud"])

    assert math.sqrt(math.fsum(x * x for x in vector)) == pytest.approx(1.0)
    assert vector == pytest.approx(tuple(fake_vector("loud")))


async def test_no_texts_make_no_request(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server) as embedder:
        assert await embedder.embed_documents([]) == []
    assert server.requests == []


async def test_it_is_an_embedder_named_after_its_model(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server) as embedder:
        port: Embedder = embedder
        assert (port.name, port.dimension) == (f"openai:{MODEL}", DIMENSION)
        assert KEY not in repr(embedder)


# --- what comes back -----------------------------------------------------------------------


async def test_a_wrong_dimension_names_the_model_and_both_lengths(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(dimension=5))
    async with embedder_for(server) as embedder:
        with pytest.raises(InvalidInput) as raised:
            await embedder.embed_documents(["too short"])

    assert raised.value.field == "embedding_dimension"
    assert MODEL in raised.value.message
    assert "returned 5-dimensional vectors, expected 8" in raised.value.message
    assert len(server.requests) == 1  # the same model answers the same way: no retry


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b'{"data": []}', "0 embeddings for 1 texts"),
        (b'{"data": [{"index": 3, "embedding": [1, 0, 0, 0, 0, 0, 0, 0]}]}', "indexes"),
        (b'{"data": [{"index": 0, "embedding": ["1", 0, 0, 0, 0, 0, 0, 0]}]}', "not a list of numbers"),
        (b'{"data": [{"index": 0, "embedding": [0, 0, 0, 0, 0, 0, 0, 0]}]}', "zero"),
    ],
)
async def test_a_malformed_reply_is_unavailable(
    server: FakeEmbeddingsServer, raw: bytes, problem: str
) -> None:
    server.then(Reply(raw=raw))
    async with embedder_for(server) as embedder:
        with pytest.raises(Unavailable, match="malformed reply") as raised:
            await embedder.embed_query("odd")

    assert problem in raised.value.message
    assert len(server.requests) == 1


# --- building it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "problem"),
    [
        ({"model": " "}, "model", "model name"),
        ({"dimension": 0}, "dimension", "from 1 to 16000"),
        ({"batch_size": 4096}, "batch_size", "from 1 to 2048"),
        ({"max_retries": -1}, "max_retries", "from 0"),
        ({"timeout": 0}, "timeout", "more than 0"),
        ({"base_url": "ftp://files.example.com"}, "base_url", "http:// or https://"),
        ({"model": "text-embedding-3-small", "dimension": 384}, "embedding_dimension", "use 1536"),
        (
            {"model": "text-embedding-3-large", "dimension": 4096, "request_dimensions": True},
            "embedding_dimension",
            "at most 3072",
        ),
        (
            {"model": "text-embedding-ada-002", "dimension": 256, "request_dimensions": True},
            "request_dimensions",
            "cannot shorten",
        ),
    ],
)
def test_bad_arguments_are_refused_when_built(options: dict[str, Any], field: str, problem: str) -> None:
    values: dict[str, Any] = {"model": MODEL, "dimension": DIMENSION, "base_url": "http://127.0.0.1:9/v1"}
    with pytest.raises(InvalidInput) as raised:
        OpenAICompatibleEmbedder(**{**values, **options})
    assert raised.value.field == field
    assert problem in raised.value.problem


def test_openai_models_with_their_own_or_a_shortened_dimension_are_accepted() -> None:
    native = OpenAICompatibleEmbedder(model="text-embedding-3-small", dimension=1536)
    short = OpenAICompatibleEmbedder(model="text-embedding-3-large", dimension=256, request_dimensions=True)
    assert (native.dimension, short.dimension) == (1536, 256)
    assert short.name == "openai:text-embedding-3-large"


async def test_aclose_closes_its_own_client_but_not_an_injected_one(server: FakeEmbeddingsServer) -> None:
    own = embedder_for(server)
    await own.aclose()
    assert own.closed

    async with httpx.AsyncClient(trust_env=False) as client:
        borrowed = embedder_for(server, client=client)
        await borrowed.embed_query("via the caller's client")
        await borrowed.aclose()
        assert not client.is_closed
    assert len(server.requests) == 1


async def test_an_injected_transport_replaces_the_network() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": fake_vector("x")}]})

    embedder = OpenAICompatibleEmbedder(
        model=MODEL, dimension=DIMENSION, base_url="https://embeddings.invalid/v1",
        transport=httpx.MockTransport(handle),
    )  # fmt: skip
    async with embedder:
        vector = await embedder.embed_query("x")

    assert str(seen[0].url) == "https://embeddings.invalid/v1/embeddings"
    assert vector == pytest.approx(tuple(fake_vector("x")))
