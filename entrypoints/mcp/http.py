"""``/mcp`` in ``tenantrag serve``: the MCP server over streamable HTTP, in the API's process.

``McpEndpoint`` is a plain ASGI app, routed at ``/mcp`` by ``create_app``. Every request is
authenticated before the SDK sees it: an API key as ``Authorization: Bearer trk_...`` (or
``X-API-Key``), verified by the domain (``ApiKeyService.verify``), else a 401 problem like
the API's. The verified caller travels to the tools in the request's ASGI scope, which the
SDK hands them (``ctx.request_context.request``). The SDK's own auth hook was not used: it
expects OAuth tokens and publishes OAuth metadata naming an authorization server, which an
API key has none of.

The session manager runs stateless with JSON responses: each POST is one self-contained
exchange, so any process of a deployment can answer any request, and no session can outlive
its key's verification (each call is authorized by its own request's key). It runs inside the
app's lifespan (``running``), a new one each time, as the SDK allows one run per manager.
Without the ``mcp`` extra, ``/mcp`` answers 501 naming the extra to install.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from tenantrag.domain.errors import AuthenticationFailed, TenantRagError
from tenantrag.domain.model.api_key import KEY_MARKER
from tenantrag.entrypoints.http.context import get_context
from tenantrag.entrypoints.http.errors import (
    DOMAIN_STATUS,
    UNKNOWN_CODE_STATUS,
    WWW_AUTHENTICATE,
    problem_response,
)
from tenantrag.entrypoints.mcp import INSTALL_HINT, sdk_installed
from tenantrag.entrypoints.mcp.tools import Caller, Tools

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mcp.server.mcpserver import MCPServer

PATH = "/mcp"
METHODS = ["GET", "POST", "DELETE"]
#: The ASGI scope key under which the verified caller reaches the tools.
CALLER = "tenantrag.mcp.caller"


class McpEndpoint:
    def __init__(self, tools: Tools) -> None:
        self._server: MCPServer[Any] | None = None
        if sdk_installed():
            from tenantrag.entrypoints.mcp.server import build_server

            self._server = build_server(_caller_in_scope, tools)
        self._handler: ASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve MCP requests for the duration (the app's lifespan)."""
        if self._server is None:
            yield
            return
        from mcp.server.transport_security import TransportSecuritySettings

        # The SDK's DNS-rebinding guard (Host and Origin allow-lists) protects servers that trust
        # any local caller; this one trusts no request without a key, whatever host it names,
        # and a deployment's host names are its own.
        unguarded = TransportSecuritySettings(enable_dns_rebinding_protection=False)
        self._server.streamable_http_app(
            stateless_http=True, json_response=True, transport_security=unguarded
        )
        manager = self._server.session_manager
        ready, stop = asyncio.Event(), asyncio.Event()

        async def run() -> None:
            async with manager.run():
                ready.set()
                await stop.wait()

        # The manager's task group must be entered and left by one task; a lifespan's start and
        # end may run in two (test fixtures do), so a task of its own holds it.
        task = asyncio.create_task(run(), name="tenantrag-mcp-sessions")
        started = asyncio.create_task(ready.wait())
        await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if task.done():
            task.result()  # it failed to start: raise why
        self._handler = manager.asgi_app
        try:
            yield
        finally:
            self._handler = None
            stop.set()
            await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", PATH))
        if self._server is None:
            detail = f"the MCP endpoint needs the MCP Python SDK on the server: {INSTALL_HINT}"
            await problem_response(path, status=501, code="not_implemented", detail=detail)(
                scope, receive, send
            )
            return
        handler = self._handler
        if handler is None:
            detail = "the MCP endpoint has not started: run the app with lifespan events enabled"
            await problem_response(path, status=503, code="unavailable", detail=detail)(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            rag = get_context(connection).rag
            principal = await rag.api_keys.verify(_api_key(Headers(scope=scope)))
        except TenantRagError as error:
            status = DOMAIN_STATUS.get(error.code, UNKNOWN_CODE_STATUS)
            headers = WWW_AUTHENTICATE if status == 401 else None
            detail = error.message if status < 500 else "the server could not verify the key; retry shortly"
            response = problem_response(path, status=status, code=error.code, detail=detail, headers=headers)
            await response(scope, receive, send)
            return
        await handler({**scope, CALLER: Caller(rag, principal)}, receive, send)


def _api_key(headers: Headers) -> str:
    """The API key of a request: a bearer token or ``X-API-Key`` (one credential)."""
    authorization = headers.get("authorization", "")
    scheme, _, bearer = authorization.partition(" ")
    bearer = bearer.strip() if scheme.lower() == "bearer" else ""
    header = headers.get("x-api-key", "").strip()
    if bearer and header and bearer != header:
        raise AuthenticationFailed("send one credential: a bearer token or an X-API-Key header, not both")
    key = bearer or header
    if not key:
        raise AuthenticationFailed("authentication required: an API key as a bearer token or X-API-Key")
    if not key.startswith(f"{KEY_MARKER}_"):
        raise AuthenticationFailed(f"the MCP endpoint takes an API key ({KEY_MARKER}_...), not a login token")
    return key


async def _caller_in_scope(scope: Mapping[str, Any] | None) -> Caller:
    caller = None if scope is None else scope.get(CALLER)
    if not isinstance(caller, Caller):
        raise AuthenticationFailed("the call reached the tools without a verified API key")
    return caller
