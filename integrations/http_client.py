"""Clients for a remote ``tenantrag serve``: ``TenantragClient`` (sync) and ``AsyncTenantragClient``.

Both speak the HTTP API through httpx (a base dependency) and offer the same methods: the
caller (``me``, ``my_tenants``), tenants, documents (add a text, upload a file, list, get,
delete, chunks, versions), jobs (get, list, wait), search (every mode, the filter language,
``k``, grouping, fusion) and feedback on a search's query log::

    with TenantragClient("http://127.0.0.1:8000", api_key="trk_...") as client:
        client.add_text("acme", filename="cats.md", text="Cats purr.", wait=True)
        hits = client.search("acme", "why do cats purr?", k=3).hits

Credentials: an API key (sent as ``X-API-Key``; it acts in its own tenant, never above its
role cap), a bearer token, or an email and password, exchanged for a token by the OAuth2
password flow on first use and again when the token has expired. Answers are the server's
own response models (``DocumentOut``, ``SearchResponse``...); errors are the domain's
(``NotFound``, ``PermissionDenied``, ``InvalidInput`` with its ``field``...), see
``http_client_errors``. The requests are built once, in ``http_client_calls``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self, TypeVar

import httpx

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
)
from tenantrag.entrypoints.http.search_schemas import QueryLogOut, SearchResponse
from tenantrag.integrations import http_client_calls as calls
from tenantrag.integrations.http_client_async import AsyncTenantragClient
from tenantrag.integrations.http_client_base import DEFAULT_URL, ClientBase, Credentials
from tenantrag.integrations.http_client_calls import FINISHED_JOB, Call, Ref, Upload
from tenantrag.integrations.http_client_errors import ApiProblem, error_from, unreachable

__all__ = ["ApiProblem", "AsyncTenantragClient", "Credentials", "TenantragClient"]

T = TypeVar("T")


class TenantragClient(ClientBase):
    """A blocking client for one server; thread-safe, like the ``httpx.Client`` under it."""

    def __init__(
        self,
        base_url: str | httpx.URL = DEFAULT_URL,
        *,
        api_key: str | None = None,
        token: str | None = None,
        email: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        """``http``: your own ``httpx.Client`` (proxies, TLS, transports), left open by ``close()``."""
        super().__init__(base_url, Credentials(api_key, token, email, password))
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._login_lock = threading.Lock()

    def _send(self, call: Call[T]) -> T:
        if self._needs_token(call):
            self._log_in(stale=None)
        sent_with = self.credentials.token
        response = self._request(call)
        if response.status_code == 401 and call.authenticated and self.credentials.logs_in:
            self._log_in(stale=sent_with)  # the token expired: once more with a new one
            response = self._request(call)
        if response.is_error:
            raise error_from(response)
        return call.parse(response)

    def _request(self, call: Call[Any]) -> httpx.Response:
        headers = self.credentials.headers() if call.authenticated else {}
        try:
            return self._http.request(
                call.method, self._url(call), headers=headers, **call.request_arguments()
            )
        except httpx.TransportError as error:
            raise unreachable(error) from error

    def _log_in(self, *, stale: str | None) -> None:
        with self._login_lock:
            if self.credentials.token is not None and self.credentials.token != stale:
                return  # another thread logged in meanwhile
            self.credentials.token = self._send(self.credentials.login()).access_token

    # --- the caller and tenants --------------------------------------------------------------

    def me(self) -> MeOut:
        return self._send(calls.me())

    def my_tenants(self) -> list[MyTenantOut]:
        return self._send(calls.my_tenants())

    def create_tenant(
        self, name: str, *, slug: str | None = None, settings: Mapping[str, Any] | None = None
    ) -> TenantOut:
        return self._send(calls.create_tenant(name, slug, settings))

    def get_tenant(self, tenant: Ref) -> TenantOut:
        return self._send(calls.get_tenant(tenant))

    def update_tenant(
        self, tenant: Ref, *, name: str | None = None, settings: Mapping[str, Any] | None = None
    ) -> TenantOut:
        return self._send(calls.update_tenant(tenant, name, settings))

    def delete_tenant(self, tenant: Ref) -> None:
        self._send(calls.delete_tenant(tenant))

    # --- documents ---------------------------------------------------------------------------

    def add_text(
        self, tenant: Ref, *, filename: str, text: str, title: str | None = None,
        media_type: str | None = None, metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None, source_key: str | None = None, wait: bool = False,
    ) -> SubmissionOut:  # fmt: skip
        """Add a document from its text; queued unless ``wait`` (then ingested within the request)."""
        return self._send(calls.add_text(
            tenant, filename=filename, text=text, title=title, media_type=media_type, metadata=metadata,
            tags=tags, source_key=source_key, wait=wait,
        ))  # fmt: skip

    def upload(
        self, tenant: Ref, file: Upload, *, filename: str | None = None, media_type: str | None = None,
        title: str | None = None, metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None, source_key: str | None = None, wait: bool = False,
    ) -> SubmissionOut:  # fmt: skip
        """Upload a file (a path, bytes or a binary stream; bytes need ``filename``)."""
        return self._send(calls.upload(
            tenant, file, filename=filename, media_type=media_type, title=title, metadata=metadata,
            tags=tags, source_key=source_key, wait=wait,
        ))  # fmt: skip

    def list_documents(
        self, tenant: Ref, *, status: str | None = None, tag: str | None = None, limit: int | None = None,
        cursor: str | None = None,
    ) -> DocumentPage:  # fmt: skip
        return self._send(calls.list_documents(tenant, status=status, tag=tag, limit=limit, cursor=cursor))

    def get_document(self, tenant: Ref, document_id: Ref) -> DocumentOut:
        return self._send(calls.get_document(tenant, document_id))

    def delete_document(self, tenant: Ref, document_id: Ref) -> None:
        self._send(calls.delete_document(tenant, document_id))

    def document_chunks(self, tenant: Ref, document_id: Ref, *, embeddings: bool = False) -> ChunkList:
        return self._send(calls.document_chunks(tenant, document_id, embeddings=embeddings))

    def document_versions(self, tenant: Ref, document_id: Ref) -> VersionList:
        return self._send(calls.document_versions(tenant, document_id))

    # --- jobs, search, feedback --------------------------------------------------------------

    def get_job(self, tenant: Ref, job_id: Ref) -> JobOut:
        return self._send(calls.get_job(tenant, job_id))

    def list_jobs(
        self,
        tenant: Ref,
        *,
        document_id: Ref | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JobPage:
        return self._send(calls.list_jobs(tenant, document_id=document_id, limit=limit, cursor=cursor))

    def wait_for_job(
        self, tenant: Ref, job_id: Ref, *, timeout: float = 60.0, interval: float = 0.2
    ) -> JobOut:
        """Poll the job until it has finished (``succeeded``, ``failed`` or ``cancelled``) and
        return it; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (job := self.get_job(tenant, job_id)).status not in FINISHED_JOB:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is still {job.status} after {timeout} s")
            time.sleep(interval)
        return job

    def search(
        self, tenant: Ref, text: str | None = None, *, embedding: Sequence[float] | None = None,
        mode: str | None = None, k: int | None = None, filter: Mapping[str, Any] | None = None,
        match: str | None = None, group: str | None = None, hybrid: Mapping[str, Any] | None = None,
    ) -> SearchResponse:  # fmt: skip
        """Search the tenant (hybrid by default for a text); see the API's ``POST .../search``."""
        return self._send(calls.search(
            tenant, text=text, embedding=embedding, mode=mode, k=k, filter=filter, match=match, group=group,
            hybrid=hybrid,
        ))  # fmt: skip

    def get_query_log(self, tenant: Ref, log_id: Ref) -> QueryLogOut:
        return self._send(calls.get_query_log(tenant, log_id))

    def give_feedback(
        self, tenant: Ref, log_id: Ref, feedback: str, *, quality_score: float | None = None
    ) -> QueryLogOut:
        """``thumbs_up`` or ``thumbs_down`` on a search's query log (``SearchResponse.query_log_id``)."""
        return self._send(calls.give_feedback(tenant, log_id, feedback, quality_score))

    # --- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
