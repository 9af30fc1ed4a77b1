"""Request ids: every answer carries X-Request-ID (a caller's valid one kept, anything else
replaced), every log line of the request carries it (JSON lines parsed back), and the search's
query log records it."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tenantrag.entrypoints.observability import request_ids
from tenantrag.entrypoints.observability.logs import logging_config, make_formatter, make_handler
from tests.http.helpers import memory_only
from tests.http.world import World


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What tenantrag logs while the test runs, as JSON lines (LOG_FORMAT=json's handler)."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    logger = logging.getLogger("tenantrag")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@memory_only
async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    made = await client.get("/health")
    assert len(made.headers[request_ids.HEADER]) == 32
    assert made.headers[request_ids.HEADER] != (await client.get("/health")).headers[request_ids.HEADER]
    kept = await client.get("/health", headers={request_ids.HEADER: "edge-7f3a:42.b"})
    assert kept.headers[request_ids.HEADER] == "edge-7f3a:42.b"
    # Problems carry it too.
    refused = await client.get("/v1/me", headers={request_ids.HEADER: "req-401"})
    assert refused.status_code == 401
    assert refused.headers[request_ids.HEADER] == "req-401"


@memory_only
@pytest.mark.parametrize("given", ["has space", "x" * 129, "-leading-dash", "café".encode(), "a\tb"])
async def test_an_implausible_incoming_id_is_replaced(client: httpx.AsyncClient, given: str | bytes) -> None:
    raw = given if isinstance(given, bytes) else given.encode()
    answered = (await client.get("/health", headers={request_ids.HEADER.encode(): raw})).headers[
        request_ids.HEADER
    ]
    assert answered.encode() != raw
    assert request_ids.is_valid(answered)


@memory_only
async def test_log_lines_and_the_query_log_carry_the_request_s_id(
    client: httpx.AsyncClient, world: World, json_lines: io.StringIO
) -> None:
    await world.rag.ingestion.add_text(
        world.owner, world.tenant.id, filename="a.md", text="Owls hunt at night."
    )
    searched = await client.post(
        f"/v1/tenants/{world.tenant.id}/search",
        json={"text": "owls"},
        headers={**world.owner_headers(), request_ids.HEADER: "trace-me-123"},
    )
    assert searched.status_code == 200
    assert searched.headers[request_ids.HEADER] == "trace-me-123"

    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [access] = [line for line in lines if line.get("route") == "/v1/tenants/{tenant}/search"]
    assert access["request_id"] == "trace-me-123"
    assert access["logger"] == "tenantrag.http.access"
    assert access["level"] == "INFO"
    assert (access["method"], access["status"]) == ("POST", 200)
    assert access["duration_ms"] > 0
    assert "timestamp" in access
    # The path's tenant id is not in the line: routes are templates.
    assert str(world.tenant.id) not in json_lines.getvalue()

    log_id = searched.json()["query_log_id"]
    listed = await client.get(
        f"/v1/tenants/{world.tenant.id}/query-logs/{log_id}", headers=world.owner_headers()
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["request_id"] == "trace-me-123"
    stored = await world.rag.query_logs.get(world.owner, world.tenant.id, log_id)
    assert stored.request_id == "trace-me-123"


def test_text_lines_show_the_request_id_and_bad_formats_are_refused() -> None:
    record = logging.LogRecord("tenantrag.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.request_id = "req-9"
    assert make_formatter("text").format(record).endswith("INFO tenantrag.x [req-9] hello there")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        make_formatter("xml")  # type: ignore[arg-type]


def test_the_process_configuration_routes_uvicorn_through_the_same_handler() -> None:
    config = logging_config("json", "DEBUG")
    assert config["root"] == {"level": "WARNING", "handlers": ["default"]}
    assert config["loggers"]["tenantrag"]["level"] == "DEBUG"
    assert config["handlers"]["default"]["log_format"] == "json"
    # uvicorn's own access line gives way to the middleware's, which has the request id.
    assert config["loggers"]["uvicorn.access"]["propagate"] is False


def test_json_logging_configures_a_real_process() -> None:
    """``configure_logging`` as ``tenantrag serve`` applies it, in a process of its own."""
    script = (
        "import logging\n"
        "from tenantrag.entrypoints.observability import request_ids\n"
        "from tenantrag.entrypoints.observability.logs import configure_logging\n"
        "configure_logging('json', 'INFO')\n"
        "request_ids.bind('req-sub-1')\n"
        "logging.getLogger('tenantrag.demo').info('ingested', extra={'chunks': 3})\n"
        "logging.getLogger('uvicorn.error').info('started', extra={'color_message': 'started in colour'})\n"
        "logging.getLogger('httpx').info('not shown: other libraries warn or stay quiet')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    [line, uvicorn] = [json.loads(line) for line in done.stderr.splitlines()]
    assert (uvicorn["logger"], uvicorn["message"]) == ("uvicorn.error", "started")
    assert "color_message" not in uvicorn
    assert line["message"] == "ingested"
    assert (line["request_id"], line["chunks"], line["logger"]) == ("req-sub-1", 3, "tenantrag.demo")
