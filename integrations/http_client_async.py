"""``AsyncTenantragClient``: the HTTP client for async code (see ``http_client`` for both)."""

from __future__ import annotations

import asyncio
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
from tenantrag.integrations.http_client_base import DEFAULT_URL, ClientBase, Credentials
from tenantrag.integrations.http_client_calls import FINISHED_JOB, Call, Ref, Upload
from tenantrag.integrations.http_client_errors import error_from, unreachable

__all__ = ["AsyncTenantragClient"]

T = TypeVar("T")


class AsyncTenantragClient(ClientBase):
    """The same client for async code: every method of ``TenantragClient``, awaited."""

    def __init__(
        self,
        base_url: str | httpx.URL = DEFAULT_URL,
        *,
        api_key: str | None = None,
        token: str | None = None,
        email: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, Credentials(api_key, token, email, password))
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._login_lock = asyncio.Lock()

    async def _send(self, call: Call[T]) -> T:
        if self._needs_token(call):
            await self._log_in(stale=None)
        sent_with = self.credentials.token
        response = await self._request(call)
        if response.status_code == 401 and call.authenticated and self.credentials.logs_in:
            await self._log_in(stale=sent_with)
            response = await self._request(call)
        if response.is_error:
            raise error_from(response)
        return call.parse(response)

    async def _request(self, call: Call[Any]) -> httpx.Response:
        headers = self.credentials.headers() if call.authenticated else {}
        try:
            return await self._http.request(
                call.method, self._url(call), headers=headers, **call.request_arguments()
            )
        except httpx.TransportError as error:
            raise unreachable(error) from error

    async def _log_in(self, *, stale: str | None) -> None:
        async with self._login_lock:
            if self.credentials.token is not None and self.credentials.token != stale:
                return
            self.credentials.token = (await self._send(self.credentials.login())).access_token

    async def me(self) -> MeOut:
        return await self._send(calls.me())

    async def my_tenants(self) -> list[MyTenantOut]:
        return await self._send(calls.my_tenants())

    async def create_tenant(
        self, name: str, *, slug: str | None = None, settings: Mapping[str, Any] | None = None
    ) -> TenantOut:
        return await self._send(calls.create_tenant(name, slug, settings))

    async def get_tenant(self, tenant: Ref) -> TenantOut:
        return await self._send(calls.get_tenant(tenant))

    async def update_tenant(
        self, tenant: Ref, *, name: str | None = None, settings: Mapping[str, Any] | None = None
    ) -> TenantOut:
        return await self._send(calls.update_tenant(tenant, name, settings))

    async def delete_tenant(self, tenant: Ref) -> None:
        await self._send(calls.delete_tenant(tenant))

    async def add_text(
        self, tenant: Ref, *, filename: str, text: str, title: str | None = None,
        media_type: str | None = None, metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None, source_key: str | None = None, wait: bool = False,
    ) -> SubmissionOut:  # fmt: skip
        return await self._send(calls.add_text(
            tenant, filename=filename, text=text, title=title, media_type=media_type, metadata=metadata,
            tags=tags, source_key=source_key, wait=wait,
        ))  # fmt: skip

    async def upload(
        self, tenant: Ref, file: Upload, *, filename: str | None = None, media_type: str | None = None,
        title: str | None = None, metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None, source_key: str | None = None, wait: bool = False,
    ) -> SubmissionOut:  # fmt: skip
        return await self._send(calls.upload(
            tenant, file, filename=filename, media_type=media_type, title=title, metadata=metadata,
            tags=tags, source_key=source_key, wait=wait,
        ))  # fmt: skip

    async def list_documents(
        self, tenant: Ref, *, status: str | None = None, tag: str | None = None, limit: int | None = None,
        cursor: str | None = None,
    ) -> DocumentPage:  # fmt: skip
        return await self._send(
            calls.list_documents(tenant, status=status, tag=tag, limit=limit, cursor=cursor)
        )

    async def get_document(self, tenant: Ref, document_id: Ref) -> DocumentOut:
        return await self._send(calls.get_document(tenant, document_id))

    async def delete_document(self, tenant: Ref, document_id: Ref) -> None:
        await self._send(calls.delete_document(tenant, document_id))

    async def document_chunks(self, tenant: Ref, document_id: Ref, *, embeddings: bool = False) -> ChunkList:
        return await self._send(calls.document_chunks(tenant, document_id, embeddings=embeddings))

    async def document_versions(self, tenant: Ref, document_id: Ref) -> VersionList:
        return await self._send(calls.document_versions(tenant, document_id))

    async def get_job(self, tenant: Ref, job_id: Ref) -> JobOut:
        return await self._send(calls.get_job(tenant, job_id))

    async def list_jobs(
        self,
        tenant: Ref,
        *,
        document_id: Ref | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> JobPage:
        return await self._send(calls.list_jobs(tenant, document_id=document_id, limit=limit, cursor=cursor))

    async def wait_for_job(
        self,
        tenant: Ref,
        job_id: Ref,
        *,
        timeout: float = 60.0,  # noqa: ASYNC109 - a polling deadline, as the sync client's
        interval: float = 0.2,
    ) -> JobOut:
        deadline = time.monotonic() + timeout
        while (job := await self.get_job(tenant, job_id)).status not in FINISHED_JOB:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is still {job.status} after {timeout} s")
            await asyncio.sleep(interval)
        return job

    async def search(
        self, tenant: Ref, text: str | None = None, *, embedding: Sequence[float] | None = None,
        mode: str | None = None, k: int | None = None, filter: Mapping[str, Any] | None = None,
        match: str | None = None, group: str | None = None, hybrid: Mapping[str, Any] | None = None,
    ) -> SearchResponse:  # fmt: skip
        return await self._send(calls.search(
            tenant, text=text, embedding=embedding, mode=mode, k=k, filter=filter, match=match, group=group,
            hybrid=hybrid,
        ))  # fmt: skip

    async def get_query_log(self, tenant: Ref, log_id: Ref) -> QueryLogOut:
        return await self._send(calls.get_query_log(tenant, log_id))

    async def give_feedback(
        self, tenant: Ref, log_id: Ref, feedback: str, *, quality_score: float | None = None
    ) -> QueryLogOut:
        return await self._send(calls.give_feedback(tenant, log_id, feedback, quality_score))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
