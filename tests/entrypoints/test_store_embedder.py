"""The default embedder and existing stores: without EMBEDDER a store keeps the embedder it
records, a new store gets wordllama, and nothing is ever mixed (entrypoints/store_embedder.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings

KIWI = "The kiwi is a flightless bird of New Zealand. It forages at night for worms and insects."
OTHERS = {
    "isolation.txt": "Tenant isolation: every query is scoped to one tenant, and rows never cross tenants.",
    "keys.txt": "API keys are issued per user, carry a role cap, and can be revoked at any time.",
    "search.txt": "Hybrid search fuses full-text and vector rankings by reciprocal rank fusion.",
}
QUESTION = "which animal is nocturnal and cannot fly?"


def settings(database: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite:///{database}", **values)


async def fill(rag: Any) -> Any:
    owner = await rag.users.register(email="keeper@example.com", password="a long passphrase")
    tenant = await rag.tenants.create(Principal.system(), name="Zoo", owner_id=owner.id)
    for name, text in {"kiwi.txt": KIWI, **OTHERS}.items():
        await rag.ingestion.submit(
            Principal.system(), tenant.id, filename=name, data=text.encode(), wait=True
        )
    return tenant


async def test_a_new_store_gets_wordllama_and_finds_meaning(clean_env: Path) -> None:
    async with running(container_for(settings(clean_env / "new.db"))) as rag:
        assert rag.embedder.name.startswith("wordllama:")
        assert rag.uow.dimension == 256
        tenant = await fill(rag)
        hits = await rag.search.search(Principal.system(), tenant.id, text=QUESTION, mode="vector", k=4)
    assert hits[0].content == KIWI


async def test_bootstrap_uses_wordllama_too() -> None:
    rag = bootstrap()
    try:
        assert rag.embedder.name.startswith("wordllama:")
        tenant = await fill(rag)
        hits = await rag.search.search(Principal.system(), tenant.id, text=QUESTION, mode="vector", k=4)
    finally:
        await rag.uow.dispose()  # type: ignore[attr-defined]
    assert hits[0].content == KIWI


async def test_a_hashing_store_opened_without_embedder_keeps_hashing(clean_env: Path) -> None:
    database = clean_env / "old.db"
    async with running(container_for(settings(database, embedder="hashing"))) as rag:
        tenant = await fill(rag)

    async with running(container_for(settings(database))) as rag:
        assert (rag.embedder.name, rag.uow.dimension) == ("hashing-384", 384)
        hits = await rag.search.search(Principal.system(), tenant.id, text="tenant isolation", k=1)
        assert hits[0].content == OTHERS["isolation.txt"]


async def test_a_hashing_store_refuses_wordllama_when_it_is_asked_for(clean_env: Path) -> None:
    database = clean_env / "old.db"
    async with running(container_for(settings(database, embedder="hashing"))):
        pass
    with pytest.raises(InvalidInput) as raised:
        async with running(container_for(settings(database, embedder="wordllama"))):
            pass
    assert "384-dimensional vectors made by hashing-384" in raised.value.message


async def test_a_store_of_a_model_the_settings_must_name_says_what_to_set(clean_env: Path) -> None:
    database = clean_env / "minilm.db"
    async with running(container_for(settings(database, embedder="hashing"))):
        pass
    connection = sqlite3.connect(database)
    try:
        with connection:
            connection.execute(
                "UPDATE embedding_models SET name = 'fastembed:BAAI/bge-small-en-v1.5@0123456789ab'"
            )
    finally:
        connection.close()

    with pytest.raises(InvalidInput) as raised:
        async with running(container_for(settings(database))):
            pass
    assert raised.value.field == "embedder"
    message = raised.value.message
    assert "made by fastembed:BAAI/bge-small-en-v1.5@0123456789ab (384 dimensions)" in message
    assert "set EMBEDDER=fastembed, EMBEDDING_MODEL to that model ('BAAI/bge-small-en-v1.5'" in message
    assert "EMBEDDING_DIMENSION=384" in message
    assert "pip install 'tenantrag[fastembed]'" in message


async def test_a_store_that_is_not_there_yet_is_not_created_by_the_look(clean_env: Path) -> None:
    from tenantrag.entrypoints.store_embedder import read_recorded_embedder

    assert await read_recorded_embedder(settings(clean_env / "absent.db")) is None
    assert not (clean_env / "absent.db").exists()
