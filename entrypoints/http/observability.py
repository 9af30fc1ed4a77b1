"""The HTTP side of observability: request ids, request metrics, access lines, ``/metrics``
and tracing, installed on the app by ``install_observability`` (see entrypoints/observability/).

``RequestObservation`` is pure ASGI middleware, so the request id it binds (a context
variable) is seen by the route and the use cases it calls, in the same task. It counts every
answer by method, route *template* and status (never the raw path: ids in paths would make a
series per document), times it, counts problem answers by their ``code``, sets
``X-Request-ID`` on the answer and writes one access line.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantrag.domain.usecases import audit
from tenantrag.entrypoints.http.context import get_context
from tenantrag.entrypoints.http.errors import PROBLEM_MEDIA_TYPE
from tenantrag.entrypoints.observability import metrics, request_ids, tracing
from tenantrag.entrypoints.settings import Settings

access_logger = logging.getLogger("tenantrag.http.access")
# A problem body is a few hundred bytes; read no more than this to find its code.
_MAX_PROBLEM_BYTES = 64 * 1024


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/tenants/{tenant}/search``), or one fixed name
    when no route matched (scanners' paths must not make series).

    FastAPI hands the request to the route as declared in its router (``/tenants/{tenant}/search``),
    without the prefix the router was included under (``/v1``): that prefix is the part of the
    request's path before the route's own segments.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return metrics.UNMATCHED_ROUTE
    if isinstance(route, Mount):
        return f"{template}/{{path}}"
    own = template.split("/")[1:]
    requested = str(scope.get("path", "")).split("/")[1:]
    prefix = requested[: max(0, len(requested) - len(own))]
    return "/" + "/".join([*prefix, *own])


class RequestObservation:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_ids.accept(Headers(scope=scope).get(request_ids.HEADER))
        token = request_ids.bind(request_id)
        client = scope.get("client")
        source = audit.bind_source(audit.Source(address=client[0] if client else None, request_id=request_id))
        started = time.perf_counter()
        answer = _Answer()

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[request_ids.HEADER] = request_id
                answer.problem = headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE)
            elif message["type"] == "http.response.body" and answer.problem:
                answer.keep(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            answer.status, answer.code = 500, "internal_error"
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            metrics.record_request(scope["method"], route, answer.status, seconds)
            code = answer.code or answer.problem_code()
            if code is not None:
                metrics.record_error(code)
            access_logger.info(
                "%s %s %s %.1f ms", scope["method"], route, answer.status, seconds * 1000,
                extra={"method": scope["method"], "route": route, "status": answer.status,
                       "duration_ms": round(seconds * 1000, 3)},
            )  # fmt: skip
            request_ids.reset(token)
            audit.reset_source(source)


class _Answer:
    def __init__(self) -> None:
        self.status = 500  # until the response starts: an app that never answers failed
        self.problem = False
        self.code: str | None = None
        self._body = bytearray()

    def keep(self, chunk: bytes) -> None:
        if len(self._body) < _MAX_PROBLEM_BYTES:
            self._body += chunk[: _MAX_PROBLEM_BYTES - len(self._body)]

    def problem_code(self) -> str | None:
        if not self.problem:
            return None
        try:
            code = json.loads(self._body).get("code")
        except (ValueError, AttributeError):
            return "unreadable_problem"
        return code if isinstance(code, str) else None


async def get_metrics(request: Request) -> Response:
    """Prometheus' text exposition; the queue and pool gauges are read now."""
    context = getattr(request.app.state, "tenantrag", None)
    if context is not None:
        await metrics.refresh_gauges(get_context(request).rag, datetime.now(UTC))
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Request ids, metrics and access lines on every request; ``/metrics`` when
    ``METRICS_ENABLED``; the tracer provider ``TRACING`` names (the app's HTTP spans are
    FastAPI's, configured by ``tracing.fastapi_telemetry`` when the app is made)."""
    app.add_middleware(RequestObservation)
    if settings.metrics_enabled:
        app.add_api_route("/metrics", get_metrics, methods=["GET"], include_in_schema=False)
    tracing.configure(settings.tracing)
