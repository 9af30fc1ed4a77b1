"""Document, version and job status machines: legal edges work, illegal ones raise, invariants
hold, and the rules stated on the entities (activation, the claim) do what ingestion and the
queue rely on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput, InvalidTransition
from tenantrag.domain.model.document import DOCUMENT_TRANSITIONS, Document, DocumentStatus
from tenantrag.domain.model.document_version import DocumentVersion, VersionStatus
from tenantrag.domain.model.job import JOB_TRANSITIONS, Job, JobStatus
from tenantrag.domain.validation import MAX_ERROR_LENGTH

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def a_document() -> Document:
    return Document(
        id=uuid.uuid4(), tenant_id=uuid.uuid4(), filename="a.txt", storage_key="documents/a.txt",
        created_at=T0, updated_at=T0,
    )  # fmt: skip


def a_job() -> Job:
    return Job(id=uuid.uuid4(), tenant_id=uuid.uuid4(), kind="ingest", created_at=T0, updated_at=T0)


@given(st.lists(st.sampled_from(list(DocumentStatus)), max_size=30))
def test_document_walks_only_legal_edges(targets: list[DocumentStatus]) -> None:
    document = a_document()
    now = T0
    for target in targets:
        now += timedelta(seconds=1)
        legal = target in DOCUMENT_TRANSITIONS[document.status]
        if legal:
            document = document.transition(target, now=now, error="boom")
            assert document.status is target
            assert document.updated_at == now
        else:
            before = document
            with pytest.raises(InvalidTransition):
                document.transition(target, now=now)
            assert document == before
        assert (document.error_message is not None) == (document.status is DocumentStatus.FAILED)
        if document.status is DocumentStatus.COMPLETED:
            assert document.processed_at is not None


def test_document_lifecycle_edges_are_exactly_these() -> None:
    edges = {(a.value, b.value) for a, targets in DOCUMENT_TRANSITIONS.items() for b in targets}
    assert edges == {
        ("pending", "processing"), ("pending", "failed"),
        ("processing", "completed"), ("processing", "failed"), ("processing", "pending"),
        ("completed", "pending"), ("failed", "pending"),
    }  # fmt: skip


def test_a_failed_document_must_say_why() -> None:
    with pytest.raises(InvalidInput) as raised:
        Document(
            id=uuid.uuid4(), tenant_id=uuid.uuid4(), filename="a", storage_key="k",
            status="failed", created_at=T0, updated_at=T0,
        )  # fmt: skip
    assert raised.value.field == "error_message"


@given(st.lists(st.sampled_from(list(JobStatus)), max_size=20))
def test_job_walks_only_legal_edges(targets: list[JobStatus]) -> None:
    job = a_job()
    now = T0
    for target in targets:
        now += timedelta(seconds=1)
        legal = target in JOB_TRANSITIONS[job.status]
        if not legal:
            if target is JobStatus.RUNNING:
                with pytest.raises(InvalidTransition):
                    job.start(now=now, lease_until=now + timedelta(minutes=1))
            else:
                with pytest.raises(InvalidTransition):
                    job.finish(target, now=now, error="x")
            continue
        attempts = job.attempts
        if target is JobStatus.RUNNING:
            job = job.start(now=now, lease_until=now + timedelta(minutes=1))
            assert job.attempts == attempts + 1
            assert job.lease_expires_at is not None
        else:
            job = job.finish(target, now=now, error="x")
            assert job.lease_expires_at is None
        assert job.status is target
        assert (job.error is not None) == (job.status is JobStatus.FAILED)
        assert 0 <= job.progress <= 100


def test_job_progress_is_bounded() -> None:
    job = a_job().start(now=T0, lease_until=T0 + timedelta(minutes=1))
    assert job.report(progress=40, summary="halfway", now=T0).progress == 40
    with pytest.raises(InvalidInput) as raised:
        job.report(progress=101, summary=None, now=T0)
    assert raised.value.field == "progress"
    assert job.finish(JobStatus.SUCCEEDED, now=T0).progress == 100


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_queued_job_is_claimable_once_its_retry_delay_is_over() -> None:
    job = a_job()
    assert job.claimable(at(0))
    delayed = job.start(now=at(0), lease_until=at(5)).queued_again(now=at(1), error="boom", not_before=at(10))
    assert delayed.status is JobStatus.QUEUED
    assert delayed.error == "boom"
    assert not delayed.claimable(at(9))
    assert delayed.claimable(at(10))


def test_a_running_job_is_claimable_only_when_its_lease_ran_out() -> None:
    running = a_job().claimed(now=at(0), lease_until=at(60))
    assert (running.status, running.attempts, running.started_at) == (JobStatus.RUNNING, 1, at(0))
    assert not running.claimable(at(60))
    assert running.claimable(at(61))
    taken_over = running.claimed(now=at(61), lease_until=at(121))
    assert (taken_over.status, taken_over.attempts, taken_over.lease_expires_at) == (
        JobStatus.RUNNING, 2, at(121),
    )  # fmt: skip
    without_lease = attrs.evolve(running, lease_expires_at=None)
    assert not without_lease.claimable(at(1000))
    with pytest.raises(InvalidTransition):
        without_lease.claimed(now=at(1000), lease_until=at(1060))


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_a_finished_job_is_never_claimable(status: JobStatus) -> None:
    finished = a_job().start(now=at(0), lease_until=at(1)).finish(status, now=at(0), error="x")
    assert not finished.claimable(at(1000))


def test_a_lease_must_end_after_now() -> None:
    with pytest.raises(InvalidInput) as raised:
        a_job().claimed(now=at(10), lease_until=at(10))
    assert raised.value.field == "lease_until"


def test_errors_are_cut_to_the_one_limit() -> None:
    long = "x" * (MAX_ERROR_LENGTH + 10)
    running = a_job().start(now=at(0), lease_until=at(60))
    assert running.finish(JobStatus.FAILED, now=at(1), error=long).error == long[:MAX_ERROR_LENGTH]
    requeued = running.queued_again(now=at(1), error=long, not_before=at(2))
    assert requeued.error == long[:MAX_ERROR_LENGTH]
    document = a_document().failed(now=at(1), error=long)
    assert document.error_message == long[:MAX_ERROR_LENGTH]


def a_version(document: Document, number: int) -> DocumentVersion:
    return DocumentVersion(
        id=uuid.uuid4(), tenant_id=document.tenant_id, document_id=document.id, version=number,
        content_sha256="a" * 64, size_bytes=12, media_type="text/markdown",
        storage_key=f"documents/{document.id}/v{number}/a.md", created_at=T0, updated_at=T0,
    )  # fmt: skip


@pytest.mark.parametrize("status", list(DocumentStatus))
def test_a_document_activates_a_version_from_any_status(status: DocumentStatus) -> None:
    document = attrs.evolve(
        a_document(), title="a.txt", status=status,
        error_message="boom" if status is DocumentStatus.FAILED else None,
        processed_at=T0 if status is DocumentStatus.COMPLETED else None,
    )  # fmt: skip
    version = a_version(document, 2).transition(VersionStatus.PROCESSING, now=at(1))
    active = version.activate(now=at(2), chunk_count=3, reused_chunks=1)
    assert (active.status, active.chunk_count, active.reused_chunks) == (VersionStatus.ACTIVE, 3, 1)

    completed = document.activate(active, now=at(2), parsed_title="Parsed", newer_queued=False)
    assert completed.status is DocumentStatus.COMPLETED
    assert (completed.processed_at, completed.updated_at, completed.error_message) == (at(2), at(2), None)
    assert (completed.version, completed.chunk_count, completed.media_type) == (2, 3, "text/markdown")
    assert (completed.content_sha256, completed.size_bytes) == (active.content_sha256, 12)
    assert completed.storage_key == active.storage_key
    assert completed.title == "Parsed"  # the title only repeated the filename

    again = document.activate(active, now=at(2), parsed_title=None, newer_queued=True)
    assert (again.status, again.version, again.title) == (DocumentStatus.PENDING, 2, "a.txt")


def test_a_title_given_by_the_caller_survives_activation() -> None:
    document = attrs.evolve(a_document(), title="Mine")
    version = a_version(document, 1).transition(VersionStatus.PROCESSING, now=at(1))
    active = version.activate(now=at(2), chunk_count=0, reused_chunks=0)
    assert document.activate(active, now=at(2), parsed_title="Parsed", newer_queued=False).title == "Mine"


def test_a_document_activates_only_its_own_versions() -> None:
    version = a_version(a_document(), 1).transition(VersionStatus.PROCESSING, now=at(1))
    with pytest.raises(InvalidInput):
        a_document().activate(version, now=at(2), parsed_title=None, newer_queued=False)


def test_queued_started_and_failed_take_the_legal_path() -> None:
    document = a_document()
    assert document.queued(now=at(1)) is document
    started = document.started(now=at(1))
    assert started.status is DocumentStatus.PROCESSING
    assert started.started(now=at(2)) is started
    failed = started.failed(now=at(2), error="boom")
    assert (failed.status, failed.error_message) == (DocumentStatus.FAILED, "boom")
    assert failed.failed(now=at(3), error="again").error_message == "again"
    assert failed.queued(now=at(3)).status is DocumentStatus.PENDING
    assert failed.started(now=at(3)).status is DocumentStatus.PROCESSING


def test_statuses_are_parsed_naming_the_allowed_values() -> None:
    with pytest.raises(InvalidInput) as raised:
        DocumentVersion(**{**attrs.asdict(a_version(a_document(), 1), recurse=False), "status": "gone"})
    assert raised.value.field == "status"
    assert "pending, processing, active, superseded, failed" in raised.value.problem
    with pytest.raises(InvalidInput, match="queued, running"):
        attrs.evolve(a_job(), status="lost")
