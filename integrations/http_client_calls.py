"""The HTTP API's operations as request descriptions, shared by the sync and async clients.

Each function here builds a ``Call``: the method, the OpenAPI path template it targets, its
path and query parameters, its body (JSON, a form or a multipart upload) and how to read the
answer. The answers are read into the server's own response models
(``entrypoints/http/schemas.py``), so client and server cannot disagree about a field's
name or type; unknown fields from a newer server are ignored. Only the options a caller
gives are sent, so the server's defaults apply to the rest. ``tests/integrations`` holds
every request a client sends to the app's OpenAPI document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Generic, TypeVar
from urllib.parse import quote

import attrs
import httpx
from pydantic import BaseModel, TypeAdapter

from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.http.ingestion_schemas import SubmissionOut, VersionList
from tenantrag.entrypoints.http.schemas import (
    ChunkList,
    DocumentOut,
    DocumentPage,
    JobOut,
    JobPage,
    MeOut,
    MyTenantOut,
    TenantOut,
    TokenOut,
)
from tenantrag.entrypoints.http.search_schemas import QueryLogOut, SearchResponse

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Ref = uuid.UUID | str  # a tenant's id or slug; a document's, job's or log's id
Upload = str | Path | bytes | IO[bytes]  # a path, the bytes, or an open binary file
FINISHED_JOB = frozenset({"succeeded", "failed", "cancelled"})


@attrs.frozen(kw_only=True)
class Call(Generic[T]):
    """One request to the API and how to read its answer."""

    method: str
    template: str  # the OpenAPI path, e.g. /v1/tenants/{tenant}/documents
    parse: Callable[[httpx.Response], T]
    path_params: Mapping[str, Ref] = attrs.field(factory=dict)
    params: Mapping[str, Any] = attrs.field(factory=dict)
    json: Any = None
    form: Mapping[str, Any] | None = None  # url-encoded, or multipart with files
    files: Mapping[str, tuple[str, bytes, str | None]] | None = None
    authenticated: bool = True

    @property
    def path(self) -> str:
        return self.template.format(**{k: quote(str(v), safe="") for k, v in self.path_params.items()})

    def request_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.request`` besides method and URL."""
        return {
            "params": {k: _param(v) for k, v in _present(self.params).items()} or None,
            "json": self.json,
            "data": None if self.form is None else _present(self.form),
            "files": self.files,
        }


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _param(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _model(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: model.model_validate_json(response.content)


def _nothing(_response: httpx.Response) -> None:
    return None


_MY_TENANTS = TypeAdapter(list[MyTenantOut])

# --- auth and the caller ----------------------------------------------------------------


def token(email: str, password: str) -> Call[TokenOut]:
    """The OAuth2 password flow (the email is the username)."""
    form = {"grant_type": "password", "username": email, "password": password}
    return Call(
        method="POST", template="/v1/auth/token", form=form, parse=_model(TokenOut), authenticated=False
    )


def me() -> Call[MeOut]:
    return Call(method="GET", template="/v1/me", parse=_model(MeOut))


def my_tenants() -> Call[list[MyTenantOut]]:
    return Call(method="GET", template="/v1/me/tenants", parse=lambda r: _MY_TENANTS.validate_json(r.content))


# --- tenants ------------------------------------------------------------------------------


def create_tenant(name: str, slug: str | None, settings: Mapping[str, Any] | None) -> Call[TenantOut]:
    body = _present({"name": name, "slug": slug, "settings": settings})
    return Call(method="POST", template="/v1/tenants", json=body, parse=_model(TenantOut))


def get_tenant(tenant: Ref) -> Call[TenantOut]:
    return Call(
        method="GET", template="/v1/tenants/{tenant}", path_params={"tenant": tenant}, parse=_model(TenantOut)
    )


def update_tenant(tenant: Ref, name: str | None, settings: Mapping[str, Any] | None) -> Call[TenantOut]:
    return Call(
        method="PATCH", template="/v1/tenants/{tenant}", path_params={"tenant": tenant},
        json=_present({"name": name, "settings": settings}), parse=_model(TenantOut),
    )  # fmt: skip


def delete_tenant(tenant: Ref) -> Call[None]:
    return Call(
        method="DELETE", template="/v1/tenants/{tenant}", path_params={"tenant": tenant}, parse=_nothing
    )


# --- documents ----------------------------------------------------------------------------

_DOCUMENTS = "/v1/tenants/{tenant}/documents"
_DOCUMENT = _DOCUMENTS + "/{document_id}"


def add_text(
    tenant: Ref,
    *,
    filename: str,
    text: str,
    title: str | None,
    media_type: str | None,
    metadata: Mapping[str, Any] | None,
    tags: Iterable[str] | None,
    source_key: str | None,
    wait: bool,
) -> Call[SubmissionOut]:
    body = _present({
        "filename": filename, "text": text, "title": title, "media_type": media_type,
        "metadata": None if metadata is None else dict(metadata),
        "tags": None if tags is None else list(tags), "source_key": source_key,
    })  # fmt: skip
    return Call(
        method="POST", template=_DOCUMENTS, path_params={"tenant": tenant}, params=_wait(wait), json=body,
        parse=_model(SubmissionOut),
    )  # fmt: skip


def upload(
    tenant: Ref,
    file: Upload,
    *,
    filename: str | None,
    media_type: str | None,
    title: str | None,
    metadata: Mapping[str, Any] | None,
    tags: Iterable[str] | None,
    source_key: str | None,
    wait: bool,
) -> Call[SubmissionOut]:
    name, data = _read(file, filename)
    form = {
        "title": title, "tags": None if tags is None else list(tags), "source_key": source_key,
        "metadata": None if metadata is None else _json_text(metadata),
    }  # fmt: skip
    return Call(
        method="POST", template=_DOCUMENTS + "/upload", path_params={"tenant": tenant}, params=_wait(wait),
        form=form, files={"file": (name, data, media_type)}, parse=_model(SubmissionOut),
    )  # fmt: skip


def list_documents(
    tenant: Ref, *, status: str | None, tag: str | None, limit: int | None, cursor: str | None
) -> Call[DocumentPage]:
    return Call(
        method="GET", template=_DOCUMENTS, path_params={"tenant": tenant},
        params={"status": status, "tag": tag, "limit": limit, "cursor": cursor}, parse=_model(DocumentPage),
    )  # fmt: skip


def get_document(tenant: Ref, document_id: Ref) -> Call[DocumentOut]:
    return Call(
        method="GET", template=_DOCUMENT, path_params={"tenant": tenant, "document_id": document_id},
        parse=_model(DocumentOut),
    )  # fmt: skip


def delete_document(tenant: Ref, document_id: Ref) -> Call[None]:
    return Call(
        method="DELETE", template=_DOCUMENT, path_params={"tenant": tenant, "document_id": document_id},
        parse=_nothing,
    )  # fmt: skip


def document_chunks(tenant: Ref, document_id: Ref, *, embeddings: bool) -> Call[ChunkList]:
    return Call(
        method="GET", template=_DOCUMENT + "/chunks",
        path_params={"tenant": tenant, "document_id": document_id},
        params={"embeddings": "true" if embeddings else None}, parse=_model(ChunkList),
    )  # fmt: skip


def document_versions(tenant: Ref, document_id: Ref) -> Call[VersionList]:
    return Call(
        method="GET", template=_DOCUMENT + "/versions",
        path_params={"tenant": tenant, "document_id": document_id}, parse=_model(VersionList),
    )  # fmt: skip


# --- jobs, search and query logs ----------------------------------------------------------


def get_job(tenant: Ref, job_id: Ref) -> Call[JobOut]:
    return Call(
        method="GET", template="/v1/tenants/{tenant}/jobs/{job_id}",
        path_params={"tenant": tenant, "job_id": job_id}, parse=_model(JobOut),
    )  # fmt: skip


def list_jobs(
    tenant: Ref, *, document_id: Ref | None, limit: int | None, cursor: str | None
) -> Call[JobPage]:
    return Call(
        method="GET", template="/v1/tenants/{tenant}/jobs", path_params={"tenant": tenant},
        params={"document_id": document_id, "limit": limit, "cursor": cursor}, parse=_model(JobPage),
    )  # fmt: skip


def search(
    tenant: Ref,
    *,
    text: str | None,
    embedding: Sequence[float] | None,
    mode: str | None,
    k: int | None,
    filter: Mapping[str, Any] | None,
    match: str | None,
    group: str | None,
    hybrid: Mapping[str, Any] | None,
) -> Call[SearchResponse]:
    body = _present({
        "text": text, "embedding": None if embedding is None else [float(x) for x in embedding],
        "mode": mode, "k": k, "filter": None if filter is None else dict(filter), "match": match,
        "group": group, "hybrid": None if hybrid is None else dict(hybrid),
    })  # fmt: skip
    return Call(
        method="POST", template="/v1/tenants/{tenant}/search", path_params={"tenant": tenant}, json=body,
        parse=_model(SearchResponse),
    )  # fmt: skip


def get_query_log(tenant: Ref, log_id: Ref) -> Call[QueryLogOut]:
    return Call(
        method="GET", template="/v1/tenants/{tenant}/query-logs/{log_id}",
        path_params={"tenant": tenant, "log_id": log_id}, parse=_model(QueryLogOut),
    )  # fmt: skip


def give_feedback(tenant: Ref, log_id: Ref, feedback: str, quality_score: float | None) -> Call[QueryLogOut]:
    return Call(
        method="POST", template="/v1/tenants/{tenant}/query-logs/{log_id}/feedback",
        path_params={"tenant": tenant, "log_id": log_id},
        json=_present({"feedback": feedback, "quality_score": quality_score}), parse=_model(QueryLogOut),
    )  # fmt: skip


# --- helpers ------------------------------------------------------------------------------


def _wait(wait: bool) -> dict[str, Any]:
    return {"wait": "true"} if wait else {}


def _json_text(value: Mapping[str, Any]) -> str:
    """A JSON object as the text a form field carries."""
    return json.dumps(dict(value), allow_nan=False, ensure_ascii=False)


def _read(file: Upload, filename: str | None) -> tuple[str, bytes]:
    """The upload's name and bytes: a path is read (and named by its file name)."""
    if isinstance(file, str | Path):
        path = Path(file)
        try:
            return filename or path.name, path.read_bytes()
        except OSError as error:
            raise InvalidInput("file", f"cannot read {path}: {error.strerror or error}") from None
    data = file if isinstance(file, bytes) else file.read()
    name = filename or Path(str(getattr(file, "name", "") or "")).name
    if not name:
        raise InvalidInput(
            "filename", "bytes or a stream need a filename (it tells the format: .md, .pdf...)"
        )
    return name, data
