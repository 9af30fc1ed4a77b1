"""GET /metrics: Prometheus' text format, parsed with prometheus_client's own parser, with the
counters moving after real requests, searches and ingests; the job queue and pool gauges read
at scrape time (on SQLite and PostgreSQL, whose row-level security hides jobs from system
work); labels that never carry tenant content; per-tenant labels only when asked for."""

from __future__ import annotations

from collections.abc import Iterable

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints import workers
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, make_container, make_settings, memory_only
from tests.http.world import World

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample with exactly these labels (0 when it has not appeared yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: Samples) -> Iterable[str]:
    for _name, labels in samples:
        for _label, label_value in labels:
            yield label_value


@memory_only
async def test_requests_are_counted_by_route_template_status_and_error_code(
    client: httpx.AsyncClient, world: World
) -> None:
    before = await scrape(client)
    headers = world.owner_headers()
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    missing = f"/v1/tenants/{world.tenant.id}/documents/00000000-0000-4000-8000-000000000000"
    assert (await client.get(missing, headers=headers)).status_code == 404
    assert (await client.get("/no/such/path/42")).status_code == 404
    after = await scrape(client)

    me = {"method": "GET", "route": "/v1/me", "status": "200"}
    assert (
        value(after, "tenantrag_http_requests_total", **me)
        == value(before, "tenantrag_http_requests_total", **me) + 1
    )
    document = {"method": "GET", "route": "/v1/tenants/{tenant}/documents/{document_id}", "status": "404"}
    assert value(after, "tenantrag_http_requests_total", **document) == (
        value(before, "tenantrag_http_requests_total", **document) + 1
    )
    # A path no route matches is one series, whatever the path: scanners cannot add series.
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "tenantrag_http_requests_total", **unmatched) >= 1
    assert not any("/no/such/path" in label for label in label_values(after))
    # Both 404s were problem answers with code not_found.
    assert (
        value(after, "tenantrag_errors_total", code="not_found")
        == value(before, "tenantrag_errors_total", code="not_found") + 2
    )
    latency = {"method": "GET", "route": "/v1/me"}
    assert value(after, "tenantrag_http_request_duration_seconds_count", **latency) == (
        value(before, "tenantrag_http_request_duration_seconds_count", **latency) + 1
    )


@memory_only
async def test_searches_and_ingests_are_counted_without_tenant_content(
    client: httpx.AsyncClient, world: World, rag: TenantRag, settings: Settings
) -> None:
    before = await scrape(client)
    base = f"/v1/tenants/{world.tenant.slug}"
    headers = world.owner_headers()
    added = await client.post(
        f"{base}/documents?wait=true",
        json={"filename": "secret-plans.md", "text": "Zebras graze at dawn. Lions sleep at noon."},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    queued = await client.post(
        f"{base}/documents", json={"filename": "queued.md", "text": "Owls hunt at night."}, headers=headers
    )
    assert queued.status_code == 202
    assert await workers.make_worker(rag, settings).run_once() is not None
    for mode in ("hybrid", "text", "vector"):
        found = await client.post(
            f"{base}/search", json={"text": "zebras graze", "mode": mode}, headers=headers
        )
        assert found.status_code == 200, found.text
    after = await scrape(client)

    for mode in ("hybrid", "text", "vector"):
        labels = {"mode": mode, "group": "chunks", "backend": "memory", "tenant": ""}
        assert value(after, "tenantrag_search_duration_seconds_count", **labels) == (
            value(before, "tenantrag_search_duration_seconds_count", **labels) + 1
        )
    ingest = {"backend": "memory", "tenant": ""}
    assert value(after, "tenantrag_ingested_documents_total", **ingest) == (
        value(before, "tenantrag_ingested_documents_total", **ingest) + 2
    )
    assert value(after, "tenantrag_ingested_chunks_total", **ingest) >= (
        value(before, "tenantrag_ingested_chunks_total", **ingest) + 2
    )
    assert value(after, "tenantrag_jobs_settled_total", kind="ingest", status="succeeded") == (
        value(before, "tenantrag_jobs_settled_total", kind="ingest", status="succeeded") + 1
    )
    # No tenant content in any label: not the slug, the id, a file name or the query.
    for label in label_values(after):
        for content in (world.tenant.slug, str(world.tenant.id), "secret-plans", "zebras"):
            assert content not in label


@memory_only
async def test_per_tenant_labels_are_opt_in(settings: Settings, world: World) -> None:
    labelled = create_app(make_container(make_settings(settings.database_url, metrics_tenant_labels=True)))
    async with (
        labelled.router.lifespan_context(labelled),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=labelled), base_url=BASE_URL) as client,
    ):
        from tests.http.world import build_world

        context = labelled.state.tenantrag
        mine = await build_world(context.rag, context.config.tokens)
        found = await client.post(
            f"/v1/tenants/{mine.tenant.id}/search", json={"text": "anything"}, headers=mine.owner_headers()
        )
        assert found.status_code == 200
        after = await scrape(client)
    labels = {"mode": "hybrid", "group": "chunks", "backend": "memory", "tenant": str(mine.tenant.id)}
    assert value(after, "tenantrag_search_duration_seconds_count", **labels) >= 1
    assert world.tenant.id != mine.tenant.id


async def test_the_job_queue_gauges_read_every_tenant_s_jobs(
    app: FastAPI, client: httpx.AsyncClient, world: World, rag: TenantRag, settings: Settings
) -> None:
    headers = world.owner_headers()
    empty = await scrape(client)
    assert value(empty, "tenantrag_jobs_queued") == 0
    assert value(empty, "tenantrag_jobs_oldest_queued_age_seconds") == 0
    for index in range(2):
        queued = await client.post(
            f"/v1/tenants/{world.tenant.id}/documents",
            json={"filename": f"n{index}.md", "text": f"Note {index}."},
            headers=headers,
        )
        assert queued.status_code == 202
    await client.post(
        f"/v1/tenants/{world.other.id}/documents",
        json={"filename": "other.md", "text": "Another tenant's note."},
        headers=world.as_outsider,
    )
    waiting = await scrape(client)
    assert value(waiting, "tenantrag_jobs_queued") == 3
    assert value(waiting, "tenantrag_jobs_running") == 0
    assert value(waiting, "tenantrag_jobs_oldest_queued_age_seconds") >= 0
    worker = workers.make_worker(rag, settings)
    while await worker.run_once() is not None:
        pass
    drained = await scrape(client)
    assert value(drained, "tenantrag_jobs_queued") == 0
    assert value(drained, "tenantrag_jobs_oldest_queued_age_seconds") == 0
    # A pooled backend reports its pool (SQLite files and PostgreSQL; not memory://).
    assert value(drained, "tenantrag_db_pool_size", engine="primary") >= 1
    assert value(drained, "tenantrag_db_pool_checked_out", engine="primary") >= 0


@memory_only
async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    quiet = create_app(make_container(make_settings(settings.database_url, metrics_enabled=False)))
    async with (
        quiet.router.lifespan_context(quiet),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=quiet), base_url=BASE_URL) as client,
    ):
        assert (await client.get("/metrics")).status_code == 404
