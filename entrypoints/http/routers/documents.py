"""``/v1/tenants/{tenant}/documents``: add (JSON text or a multipart upload), list, read, delete.

Ingestion runs within the request: the answer is the document once its chunks are
embedded (``completed``), and its ``ingest`` job is readable under ``/jobs``.
"""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import File, Form, Query, Response, UploadFile, status

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.validation import MAX_NAME_LENGTH, MAX_TAG_LENGTH
from tenantrag.entrypoints.http import routing
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import ChunkList, ChunkOut, DocumentOut, DocumentPage, DocumentText

router = api_router(prefix="/tenants/{tenant}/documents", tag="documents")

_GENERIC_MEDIA_TYPES = frozenset({"", "application/octet-stream"})


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 409, 413, 422))
async def add_document(
    tenant: TenantId, body: DocumentText, actor: CurrentPrincipal, rag: App, config: Config
) -> DocumentOut:
    """Add a document from its text, and ingest it."""
    config.limits.check_upload(len(body.text.encode()))
    document = await rag.ingestion.add_text(
        actor, tenant, filename=body.filename, text=body.text, media_type=body.media_type,
        title=body.title, metadata=body.metadata, tags=body.tags,
    )  # fmt: skip
    return DocumentOut.of(document)


@router.post(
    "/upload", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 409, 413, 422)
)
async def upload_document(
    *,
    tenant: TenantId,
    file: Annotated[UploadFile, File(description="A UTF-8 text file (plain text, Markdown...).")],
    actor: CurrentPrincipal,
    rag: App,
    config: Config,
    title: Annotated[str, Form(max_length=MAX_NAME_LENGTH)] = "",
    tags: Annotated[list[Annotated[str, Form(max_length=MAX_TAG_LENGTH)]] | None, Form()] = None,
    metadata: Annotated[str | None, Form(description="A JSON object, as text.")] = None,
) -> DocumentOut:
    """Upload a text file as a multipart form, and ingest it."""
    data = await file.read(config.limits.max_upload_bytes + 1)
    config.limits.check_upload(len(data))
    filename = _filename(file.filename)
    media_type = _media_type(file.content_type, filename)
    document = await rag.ingestion.add_text(
        actor, tenant, filename=filename, text=_text(data), media_type=media_type,
        title=title, metadata=_metadata(metadata), tags=tags or [],
    )  # fmt: skip
    return DocumentOut.of(document)


def _filename(raw: str | None) -> str:
    name = PurePosixPath((raw or "").replace("\\", "/")).name.strip()
    if not name:
        raise InvalidInput("file", "the upload needs a filename")
    return name


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("file", "must be UTF-8 text") from None


def _media_type(declared: str | None, filename: str) -> str:
    media = (declared or "").split(";")[0].strip().lower()
    if media in _GENERIC_MEDIA_TYPES:
        media = mimetypes.guess_type(filename)[0] or "text/plain"
    return media


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
