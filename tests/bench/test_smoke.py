"""``python -m bench --smoke``: every contender runs, every number is finite, all outputs exist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.measure import finite

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONTENDERS = {
    "exact_copy",
    "pgvector_hnsw",
    "pgvector_hnsw_iterative",
    "tenantrag_postgres",
    "langchain_pgvector",
    "tenantrag_sqlite",
    "numpy_brute_force",
}
SIZE_CLASSES = {"0.1%", "1%", "10%", "40%"}


def test_the_smoke_run_measures_every_contender(tmp_path: Path) -> None:
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    results = json.loads((out / "results.json").read_text())
    assert results["smoke"] is True
    assert set(results["dimensions"]) == {"384", "1536"}
    for dimension, run in results["dimensions"].items():
        contenders = run["contenders"]
        assert set(contenders) == CONTENDERS, dimension
        for name, measured in contenders.items():
            assert "error" not in measured, (dimension, name, measured.get("error"))
            for key in ("ingest_seconds", "ingest_rows_per_second", "qps", "peak_rss_mb"):
                assert finite(measured[key]), (dimension, name, key, measured[key])
                assert measured[key] > 0, (dimension, name, key, measured[key])
            assert set(measured["classes"]) == SIZE_CLASSES, (dimension, name)
            for size_class, numbers in measured["classes"].items():
                assert all(finite(value) for value in numbers.values()), (
                    dimension,
                    name,
                    size_class,
                    numbers,
                )
                assert 0 <= numbers["recall_at_10"] <= 1
                assert numbers["p50_ms"] <= numbers["p95_ms"]
        # Exact search is the recall reference: it must agree with the NumPy ground truth.
        assert all(c["recall_at_10"] == 1.0 for c in contenders["exact_copy"]["classes"].values())

    statuses = {target["status"] for target in results["targets"]}
    assert statuses <= {"PASS", "MISS", "NOT MEASURED"}
    assert any(
        t["target"] == "QPS / langchain-postgres" and t["value"] is not None for t in results["targets"]
    )

    markdown = (out / "results.md").read_text()
    assert "## Targets" in markdown
    assert all(name in markdown for name in CONTENDERS)
    png = (out / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000
