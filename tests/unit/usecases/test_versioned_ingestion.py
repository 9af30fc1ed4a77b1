"""Re-ingestion done right, on every backend: idempotent by content, versioned, no stale chunks.

A counting embedder records every text it embeds, so "no new embeddings" is checked
directly rather than inferred.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.adapters.chunking import TextChunker
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput, NotFound
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.model.document_version import VersionStatus
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.blob_store import document_prefix
from tenantrag.domain.ports.parser import UnparseableDocument
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.ingestion import SubmitOutcome
from tests.unit.usecases.workspace import DIMENSION, Workspace

PARAGRAPHS = [f"Paragraph {i} is about topic{i} and nothing else at all." for i in range(6)]


class CountingEmbedder(HashingEmbedder):
    def __init__(self, dimension: int) -> None:
        super().__init__(dimension)
        self.embedded: list[str] = []

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        self.embedded.extend(texts)
        return await super().embed_documents(texts)


@pytest.fixture
def counting(app: TenantRag) -> tuple[TenantRag, CountingEmbedder]:
    embedder = CountingEmbedder(DIMENSION)
    # Small chunks without overlap: each paragraph is a chunk of its own.
    app.ingestion = attrs.evolve(app.ingestion, embedder=embedder, chunker=TextChunker(60, 0))
    return app, embedder


async def _claim(app: TenantRag, job: Job) -> Job:
    """What a worker's claim does to the job, without the queue (tests/contract covers that)."""
    claimed = job.start(now=job.created_at, lease_until=job.created_at + timedelta(minutes=5))
    async with app.uow.tenant(job.tenant_id) as uow:
        await uow.jobs.update(claimed)
        await uow.commit()
    return claimed


def _text(paragraphs: Sequence[str]) -> bytes:
    return "\n\n".join(paragraphs).encode()


async def test_identical_content_is_a_no_op(
    counting: tuple[TenantRag, CountingEmbedder], workspace: Workspace
) -> None:
    app, embedder = counting
    member = workspace.actor(Role.MEMBER)
    first = await app.ingestion.submit(
        member,
        workspace.tenant.id,
        filename="a.md",
        data=_text(PARAGRAPHS),
        source_key="docs/a.md",
        wait=True,
    )
    assert first.outcome is SubmitOutcome.CREATED
    assert first.document.status is DocumentStatus.COMPLETED
    embedded, chunks = len(embedder.embedded), first.document.chunk_count
    assert embedded == chunks > 1

    again = await app.ingestion.submit(
        member,
        workspace.tenant.id,
        filename="a.md",
        data=_text(PARAGRAPHS),
        source_key="docs/a.md",
        wait=True,
    )
    assert again.outcome is SubmitOutcome.UNCHANGED
    assert again.job is None
    assert again.document.id == first.document.id
    assert again.document.chunk_count == chunks
    assert len(embedder.embedded) == embedded  # nothing embedded again
    versions = await app.documents.versions(member, workspace.tenant.id, first.document.id)
    assert [(x.version, x.status) for x in versions] == [(1, VersionStatus.ACTIVE)]


async def test_changed_content_is_a_new_version_reusing_unchanged_embeddings(
    counting: tuple[TenantRag, CountingEmbedder], workspace: Workspace
) -> None:
    app, embedder = counting
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    first = await app.ingestion.submit(
        member, tenant, filename="a.md", data=_text(PARAGRAPHS), source_key="a", wait=True
    )
    before = {c.content: c for c in await app.documents.chunks(member, tenant, first.document.id)}
    embedder.embedded.clear()

    edited = [*PARAGRAPHS[:3], "A brand new paragraph replaces the old fourth one.", *PARAGRAPHS[4:]]
    second = await app.ingestion.submit(
        member, tenant, filename="a.md", data=_text(edited), source_key="a", wait=True
    )

    assert second.outcome is SubmitOutcome.NEW_VERSION
    assert second.document.id == first.document.id
    assert second.document.version == 2
    assert embedder.embedded == ["A brand new paragraph replaces the old fourth one."]
    after = await app.documents.chunks(member, tenant, first.document.id)
    assert [c.content for c in after] == edited  # no stale chunk, none missing, in order
    assert [c.ordinal for c in after] == list(range(len(edited)))
    for chunk in after:  # unchanged chunks kept their ids and embeddings
        if chunk.content in before:
            assert (chunk.id, chunk.embedding) == (before[chunk.content].id, before[chunk.content].embedding)
    versions = await app.documents.versions(member, tenant, first.document.id)
    assert [(x.version, x.status) for x in versions] == [
        (1, VersionStatus.SUPERSEDED),
        (2, VersionStatus.ACTIVE),
    ]
    assert versions[1].reused_chunks == len(edited) - 1
    hits = await app.search.search(member, tenant, text="brand new paragraph", k=1)
    assert [(h.document_id, h.document_version) for h in hits] == [(first.document.id, 2)]


async def test_an_upload_returns_a_queued_job_and_search_keeps_the_active_version(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    first = await app.ingestion.submit(
        member, tenant, filename="n.txt", data=b"old words here", source_key="n", wait=True
    )
    queued = await app.ingestion.submit(
        member, tenant, filename="n.txt", data=b"new words there", source_key="n"
    )
    assert queued.job is not None
    assert queued.job.status is JobStatus.QUEUED
    assert queued.document.status is DocumentStatus.PENDING
    # Until the job runs, search serves version 1, whole.
    hits = await app.search.search(member, tenant, text="old words", k=5)
    assert {(h.document_id, h.document_version, h.content) for h in hits} == {
        (first.document.id, 1, "old words here")
    }

    await app.ingestion.run(await _claim(app, queued.job))
    chunks = await app.documents.chunks(member, tenant, first.document.id)
    assert [c.content for c in chunks] == ["new words there"]
    document = await app.documents.get(member, tenant, first.document.id)
    assert (document.status, document.version) == (DocumentStatus.COMPLETED, 2)
    job = await app.jobs.get(member, tenant, queued.job.id)
    assert job.status is JobStatus.SUCCEEDED


async def test_a_refused_synchronous_upload_leaves_nothing_behind(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    with pytest.raises(UnparseableDocument, match=r"broken\.pdf"):
        await app.ingestion.submit(
            member, tenant, filename="broken.pdf", data=b"%PDF-1.7 garbage", media_type="application/pdf",
            wait=True,
        )  # fmt: skip
    assert (await app.documents.list(member, tenant)).items == ()
    async with app.uow.tenant(tenant) as uow:
        assert (await uow.jobs.list(PageRequest())).items == ()


async def test_a_failed_upload_can_be_deleted_and_its_blobs_go_with_it(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    queued = await app.ingestion.submit(
        member, tenant, filename="broken.pdf", data=b"%PDF-1.7 garbage", media_type="application/pdf"
    )
    assert queued.job is not None
    claimed = await _claim(app, queued.job)
    with pytest.raises(UnparseableDocument, match=r"broken\.pdf"):
        await app.ingestion.run(claimed)
    await app.ingestion.give_up(claimed, "broken.pdf: not a PDF")  # what the worker does next
    [document] = (await app.documents.list(member, tenant)).items
    assert document.status is DocumentStatus.FAILED
    assert "broken.pdf" in (document.error_message or "")
    [version] = await app.documents.versions(member, tenant, document.id)
    assert version.status is VersionStatus.FAILED
    assert await app.documents.blobs.exists(tenant, version.storage_key)

    await app.documents.delete(workspace.actor(Role.ADMIN), tenant, document.id)
    assert not await app.documents.blobs.exists(tenant, version.storage_key)
    assert await app.documents.blobs.delete_prefix(tenant, document_prefix(document.id)) == 0
    with pytest.raises(NotFound):
        await app.documents.versions(member, tenant, document.id)


async def test_a_document_deleted_before_its_job_runs_stays_deleted(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    queued = await app.ingestion.submit(member, tenant, filename="gone.txt", data=b"soon gone")
    assert queued.job is not None
    claimed = await _claim(app, queued.job)
    await app.documents.delete(member, tenant, queued.document.id)
    await app.ingestion.run(claimed)
    assert (await app.documents.list(member, tenant)).items == ()
    async with app.uow.tenant(tenant) as uow:
        assert await uow.chunks.count() == 0


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    contents=st.lists(st.lists(st.sampled_from(PARAGRAPHS), min_size=1, max_size=5), min_size=1, max_size=4)
)
async def test_any_sequence_of_uploads_leaves_exactly_the_last_content(
    counting: tuple[TenantRag, CountingEmbedder], workspace: Workspace, contents: list[list[str]]
) -> None:
    app, embedder = counting
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    key = f"prop-{id(contents)}"
    seen: set[str] = set()
    for paragraphs in contents:
        embedder.embedded.clear()
        previous = set(seen)
        submission = await app.ingestion.submit(
            member, tenant, filename="p.md", data=_text(paragraphs), source_key=key, wait=True
        )
        chunks = await app.documents.chunks(member, tenant, submission.document.id)
        assert [c.content for c in chunks] == paragraphs
        # Only texts the document did not hold just before were embedded.
        assert set(embedder.embedded) <= set(paragraphs) - previous
        seen = set(paragraphs)
        versions = await app.documents.versions(member, tenant, submission.document.id)
        assert sum(x.status is VersionStatus.ACTIVE for x in versions) == 1
        assert versions[-1].status is VersionStatus.ACTIVE
    await app.documents.delete(member, tenant, submission.document.id)


async def test_bad_input_is_refused_before_anything_is_stored(app: TenantRag, workspace: Workspace) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    with pytest.raises(InvalidInput) as refused:
        await app.ingestion.submit(member, tenant, filename="a.txt", data=b"words", tags=["ok", "x" * 500])
    assert refused.value.field == "tags"
    assert (await app.documents.list(member, tenant)).items == ()
    assert await app.documents.blobs.delete_prefix(tenant, "documents") == 0  # no blob was written
