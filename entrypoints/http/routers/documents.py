"""``/v1/tenants/{tenant}/documents``: add (JSON text or a multipart upload), list, read, delete.

Adding answers at once, 202 with the queued ``ingest`` job, which a worker (``tenantrag
worker``, or the one ``tenantrag serve`` runs) picks up; ``?wait=true`` ingests within the
request instead. Content the document already has answers 200 with no job.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Query, Response, UploadFile, status

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import MAX_SOURCE_KEY_LENGTH, DocumentStatus
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.usecases.ingestion import Submission, SubmitOutcome
from tenantrag.domain.validation import MAX_NAME_LENGTH, MAX_TAG_LENGTH
from tenantrag.entrypoints.http import routing
from tenantrag.entrypoints.http.context import ApiConfig
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.ingestion_schemas import SubmissionOut, VersionList, VersionOut
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import ChunkList, ChunkOut, DocumentOut, DocumentPage, DocumentText
from tenantrag.entrypoints.observability import metrics

router = api_router(prefix="/tenants/{tenant}/documents", tag="documents")

Wait = Annotated[
    bool,
    Query(description="Ingest within the request and answer with the result, instead of queueing it."),
]
_SUBMITTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "Queued: the job ingests it (see `/jobs/{id}`)."},
    201: {"description": "A new document, ingested (with `wait=true`)."},
    200: {"description": "The same content as the document's latest version: nothing to do."},
}


_ADD_RESPONSES = {**_SUBMITTED, **problems(400, 401, 403, 404, 409, 413, 415, 422)}


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=_ADD_RESPONSES)
async def add_document(
    *,
    tenant: TenantId,
    body: DocumentText,
    actor: CurrentPrincipal,
    rag: App,
    config: Config,
    response: Response,
    wait: Wait = False,
) -> SubmissionOut:
    """Add a document from its text (or a new version of the one `source_key` names); queue it."""
    data = body.text.encode()
    config.limits.check_upload(len(data))
    media_type = body.media_type or rag.ingestion.text_media_type(body.filename, body.source_key)
    submission = await rag.ingestion.submit(
        actor, tenant, filename=body.filename, data=data, media_type=media_type,
        title=body.title or None, metadata=body.metadata, tags=body.tags, source_key=body.source_key,
        wait=wait,
    )  # fmt: skip
    return _answer(submission, response, config, tenant)


@router.post("/upload", status_code=status.HTTP_202_ACCEPTED, responses=_ADD_RESPONSES)
async def upload_document(
    *,
    tenant: TenantId,
    file: Annotated[UploadFile, File(description="Plain text, Markdown, HTML or PDF.")],
    actor: CurrentPrincipal,
    rag: App,
    config: Config,
    response: Response,
    title: Annotated[str, Form(max_length=MAX_NAME_LENGTH)] = "",
    tags: Annotated[list[Annotated[str, Form(max_length=MAX_TAG_LENGTH)]] | None, Form()] = None,
    metadata: Annotated[
        str | None,
        Form(description="A JSON object, as text; its keys win over the file's front matter."),
    ] = None,
    source_key: Annotated[str | None, Form(min_length=1, max_length=MAX_SOURCE_KEY_LENGTH)] = None,
    wait: Wait = False,
) -> SubmissionOut:
    """Upload a file as a multipart form (or a new version of the one `source_key` names); queue it."""
    data = await file.read(config.limits.max_upload_bytes + 1)
    config.limits.check_upload(len(data))
    filename = _filename(file.filename)
    submission = await rag.ingestion.submit(
        actor, tenant, filename=filename, data=data, media_type=file.content_type,
        title=title or None, metadata=_metadata(metadata), tags=tags or [], source_key=source_key, wait=wait,
    )  # fmt: skip
    return _answer(submission, response, config, tenant)


def _answer(
    submission: Submission, response: Response, config: ApiConfig, tenant: uuid.UUID
) -> SubmissionOut:
    if submission.job is not None and submission.job.status is JobStatus.SUCCEEDED:  # ingested here (wait)
        label = metrics.tenant_label(tenant, enabled=config.metrics_tenant_labels)
        metrics.record_ingested(backend=config.backend, tenant=label, chunks=submission.document.chunk_count)
    if submission.outcome is SubmitOutcome.UNCHANGED:
        response.status_code = status.HTTP_200_OK
    elif submission.job is not None and submission.job.status is JobStatus.QUEUED:
        response.status_code = status.HTTP_202_ACCEPTED
    elif submission.outcome is SubmitOutcome.CREATED:
        response.status_code = status.HTTP_201_CREATED
    else:
        response.status_code = status.HTTP_200_OK
    return SubmissionOut.of(submission)


def _filename(raw: str | None) -> str:
    name = PurePosixPath((raw or "").replace("\\", "/")).name.strip()
    if not name:
        raise InvalidInput("file", "the upload needs a filename")
    return name


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    try:
        value = routing.loads(raw)
    except ValueError:
        raise InvalidInput("metadata", "must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidInput("metadata", "must be a JSON object")
    return value


@router.get("", responses=problems(401, 404, 422))
async def list_documents(
    *,
    tenant: TenantId,
    page: Paging,
    actor: CurrentPrincipal,
    rag: App,
    status_: Annotated[DocumentStatus | None, Query(alias="status")] = None,
    tag: Annotated[str | None, Query(max_length=MAX_TAG_LENGTH)] = None,
) -> DocumentPage:
    """Documents, oldest first, optionally with one status and one tag."""
    result = await rag.documents.list(actor, tenant, page, status=status_, tag=tag)
    return DocumentPage(items=[DocumentOut.of(d) for d in result.items], next_cursor=result.next_cursor)


@router.get("/{document_id}", responses=problems(401, 404, 422))
async def get_document(
    tenant: TenantId, document_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> DocumentOut:
    return DocumentOut.of(await rag.documents.get(actor, tenant, document_id))


@router.delete(
    "/{document_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422)
)
async def delete_document(
    tenant: TenantId, document_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> Response:
    """Delete a document with its chunks and jobs."""
    await rag.documents.delete(actor, tenant, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{document_id}/versions", responses=problems(401, 404, 422))
async def list_versions(
    tenant: TenantId, document_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> VersionList:
    """Every content the document has had, oldest first; the `active` one is searched."""
    versions = await rag.documents.versions(actor, tenant, document_id)
    return VersionList(document_id=document_id, items=[VersionOut.of(v) for v in versions])


@router.get(
    "/{document_id}/original",
    response_class=Response,
    responses={
        200: {"description": "The bytes as uploaded, as an attachment.", "content": {"*/*": {}}},
        **problems(401, 404, 422),
    },
)
async def download_original(
    tenant: TenantId,
    document_id: uuid.UUID,
    actor: CurrentPrincipal,
    rag: App,
    version: Annotated[
        int | None, Query(ge=1, description="A version number; the latest by default.")
    ] = None,
) -> Response:
    """A version's original file, with its media type and file name (checked against the
    checksum stored with it; a mismatch is a 500, never corrupted bytes)."""
    original = await rag.documents.original(actor, tenant, document_id, version=version)
    return Response(
        original.data,
        headers={
            # As stored, with no charset added: the bytes are the upload's, in its encoding.
            "Content-Type": original.media_type,
            "Content-Disposition": attachment(original.filename),
            # Uploaded HTML must never run in the API's origin: not sniffed, not rendered.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


def attachment(filename: str) -> str:
    """``Content-Disposition`` for a download (RFC 6266): an ASCII fallback and the UTF-8 name."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/{document_id}/chunks", responses=problems(401, 404, 422))
async def list_chunks(
    tenant: TenantId,
    document_id: uuid.UUID,
    actor: CurrentPrincipal,
    rag: App,
    embeddings: Annotated[bool, Query(description="Include each chunk's embedding.")] = False,
) -> ChunkList:
    """A document's chunks, in order."""
    chunks = await rag.documents.chunks(actor, tenant, document_id)
    return ChunkList(items=[ChunkOut.of(c, embedding=embeddings) for c in chunks])
