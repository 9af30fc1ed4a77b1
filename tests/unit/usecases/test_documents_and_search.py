"""Documents: the ingestion lifecycle, chunks, deletion, listing, and search over them."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.search import SearchFilter, VectorQuery
from tenantrag.domain.usecases.app import TenantRag
from tests.search_reference import assert_same_hits, exact_top_k
from tests.unit.usecases.workspace import DIMENSION, Workspace

CATS = "Cats are small domesticated carnivores. Cats purr when content and sleep most of the day."
ROCKETS = "Rockets burn propellant to produce thrust. A rocket engine expels exhaust at high speed."


async def test_add_text_ingests_into_chunks(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    text = "\n\n".join([CATS] * 30)
    document = await app.ingestion.add_text(
        member, workspace.tenant.id, filename="cats.md", text=text, metadata={"source": "wiki"}, tags=["pets"]
    )
    assert document.status is DocumentStatus.COMPLETED
    assert document.processed_at is not None
    assert document.size_bytes == len(text.encode())
    chunks = await app.documents.chunks(member, workspace.tenant.id, document.id)
    assert len(chunks) == document.chunk_count > 1
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert text[chunk.metadata["char_start"] : chunk.metadata["char_end"]] == chunk.content
        assert chunk.metadata["source"] == "wiki"
        assert len(chunk.embedding) == DIMENSION
    [job] = (await app.jobs.list(member, workspace.tenant.id, document_id=document.id)).items
    assert job.status is JobStatus.SUCCEEDED
    assert job.progress == 100
    assert job.attempts == 1


async def test_search_finds_the_relevant_document_first(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    cats = await app.ingestion.add_text(
        member, workspace.tenant.id, filename="cats.txt", text=CATS, tags=["pets"]
    )
    await app.ingestion.add_text(
        member, workspace.tenant.id, filename="rockets.txt", text=ROCKETS, tags=["space"]
    )
    hits = await app.search.search(
        workspace.actor(Role.VIEWER), workspace.tenant.id, text="why do cats purr", k=2
    )
    assert hits[0].document_id == cats.id
    assert hits[0].document_version == cats.version
    assert hits[0].score >= hits[1].score
    only_space = await app.search.search(
        member,
        workspace.tenant.id,
        text="cats purr",
        filter=SearchFilter.from_json({"tags": {"$any": ["space"]}}),
    )
    assert {h.document_id for h in only_space} != {cats.id}
    assert all(h.document_id != cats.id for h in only_space)


async def test_search_equals_brute_force_over_the_tenant(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    for i in range(6):
        await app.ingestion.add_text(
            member, workspace.tenant.id, filename=f"{i}.txt", text=f"{CATS} {ROCKETS} number {i}",
            metadata={"n": i % 2}, tags=[f"t{i % 3}"],
        )  # fmt: skip
    await app.ingestion.add_text(workspace.stranger, workspace.other_tenant.id, filename="x.txt", text=CATS)
    query_vector = await HashingEmbedder(DIMENSION).embed_query("cats rockets number")
    flt = SearchFilter.from_json({"metadata.n": 1, "tags": {"$any": ["t0", "t1"]}})
    hits = await app.search.search(member, workspace.tenant.id, embedding=query_vector, k=4, filter=flt)
    async with app.uow.tenant(workspace.tenant.id) as uow:
        docs = (await uow.documents.list(PageRequest(limit=100))).items
        rows = [(c, d) for d in docs for c in await uow.chunks.list_for_document(d.id)]
    assert_same_hits(hits, exact_top_k(VectorQuery(embedding=query_vector, k=4, filter=flt), rows))


async def test_search_rejects_bad_queries(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    with pytest.raises(InvalidInput) as raised:
        await app.search.search(member, workspace.tenant.id, embedding=[1.0] * (DIMENSION + 1))
    assert raised.value.field == "embedding"
    with pytest.raises(InvalidInput):
        await app.search.search(member, workspace.tenant.id, embedding=[0.0] * DIMENSION)
    with pytest.raises(InvalidInput):
        await app.search.search(member, workspace.tenant.id, text="x", embedding=[1.0] * DIMENSION)
    with pytest.raises(InvalidInput) as raised:
        await app.search.search(member, workspace.tenant.id, text="x", k=0)
    assert raised.value.field == "k"
    with pytest.raises(NotFound):
        await app.search.search(workspace.stranger, workspace.tenant.id, text="cats")


async def test_viewers_read_but_do_not_write(app: TenantRag, workspace: Workspace) -> None:
    viewer = workspace.actor(Role.VIEWER)
    with pytest.raises(PermissionDenied):
        await app.ingestion.add_text(viewer, workspace.tenant.id, filename="v.txt", text="no")
    document = await app.ingestion.add_text(
        workspace.actor(Role.MEMBER), workspace.tenant.id, filename="m.txt", text=CATS
    )
    assert (await app.documents.get(viewer, workspace.tenant.id, document.id)).id == document.id
    with pytest.raises(PermissionDenied):
        await app.documents.delete(viewer, workspace.tenant.id, document.id)


async def test_delete_removes_chunks_from_search(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    document = await app.ingestion.add_text(member, workspace.tenant.id, filename="c.txt", text=CATS)
    await app.documents.delete(member, workspace.tenant.id, document.id)
    assert list(await app.search.search(member, workspace.tenant.id, text="cats")) == []
    with pytest.raises(NotFound):
        await app.documents.get(member, workspace.tenant.id, document.id)
    assert (await app.jobs.list(member, workspace.tenant.id)).items == ()


async def test_reingesting_replaces_the_chunks(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    document = await app.ingestion.add_text(member, workspace.tenant.id, filename="c.txt", text=CATS)
    again = await app.ingestion.ingest_text(member, workspace.tenant.id, document.id, ROCKETS)
    assert again.status is DocumentStatus.COMPLETED
    chunks = await app.documents.chunks(member, workspace.tenant.id, document.id)
    assert "".join(c.content for c in chunks) == ROCKETS
    hits = await app.search.search(member, workspace.tenant.id, text="cats purr")
    assert all("Cats" not in h.content for h in hits)


class FailingEmbedder(HashingEmbedder):
    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        raise RuntimeError("embedding service unavailable")


async def test_a_failed_ingest_marks_document_and_job_failed(workspace: Workspace, app: TenantRag) -> None:

    failing = attrs.evolve(app.ingestion, embedder=FailingEmbedder(DIMENSION))
    member = workspace.actor(Role.MEMBER)
    with pytest.raises(RuntimeError):
        await failing.add_text(member, workspace.tenant.id, filename="f.txt", text=CATS)
    [document] = (await app.documents.list(member, workspace.tenant.id, status="failed")).items
    assert document.error_message == "RuntimeError: embedding service unavailable"
    assert list(await app.documents.chunks(member, workspace.tenant.id, document.id)) == []
    [job] = (await app.jobs.list(member, workspace.tenant.id, document_id=document.id)).items
    assert job.status is JobStatus.FAILED
    retried = await app.ingestion.ingest_text(member, workspace.tenant.id, document.id, CATS)
    assert retried.status is DocumentStatus.COMPLETED


class DeletingEmbedder(HashingEmbedder):
    """Deletes the document while it is being embedded, as a concurrent user might."""

    app: TenantRag
    workspace: Workspace

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        page = await self.app.documents.list(self.workspace.actor(Role.OWNER), self.workspace.tenant.id)
        for document in page.items:
            await self.app.documents.delete(
                self.workspace.actor(Role.OWNER), self.workspace.tenant.id, document.id
            )
        return await super().embed_documents(texts)


async def test_a_document_deleted_during_ingest_stays_deleted(app: TenantRag, workspace: Workspace) -> None:

    embedder = DeletingEmbedder(DIMENSION)
    embedder.app, embedder.workspace = app, workspace
    racing = attrs.evolve(app.ingestion, embedder=embedder)
    with pytest.raises(NotFound):
        await racing.add_text(workspace.actor(Role.MEMBER), workspace.tenant.id, filename="r.txt", text=CATS)
    assert (await app.documents.list(workspace.actor(Role.MEMBER), workspace.tenant.id)).items == ()
    async with app.uow.tenant(workspace.tenant.id) as uow:
        assert await uow.chunks.count() == 0


async def test_listing_filters_and_pages(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    for i in range(5):
        await app.ingestion.add_text(
            member, workspace.tenant.id, filename=f"{i}.txt", text=CATS, tags=[f"t{i % 2}"]
        )
    await app.ingestion.submit(member, workspace.tenant.id, filename="pending.txt", data=b"queued")
    first = await app.documents.list(member, workspace.tenant.id, PageRequest(limit=4))
    assert len(first.items) == 4
    assert first.next_cursor is not None
    rest = await app.documents.list(
        member, workspace.tenant.id, PageRequest(limit=4, after=first.next_cursor)
    )
    assert len(rest.items) == 2
    assert rest.next_cursor is None
    assert len((await app.documents.list(member, workspace.tenant.id, status="pending")).items) == 1
    assert len((await app.documents.list(member, workspace.tenant.id, tag="t0")).items) == 3
    with pytest.raises(InvalidInput):
        await app.documents.list(member, workspace.tenant.id, status="exploded")
