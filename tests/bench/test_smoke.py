"""``python -m bench --smoke``: every contender runs, every number is finite (the row-level security
overhead and CRUD measures included), all outputs exist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
RLS_KINDS = {"vector", "text_common", "text_rare", "hybrid_common", "hybrid_rare"}


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
            for key in ("ingest_seconds", "ingest_rows_per_second", "qps", "peak_rss_mb", "baseline_rss_mb"):
                assert finite(measured[key]), (dimension, name, key, measured[key])
                assert measured[key] > 0, (dimension, name, key, measured[key])
            # Each contender's own process: its peak is at least what it started with.
            assert finite(measured["peak_rss_growth_mb"])
            assert measured["peak_rss_growth_mb"] >= 0
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
        # Peak memory is per contender now, not the one process's.
        assert len({c["peak_rss_mb"] for c in contenders.values()}) > 1, dimension
        check_rls(dimension, run["rls"])
        check_crud(dimension, run["crud"])

    statuses = {target["status"] for target in results["targets"]}
    assert statuses <= {"PASS", "MISS", "NOT MEASURED"}
    measured = {t["target"] for t in results["targets"] if t["value"] is not None}
    assert {
        "QPS / langchain-postgres",
        "RLS overhead, vector",
        "RLS overhead, full text",
        "RLS overhead, hybrid",
        "get-by-id time / raw psycopg",
    } <= measured
    assert all(finite(t["value"]) for t in results["targets"] if t["value"] is not None)

    markdown = (out / "results.md").read_text()
    assert "## Targets" in markdown
    assert "Row-level security overhead" in markdown
    assert "CRUD" in markdown
    assert all(name in markdown for name in CONTENDERS)
    png = (out / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000


def check_rls(dimension: str, rls: dict[str, Any]) -> None:
    assert "error" not in rls, (dimension, rls.get("error"))
    # The owner is a superuser (RLS does not apply to it) and provisioning marked the match LEAKPROOF.
    assert rls["owner_is_superuser"] is True
    assert rls["text_match_leakproof"] is True
    assert set(rls["overhead"]) == {"vector", "full_text", "hybrid"}
    assert all(finite(value) for value in rls["overhead"].values()), rls["overhead"]
    assert set(rls["classes"]) == SIZE_CLASSES
    for size_class, kinds in rls["classes"].items():
        assert set(kinds) == RLS_KINDS, (dimension, size_class)
        for kind, numbers in kinds.items():
            where = (dimension, size_class, kind, numbers)
            for key in ("rls_p50_ms", "owner_p50_ms", "rls_transaction_p50_ms", "owner_transaction_p50_ms"):
                assert finite(numbers[key]), where
                assert numbers[key] > 0, where
            assert finite(numbers["overhead"]), where
            assert finite(numbers["transaction_overhead"]), where
            assert finite(numbers["paired_overhead"]), where
            # Under RLS and as the owner with the tenant predicate, the same rows.
            assert numbers["mismatches"] == 0, where
            assert numbers["mean_rows"] > 0, where


def check_crud(dimension: str, crud: dict[str, Any]) -> None:
    assert "error" not in crud, (dimension, crud.get("error"))
    for operation in ("get_by_id", "list"):
        for variant in ("unit_of_work", "bare"):
            numbers = crud[operation][variant]
            assert {"raw_psycopg", "tenantrag"} <= set(numbers["p50_us"])
            for value in (*numbers["p50_us"].values(), *numbers["mean_us"].values()):
                assert finite(value), (dimension, operation, variant, numbers)
                assert value > 0, (dimension, operation, variant, numbers)
            assert all(finite(r) and r > 0 for r in numbers["ratio"].values()), (
                dimension,
                operation,
                numbers,
            )


def test_the_full_text_speed_bench_runs_and_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import fulltext_speed

    assert fulltext_speed.main(["--scale", "300", "--backends", "sqlite", "--dimensions", "8"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith("| backend | `cat` |")
    row = table[-1].split("|")
    assert row[1].strip() == "sqlite"
    assert all(float(cell) > 0 for cell in row[2:-1])
