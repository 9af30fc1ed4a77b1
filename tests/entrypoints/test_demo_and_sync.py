"""The demo seed and the idempotent document sync, on memory:// through the container."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from dependency_injector import providers

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints import demo
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.document_sync import DocumentIndex, SyncStatus
from tenantrag.entrypoints.settings import Settings

SYSTEM = Principal.system()


class FlakyEmbedder(HashingEmbedder):
    """Refuses texts containing "boom", as a model endpoint refuses a request."""

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        if any("boom" in text for text in texts):
            raise RuntimeError("the embedding service is down")
        return await super().embed_documents(texts)


@pytest.fixture
async def rag(clean_env: Path) -> AsyncIterator[TenantRag]:
    container = container_for(Settings(_env_file=None, database_url="memory://", embedder="hashing"))
    container.embedder.override(providers.Object(FlakyEmbedder(dimension=384)))
    async with running(container) as wired:
        yield wired


def test_the_samples_are_bundled_markdown() -> None:
    samples = demo.sample_documents()
    assert len(samples) >= 3
    assert all(name.endswith(".md") and text.startswith("# ") for name, text in samples.items())


async def test_seeding_twice_finds_what_the_first_run_made(rag: TenantRag) -> None:
    first = await demo.seed(rag)
    second = await demo.seed(rag)
    assert (first.created_user, first.created_tenant) == (True, True)
    assert (second.created_user, second.created_tenant) == (False, False)
    assert (second.user, second.tenant) == (first.user, first.tenant)
    assert (
        await rag.users.authenticate(email=demo.DEMO_EMAIL, password=demo.DEMO_PASSWORD)
    ).id == first.user.id
    assert first.tenant.name == demo.DEMO_TENANT_NAME


async def test_seeding_restores_the_demo_users_ownership(rag: TenantRag) -> None:
    seeded = await demo.seed(rag)
    other = await rag.users.register(email="other@example.com")
    await rag.members.add(SYSTEM, seeded.tenant.id, user_id=other.id, role="owner")
    await rag.members.set_active(SYSTEM, seeded.tenant.id, seeded.user.id, False)
    await rag.members.change_role(SYSTEM, seeded.tenant.id, seeded.user.id, "viewer")

    await demo.seed(rag)
    membership = await rag.members.get(SYSTEM, seeded.tenant.id, seeded.user.id)
    assert (membership.role.value, membership.is_active) == ("owner", True)


async def test_samples_are_ingested_once(rag: TenantRag) -> None:
    tenant = (await demo.seed(rag)).tenant
    first = await demo.ingest_samples(rag, tenant)
    second = await demo.ingest_samples(rag, tenant)
    assert {result.status for result in first} == {SyncStatus.CREATED}
    assert {result.status for result in second} == {SyncStatus.UNCHANGED}
    assert [r.document.id for r in first] == [r.document.id for r in second]
    documents = await rag.documents.list(SYSTEM, tenant.id, tag=demo.SAMPLE_TAG)
    assert len(documents) == len(demo.sample_documents())


async def test_sync_updates_changed_and_failed_documents_in_place(rag: TenantRag) -> None:
    tenant = (await demo.seed(rag)).tenant
    index = DocumentIndex(rag, SYSTEM, tenant.id)

    created = await index.sync(filename="a.md", data="first version")
    changed = await index.sync(filename="a.md", data="second version")
    assert (created.status, changed.status) == (SyncStatus.CREATED, SyncStatus.UPDATED)
    assert changed.document.id == created.document.id

    with pytest.raises(RuntimeError, match="embedding service is down"):
        await index.sync(filename="b.md", data="boom")
    reloaded = DocumentIndex(rag, SYSTEM, tenant.id)
    [failed] = (await rag.documents.list(SYSTEM, tenant.id, status="failed")).items
    assert (failed.filename, failed.source_key) == ("b.md", "b.md")
    retried = await reloaded.sync(filename="b.md", data="fine now")
    assert retried.status is SyncStatus.UPDATED
    assert retried.document.status is DocumentStatus.COMPLETED
    assert (await reloaded.sync(filename="a.md", data="second version")).status is SyncStatus.UNCHANGED
