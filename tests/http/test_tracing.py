"""OpenTelemetry traces of a search, captured by the SDK's in-memory exporter: the HTTP server
span (FastAPI's own, named by route template), the search span with its mode, and the units of
work it ran, nested under one trace. Tracing is off by default: no HTTP span then."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints import workers
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, make_container, make_settings, memory_only
from tests.http.world import build_world


class Recording(SpanProcessor):
    """Forwards spans to the exporter only while this module's tests run: the global tracer
    provider outlives them (OpenTelemetry sets it once per process)."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.inner = SimpleSpanProcessor(exporter)
        self.active = False

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if self.active:
            self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.active:
            self.inner.on_end(span)


_EXPORTER = InMemorySpanExporter()
_RECORDING = Recording(_EXPORTER)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(_RECORDING)
        trace.set_tracer_provider(provider)
    assert trace.get_tracer_provider() is provider
    _EXPORTER.clear()
    _RECORDING.active = True
    try:
        yield _EXPORTER
    finally:
        _RECORDING.active = False
        _EXPORTER.clear()


async def _search(settings: Settings) -> httpx.Response:
    app = create_app(make_container(settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        context = app.state.tenantrag
        world = await build_world(context.rag, context.config.tokens)
        await world.rag.ingestion.add_text(
            world.owner, world.tenant.id, filename="owls.md", text="Owls hunt mice at night."
        )
        return await client.post(
            f"/v1/tenants/{world.tenant.id}/search",
            json={"text": "owls at night"},
            headers=world.owner_headers(),
        )


@memory_only
async def test_a_search_is_traced_from_the_request_to_its_units_of_work(
    spans: InMemorySpanExporter, database_url: str
) -> None:
    response = await _search(make_settings(database_url, tracing="provided"))
    assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()

    [http] = [s for s in finished if s.kind is trace.SpanKind.SERVER and "search" in s.name]
    assert http.name == "POST /v1/tenants/{tenant}/search"
    assert http.attributes is not None
    assert http.attributes.get("http.route") == "/v1/tenants/{tenant}/search"
    [search] = [s for s in finished if s.name == "tenantrag.search"]
    assert search.attributes is not None
    assert search.attributes["tenantrag.search.mode"] == "hybrid"
    assert search.attributes["tenantrag.search.hits"] == 1
    assert search.context is not None
    assert http.context is not None
    assert search.context.trace_id == http.context.trace_id
    # The search's own unit of work: read-only, as searches are (the query log is written after).
    works = [s for s in finished if s.name == "tenantrag.unit_of_work" and s.parent is not None]
    under_search = [s for s in works if s.parent is not None and s.parent.span_id == search.context.span_id]
    assert True in {(s.attributes or {}).get("tenantrag.uow.read_only") for s in under_search}
    assert all((s.attributes or {}).get("db.system.name") == "sqlite" for s in under_search)
    # Every span of the request is in the request's trace.
    assert all(s.context is not None and s.context.trace_id == http.context.trace_id for s in under_search)


@memory_only
async def test_with_tracing_off_no_http_span_is_made(spans: InMemorySpanExporter, database_url: str) -> None:
    settings = make_settings(database_url)
    assert settings.tracing == "off"
    response = await _search(settings)
    assert response.status_code == 200
    assert not [s for s in spans.get_finished_spans() if s.kind is trace.SpanKind.SERVER]


@memory_only
async def test_units_of_work_are_traced_only_inside_a_traced_operation(
    spans: InMemorySpanExporter, database_url: str
) -> None:
    app = create_app(make_container(make_settings(database_url, tracing="provided")))
    async with app.router.lifespan_context(app):
        rag = app.state.tenantrag.rag
        spans.clear()
        await rag.tenants.list_all(Principal.system())  # a worker's poll, a CLI command: no trace
        assert not [s for s in spans.get_finished_spans() if s.name == "tenantrag.unit_of_work"]
        with trace.get_tracer("test").start_as_current_span("operation"):
            await rag.tenants.list_all(Principal.system())
    [work] = [s for s in spans.get_finished_spans() if s.name == "tenantrag.unit_of_work"]
    assert (work.attributes or {}).get("tenantrag.uow.kind") == "system"


@memory_only
async def test_a_worker_s_job_is_a_span_over_its_units_of_work(
    spans: InMemorySpanExporter, database_url: str
) -> None:
    settings = make_settings(database_url, tracing="provided")
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        context = app.state.tenantrag
        world = await build_world(context.rag, context.config.tokens)
        await world.rag.ingestion.submit(
            world.owner, world.tenant.id, filename="a.md", data=b"Owls at night."
        )
        spans.clear()
        assert await workers.make_worker(context.rag, settings).run_once() is not None
    [job] = [s for s in spans.get_finished_spans() if s.name == "tenantrag.job"]
    assert (job.attributes or {}).get("tenantrag.job.kind") == "ingest"
    assert job.context is not None
    inside = [
        s
        for s in spans.get_finished_spans()
        if s.parent is not None and s.parent.span_id == job.context.span_id
    ]
    assert {s.name for s in inside} == {"tenantrag.unit_of_work"}
