"""``tenantrag copy SOURCE TARGET``: SQLite to SQLite and to PostgreSQL, whole or some
tenants, interrupted and resumed, and what it refuses."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tenantrag.entrypoints.settings import Settings
from tenantrag.entrypoints.store_copy import copy_store
from tests.cli.conftest import Cli, error_json, output_json
from tests.postgres_server import Databases

QUESTION = "how are tenants kept apart"
COPIED = ("tenants", "users", "memberships", "documents", "document_versions", "chunks", "jobs")


def _search(cli: Cli, url: str) -> list[tuple[str, float]]:
    found = output_json(cli("search", "demo-workspace", QUESTION, "--database-url", url, "--json"))
    hits: list[dict[str, Any]] = found["hits"] if isinstance(found, dict) else found
    return [(hit["document_id"], round(hit["score"], 3)) for hit in hits]


def _counts(url: str) -> dict[str, int]:
    # The test server's login is a superuser, whom row-level security does not restrict.
    engine = create_engine(url.replace("+aiosqlite", ""))
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in COPIED
            }
    finally:
        engine.dispose()


def _originals(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def test_a_sqlite_store_copies_into_a_new_sqlite_file_with_its_originals(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    source = f"sqlite:///{database}"
    target = f"sqlite:///{tmp_path / 'moved' / 'rag.db'}"
    (tmp_path / "moved").mkdir()

    report = output_json(cli("copy", source, target, "--json"))

    assert report["tenants"] == 1
    assert report["rows"]["chunks"] == _counts(source)["chunks"] > 0
    assert report["searches_compared"] > 0
    assert _counts(target) == _counts(source)
    again = output_json(cli("copy", source, target, "--json"))  # nothing new: a no-op, still verified
    assert again["blobs_copied"] == 0
    assert _counts(target) == _counts(source)
    assert _search(cli, target) == _search(cli, source)
    originals = _originals(tmp_path / "tenantrag-blobs")
    assert originals
    assert _originals(tmp_path / "moved" / "tenantrag-blobs") == originals
    with sqlite3.connect(database) as connection:
        keys = connection.execute(
            "SELECT count(*) FROM"
            " (SELECT storage_key FROM documents UNION SELECT storage_key FROM document_versions)"
        ).fetchone()[0]
    assert report["blobs_copied"] == keys > 0


@pytest.mark.postgres
def test_a_sqlite_store_grows_into_postgresql(
    cli: Cli, database: Path, tmp_path: Path, postgres_databases: Databases
) -> None:
    source = f"sqlite:///{database}"
    target = postgres_databases.create()  # empty: copy makes the schema and the runtime role

    report = output_json(
        cli("copy", source, target, "--target-blobs", str(tmp_path / "pg-blobs"), "--json"),
    )

    assert report["searches_compared"] > 0
    assert _counts(target) == _counts(source)
    # The backends agree within tolerance (they count a chunk's words slightly differently).
    ours, theirs = _search(cli, source), _search(cli, target)
    assert [hit[0] for hit in theirs] == [hit[0] for hit in ours]
    assert [hit[1] for hit in theirs] == pytest.approx([hit[1] for hit in ours], rel=0.05, abs=0.01)
    assert _originals(tmp_path / "pg-blobs") == _originals(tmp_path / "tenantrag-blobs")


@pytest.mark.postgres
def test_an_interrupted_copy_goes_on_where_it_stopped(
    cli: Cli, database: Path, tmp_path: Path, postgres_databases: Databases
) -> None:
    source = Settings(database_url=f"sqlite:///{database}")
    target = Settings(database_url=postgres_databases.create(), blob_store_path=tmp_path / "pg-blobs")
    batches: list[str] = []

    class Stop(Exception):
        pass

    def stop_after_a_few(table: str, _rows: int) -> None:
        batches.append(table)
        if table == "chunks" and batches.count("chunks") == 2:
            raise Stop

    with pytest.raises(Stop):
        asyncio.run(copy_store(source, target, batch_size=1, progress=stop_after_a_few))
    partial = _counts(target.database_url)
    assert 0 < partial["chunks"] < _counts(source.database_url)["chunks"]

    report = asyncio.run(copy_store(source, target, batch_size=1))

    assert _counts(target.database_url) == _counts(source.database_url)
    # Resumed: the chunks already there were not read again.
    assert report.rows["chunks"] == _counts(source.database_url)["chunks"] - partial["chunks"]


def test_chosen_tenants_travel_with_their_users_only(cli: Cli, database: Path, tmp_path: Path) -> None:
    source = f"sqlite:///{database}"
    cli("user", "create", "other@example.com", "--no-password")
    cli("tenant", "create", "Other", "--slug", "other", "--owner", "other@example.com")
    cli("ingest", "other", str(_write(tmp_path / "other.md", "# Other\n\nOnly the other tenant holds this.")))
    target = f"sqlite:///{tmp_path / 'one.db'}"

    report = output_json(cli("copy", source, target, "--tenant", "other", "--no-originals", "--json"))

    assert report["tenants"] == 1
    with sqlite3.connect(tmp_path / "one.db") as connection:
        assert [row[0] for row in connection.execute("SELECT slug FROM tenants")] == ["other"]
        assert [row[0] for row in connection.execute("SELECT email FROM users")] == ["other@example.com"]
        assert connection.execute("SELECT count(*) FROM chunks").fetchone()[0] > 0


def test_a_copy_that_lost_rows_is_reported_not_trusted(cli: Cli, database: Path, tmp_path: Path) -> None:
    source = f"sqlite:///{database}"
    target_path = tmp_path / "lossy.db"
    output_json(cli("copy", source, f"sqlite:///{target_path}", "--json"))
    with sqlite3.connect(target_path) as connection:
        first = connection.execute("SELECT id FROM chunks ORDER BY id LIMIT 1").fetchone()[0]
        connection.execute("DELETE FROM chunks WHERE id = ?", (first,))

    again = cli("copy", source, f"sqlite:///{target_path}", "--json")

    assert again.exit_code == 5
    error = error_json(again)
    assert error["code"] == "copy_mismatch"
    assert any("chunks of tenant" in problem for problem in error["details"]["problems"])


@pytest.mark.parametrize(
    ("arguments", "exit_code", "named"),
    [
        (lambda db, tmp: [f"sqlite:///{db}", f"sqlite:///{db}"], 6, "target"),
        (lambda db, tmp: [f"sqlite:///{db}", "memory://"], 6, "memory://"),
        (lambda db, tmp: [f"sqlite:///{tmp / 'none.db'}", f"sqlite:///{tmp / 'x.db'}"], 9, "no database"),
        (lambda db, tmp: [f"sqlite:///{db}", f"sqlite:///{tmp / 'x.db'}", "--tenant", "nope"], 3, "'nope'"),
        (lambda db, tmp: [f"sqlite:///{db}", f"sqlite:///{tmp / 'x.db'}", "--batch-size", "0"], 2, ""),
    ],
)
def test_bad_requests_are_refused_by_name(
    *,
    cli: Cli,
    database: Path,
    tmp_path: Path,
    arguments: Callable[[Path, Path], list[str]],
    exit_code: int,
    named: str,
) -> None:
    result = cli("copy", *arguments(database, tmp_path), "--json")

    assert result.exit_code == exit_code, result.output
    if exit_code != 2:
        assert named in error_json(result)["message"]


def test_a_target_made_by_another_embedder_is_refused(cli: Cli, database: Path, tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    output_json(cli("copy", f"sqlite:///{database}", f"sqlite:///{target}", "--no-originals", "--json"))
    with sqlite3.connect(target) as connection:
        connection.execute("UPDATE embedding_models SET name = 'another-model'")

    refused = cli("copy", f"sqlite:///{database}", f"sqlite:///{target}", "--json")

    assert refused.exit_code == 5
    assert "another-model" in error_json(refused)["message"]


def _write(path: Path, content: str) -> Path:
    path.write_text(content)
    return path
