"""Front matter and the caller's metadata across versions, and a text's format by its name, on memory://."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.sqlite import open_memory_sqlite_async
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap

pytestmark = pytest.mark.memory
DIMENSION = 16
ROOT = Principal.system()


@pytest.fixture
async def rag() -> AsyncIterator[tuple[TenantRag, str]]:
    store = await open_memory_sqlite_async(DIMENSION)
    try:
        app = bootstrap(uow=store, embedder=HashingEmbedder(dimension=DIMENSION))
        owner = await app.users.register(email="owner@example.com", password="correct horse battery")
        tenant = await app.tenants.create(Principal.user(owner.id), name="Acme")
        yield app, str(tenant.id)
    finally:
        await store.dispose()


def plan(year: int, team: str = "rockets") -> bytes:
    return f"---\nyear: {year}\nteam: {team}\n---\n# Plan\n\nLaunch in {year}.\n".encode()


async def test_the_files_keys_follow_the_file_and_the_callers_keys_stay(rag: tuple[TenantRag, str]) -> None:
    app, tenant = rag
    first = await app.ingestion.submit(
        ROOT, tenant, filename="plan.md", data=plan(2023), source_key="plan", metadata={"team": "ops"},
        wait=True,
    )  # fmt: skip
    assert first.document.metadata == {"year": 2023, "team": "ops", "front_matter_keys": ["year"]}
    [chunk] = await app.documents.chunks(ROOT, tenant, first.document.id)
    assert chunk.content == "# Plan\n\nLaunch in 2023."
    assert {"year": 2023, "team": "ops"}.items() <= chunk.metadata.items()
    assert "front_matter_keys" not in chunk.metadata

    # A new version without metadata: the caller's team stays, the file's year is the new one.
    second = await app.ingestion.submit(
        ROOT, tenant, filename="plan.md", data=plan(2024, "rockets"), source_key="plan", wait=True
    )
    assert second.document.metadata == {"year": 2024, "team": "ops", "front_matter_keys": ["year"]}

    # New metadata replaces the caller's keys; a key the caller drops comes back from the file.
    third = await app.ingestion.submit(
        ROOT, tenant, filename="plan.md", data=plan(2025), source_key="plan", metadata={}, wait=True
    )
    assert third.document.metadata == {"year": 2025, "team": "rockets", "front_matter_keys": ["team", "year"]}

    # A version without front matter keeps only the caller's keys.
    fourth = await app.ingestion.submit(
        ROOT, tenant, filename="plan.md", data=b"# Plan\n\nCancelled.\n", source_key="plan", wait=True
    )
    assert fourth.document.metadata == {}


async def test_the_reserved_key_is_refused(rag: tuple[TenantRag, str]) -> None:
    app, tenant = rag
    with pytest.raises(InvalidInput, match="front_matter_keys") as raised:
        await app.ingestion.submit(
            ROOT, tenant, filename="a.md", data=b"x", metadata={"front_matter_keys": ["x"]}, wait=True
        )
    assert raised.value.field == "metadata"


@pytest.mark.parametrize(
    ("filename", "source_key", "media_type"),
    [
        ("a.md", None, "text/markdown"),
        ("a.HTM", None, "text/html"),
        ("a", "notes/a.markdown", "text/markdown"),
        ("a.pdf", None, "text/plain"),
        ("a", None, "text/plain"),
    ],
)
async def test_add_text_reads_the_text_as_its_name_says(
    rag: tuple[TenantRag, str], filename: str, source_key: str | None, media_type: str
) -> None:
    app, tenant = rag
    document = await app.ingestion.add_text(
        ROOT, tenant, filename=filename, text="---\nyear: 1\n---\n# T\n\nbody", source_key=source_key
    )
    assert document.media_type == media_type
    assert ("year" in document.metadata) is (media_type == "text/markdown")


async def test_an_explicit_media_type_wins(rag: tuple[TenantRag, str]) -> None:
    app, tenant = rag
    document = await app.ingestion.add_text(
        ROOT, tenant, filename="a.md", text="# T", media_type="text/plain"
    )
    assert document.media_type == "text/plain"
