"""OpenTelemetry traces, off unless ``TRACING`` names where they go.

tenantrag's code speaks only to the OpenTelemetry API (a base dependency, and tiny): with no
tracer provider configured every span is the API's non-recording one, so tracing off costs a
function call per span. ``TRACING``:

- ``off`` (the default): nothing is configured or instrumented;
- ``otlp``: spans exported over OTLP/HTTP, configured by the standard ``OTEL_EXPORTER_OTLP_*``
  variables (endpoint, headers) and ``OTEL_SERVICE_NAME`` (default ``tenantrag``);
- ``console``: spans printed to standard output (for trying it out);
- ``provided``: the process's own tracer provider (``opentelemetry-instrument``, or the
  service embedding tenantrag set one): tenantrag only instruments.

The SDK and the OTLP exporter are the ``tracing`` extra. Spans: the HTTP request (FastAPI's
own OpenTelemetry support: ``POST /v1/tenants/{tenant}/search``), each unit of work
(``tenantrag.unit_of_work``, adapters/sql/unit_of_work.py), each search (``tenantrag.search``,
with its mode) and each job a worker runs (``tenantrag.job``), nested as they run.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any, Literal

import attrs
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace

from tenantrag.domain.model.job import Job
from tenantrag.domain.usecases.worker import JobHandler

TracingMode = Literal["off", "otlp", "console", "provided"]
TRACER_NAME = "tenantrag"
EXTRA_MISSING = (
    "TRACING={mode} needs the tracing extra (OpenTelemetry's SDK and OTLP exporter): "
    "pip install 'tenantrag[tracing]'"
)
_configured = False


class TracingUnavailable(RuntimeError):
    """TRACING asks for what is not installed; the message names the extra."""


def tracer() -> trace.Tracer:
    """tenantrag's tracer: the configured provider's, or the API's no-op one."""
    return trace.get_tracer(TRACER_NAME)


def configure(mode: TracingMode) -> None:
    """Set up the tracer provider ``mode`` asks for, once per process (OpenTelemetry's global
    provider can be set only once)."""
    global _configured  # noqa: PLW0603 - see above
    if mode in ("off", "provided") or _configured:
        return
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

        exporter: SpanExporter
        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        else:
            exporter = ConsoleSpanExporter()
    except ImportError:
        raise TracingUnavailable(EXTRA_MISSING.format(mode=mode)) from None
    service = os.environ.get("OTEL_SERVICE_NAME") or "tenantrag"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def fastapi_telemetry(mode: TracingMode) -> TelemetryConfig:
    """FastAPI's own OpenTelemetry support (FastAPI 0.143+), for the HTTP server spans only:
    a span per request named by method and route template, when a tracer provider is set and
    ``TRACING`` is not off. Its metrics and logs are left off (Prometheus and the log lines
    are tenantrag's), and so are its per-dependency spans; ``/metrics`` scrapes are not traced."""
    return {
        "tracing": mode != "off",
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": _scrape,
    }


def _scrape(scope: MutableMapping[str, Any]) -> bool:
    return bool(scope.get("path") == "/metrics")


@attrs.frozen
class TracedJobHandler:
    """A job handler whose every run is a ``tenantrag.job`` span (kind, attempt, tenant-free),
    so an ingest's units of work are traced under it; giving up is passed through."""

    inner: JobHandler

    async def run(self, job: Job) -> None:
        with tracer().start_as_current_span("tenantrag.job") as span:
            span.set_attributes({"tenantrag.job.kind": job.kind, "tenantrag.job.attempt": job.attempts})
            await self.inner.run(job)

    async def give_up(self, job: Job, error: str) -> None:
        await self.inner.give_up(job, error)
