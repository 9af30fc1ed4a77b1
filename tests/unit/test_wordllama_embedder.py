"""The default embedder: WordLlama's bundled model, loaded from the wheel, never the network."""

from __future__ import annotations

import logging
import math
import socket
from typing import Any

import numpy as np
import pytest

from tenantrag.adapters.embedders import wordllama
from tenantrag.adapters.embedders.wordllama import DIMENSION, WordLlamaEmbedder
from tenantrag.domain.errors import InvalidInput

TEXTS = {
    "kiwi": "The kiwi is a flightless bird of New Zealand. It forages at night for worms and insects.",
    "isolation": "Tenant isolation: every query is scoped to one tenant, and rows never cross tenants.",
    "api-keys": "API keys are issued per user, carry a role cap, and can be revoked at any time.",
    "search": "Hybrid search fuses full-text and vector rankings by reciprocal rank fusion.",
    "backup": "Back up the SQLite file with the online backup API; PostgreSQL with pg_dump.",
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Offline as far as libraries can tell, and any connection attempt fails the test."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("network access is banned in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_the_model_loads_from_the_wheel_without_the_network(
    no_network: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wordllama, "_loaded", {})  # load again, under the ban
    embedder = WordLlamaEmbedder()
    assert embedder.dimension == DIMENSION == 256
    assert embedder.name.startswith("wordllama:l2_supercat-256@")
    assert no_network == []


def test_importing_the_library_leaves_logging_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordllama, "_loaded", {})
    root = logging.getLogger()
    before = list(root.handlers)
    WordLlamaEmbedder()
    assert root.handlers == before


async def test_it_finds_meaning_not_just_words(no_network: list[Any]) -> None:
    embedder = WordLlamaEmbedder()
    names = list(TEXTS)
    documents = np.array(await embedder.embed_documents([TEXTS[name] for name in names]))
    query = np.array(await embedder.embed_query("which animal is nocturnal and cannot fly?"))

    ranking = [names[i] for i in np.argsort(-(documents @ query))]
    assert ranking[0] == "kiwi"


async def test_vectors_are_unit_length_deterministic_and_the_query_is_a_document(
    no_network: list[Any],
) -> None:
    embedder = WordLlamaEmbedder()
    texts = ["one", "a longer text about birds", "one"]
    vectors = await embedder.embed_documents(texts)
    assert all(len(vector) == DIMENSION for vector in vectors)
    assert all(math.fsum(x * x for x in vector) == pytest.approx(1.0) for vector in vectors)
    assert all(type(x) is float for x in vectors[0])
    assert vectors[0] == vectors[2]
    assert await embedder.embed_query("one") == pytest.approx(vectors[0])
    assert await embedder.embed_documents([]) == []


async def test_a_text_without_tokens_is_the_zero_vector(no_network: list[Any]) -> None:
    (vector,) = await WordLlamaEmbedder().embed_documents([""])
    assert vector == (0.0,) * DIMENSION


async def test_large_batches_keep_their_order(no_network: list[Any]) -> None:
    embedder = WordLlamaEmbedder(batch_size=7)
    texts = [f"document number {i} about {'birds' if i % 2 else 'keys'}" for i in range(600)]
    vectors = await embedder.embed_documents(texts)
    assert len(vectors) == 600
    assert vectors[599] == pytest.approx(await embedder.embed_query(texts[599]))


@pytest.mark.parametrize("dimension", [384, 128, True])
def test_another_dimension_is_refused_naming_the_variable(dimension: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        WordLlamaEmbedder(dimension=dimension)
    assert raised.value.field == "embedding_dimension"
    assert "EMBEDDING_DIMENSION" in raised.value.message
    assert "256" in raised.value.message
