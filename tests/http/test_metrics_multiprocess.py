"""Several processes, one /metrics: with PROMETHEUS_MULTIPROC_DIR set, counters recorded by
separate processes (uvicorn workers, a `tenantrag worker`) are added up by the exposition."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

RECORD = (
    "from tenantrag.entrypoints.observability import metrics\n"
    "metrics.record_request('GET', '/v1/me', 200, 0.01)\n"
    "metrics.record_ingested(backend='sqlite', tenant='', chunks=4)\n"
)
EXPOSE = (
    "import sys\n"
    "from tenantrag.entrypoints.observability import metrics\n"
    "sys.stdout.write(metrics.exposition().decode())\n"
)


def _run(script: str, folder: Path) -> str:
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_counters_of_several_processes_are_added_up(tmp_path: Path) -> None:
    for _ in range(3):
        _run(RECORD, tmp_path)
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(_run(EXPOSE, tmp_path))
        for sample in family.samples
    }
    request = (("method", "GET"), ("route", "/v1/me"), ("status", "200"))
    assert samples[("tenantrag_http_requests_total", request)] == 3
    assert samples[("tenantrag_ingested_chunks_total", (("backend", "sqlite"), ("tenant", "")))] == 12
    assert samples[("tenantrag_http_request_duration_seconds_count", request[:2])] == 3
