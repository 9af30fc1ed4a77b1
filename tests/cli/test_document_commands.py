"""ingest, search and documents list."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, error_json, output_json


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    (folder / "deep").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    (folder / "cats.md").write_text("# Cats\n\nA cat purrs when it is content.\n", encoding="utf-8")
    (folder / "rockets.txt").write_text("A rocket engine expels exhaust to make thrust.\n", encoding="utf-8")
    (folder / "deep" / "bees.markdown").write_text(
        "Bees dance to tell the hive where flowers are.\n", encoding="utf-8"
    )
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n")
    (folder / ".hidden" / "secret.md").write_text("not for ingestion\n", encoding="utf-8")
    (folder / ".draft.md").write_text("not for ingestion either\n", encoding="utf-8")
    return folder


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_ingest_a_folder_recursively_then_again_unchanged(cli: Cli, database: Path, notes: Path) -> None:
    result = cli("ingest", "demo-workspace", str(notes), "--recursive", "--tag", "notes", "--json")
    assert result.exit_code == 0, result.output
    reported = lines(result.stdout)
    assert [(r["filename"], r["status"]) for r in reported if r["status"] != "skipped"] == [
        ("notes/cats.md", "created"),
        ("notes/deep/bees.markdown", "created"),
        ("notes/rockets.txt", "created"),
    ]
    assert [Path(str(r["path"])).name for r in reported if r["status"] == "skipped"] == ["photo.png"]
    assert all(r["chunks"] == 1 for r in reported if r["status"] == "created")

    again = cli("ingest", "demo-workspace", str(notes), "-r")
    assert again.exit_code == 0
    assert "unchanged  notes/cats.md  (1 chunk)" in again.stdout
    assert again.stdout.strip().endswith("demo-workspace: 1 skipped, 3 unchanged")

    (notes / "cats.md").write_text("# Cats\n\nCats sleep most of the day.\n", encoding="utf-8")
    updated = lines(cli("ingest", "demo-workspace", str(notes / "cats.md"), "--json").stdout)
    # Named on its own, the file is stored under its own name: a new document.
    assert [(r["filename"], r["status"]) for r in updated] == [("cats.md", "created")]
    updated = lines(cli("ingest", "demo-workspace", str(notes), "-r", "--json").stdout)
    assert {r["filename"]: r["status"] for r in updated}["notes/cats.md"] == "updated"

    documents = output_json(cli("documents", "list", "demo-workspace", "--tag", "notes", "--json"))
    assert sorted(d["filename"] for d in documents) == [
        "notes/cats.md",
        "notes/deep/bees.markdown",
        "notes/rockets.txt",
    ]
    by_name = {d["filename"]: d for d in documents}
    assert by_name["notes/cats.md"]["media_type"] == "text/markdown"
    assert by_name["notes/rockets.txt"]["media_type"] == "text/plain"
    assert by_name["notes/cats.md"]["metadata"] == {"source": "notes/cats.md"}


def test_ingest_without_recursive_stays_in_the_folder(cli: Cli, database: Path, notes: Path) -> None:
    reported = lines(cli("ingest", "demo-workspace", str(notes), "--json").stdout)
    assert sorted(str(r["filename"]) for r in reported if r["status"] == "created") == [
        "notes/cats.md",
        "notes/rockets.txt",
    ]


def test_one_bad_file_fails_alone_and_sets_the_exit_code(
    cli: Cli, database: Path, notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (notes / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (notes / "big.md").write_text("x" * 2000, encoding="utf-8")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    result = cli("ingest", "demo-workspace", str(notes), "--json")
    assert result.exit_code == 6
    statuses = {r.get("filename"): r["status"] for r in lines(result.stdout)}
    assert statuses == {
        "notes/big.md": "failed", "notes/cats.md": "created", "notes/latin1.txt": "failed",
        "notes/rockets.txt": "created", None: "skipped",
    }  # fmt: skip
    errors = {r["filename"]: r["error"] for r in lines(result.stdout) if r["status"] == "failed"}
    assert "the limit is 1000 (MAX_UPLOAD_BYTES)" in str(errors["notes/big.md"])
    assert "not valid utf-8 text" in str(errors["notes/latin1.txt"])

    text = cli("ingest", "demo-workspace", str(notes))
    assert "failed     notes/latin1.txt" in text.stderr
    assert text.stderr.count("notes/latin1.txt") == 1  # said once, not before the message again
    assert f"skipped    {notes / 'photo.png'} (not a supported kind of file)" in text.stderr
    assert "1 skipped" in text.stdout


def test_ingest_refusals(cli: Cli, database: Path, notes: Path, tmp_path: Path) -> None:
    unsupported = cli("ingest", "demo-workspace", str(notes / "photo.png"), "--json")
    assert unsupported.exit_code == 6
    assert "only text (.txt, .text), Markdown" in error_json(unsupported)["message"]

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "cats.md").write_text("other cats\n", encoding="utf-8")
    clash = cli("ingest", "demo-workspace", str(notes / "cats.md"), str(tmp_path / "other" / "cats.md"))
    assert clash.exit_code == 6
    assert "would both be stored as 'cats.md'" in clash.stderr

    (tmp_path / "empty").mkdir()
    assert cli("ingest", "demo-workspace", str(tmp_path / "empty")).exit_code == 6
    assert cli("ingest", "demo-workspace", str(notes), "--tag", "x" * 100).exit_code == 6
    assert cli("ingest", "no-such-tenant", str(notes)).exit_code == 3
    assert cli("ingest", "demo-workspace", str(tmp_path / "missing.md")).exit_code == 2
    assert cli("ingest", "demo-workspace").exit_code == 2
    assert (
        output_json(cli("documents", "list", "demo-workspace", "--json"))[-1]["filename"]
        == "tenant-isolation.md"
    )


def test_search_finds_the_right_sample_first(cli: Cli, database: Path) -> None:
    hits = output_json(cli("search", "demo-workspace", "how do I revoke an API key?", "-k", "2", "--json"))
    assert [hit["rank"] for hit in hits] == [1, 2]
    assert hits[0]["filename"] == "api-keys.md"
    assert hits[0]["score"] >= hits[1]["score"]
    assert "revoked" in hits[0]["content"]
    assert set(hits[0]) == {
        "rank",
        "score",
        "filename",
        "document_id",
        "chunk_id",
        "ordinal",
        "content",
        "metadata",
        "title",
        "vector_rank",
        "text_rank",
        "query_log_id",
    }

    text = cli("search", "demo-workspace", "row-level security", "-k", "1").stdout
    assert text.startswith("1. ")
    assert "tenant-isolation.md #0" in text


def test_search_filters_by_tag_and_by_tenant(cli: Cli, database: Path, notes: Path) -> None:
    cli("ingest", "demo-workspace", str(notes / "cats.md"), "--tag", "pets")
    hits = output_json(cli("search", "demo-workspace", "API keys", "--tag", "pets", "--json"))
    assert [hit["filename"] for hit in hits] == ["cats.md"]

    cli("user", "create", "solo@example.com", "--no-password")
    cli("tenant", "create", "Solo", "--owner", "solo@example.com")
    assert "no matches in solo" in cli("search", "solo", "API keys").stdout


def test_search_refusals(cli: Cli, database: Path) -> None:
    too_many = cli("search", "demo-workspace", "x", "-k", "101", "--json")
    assert too_many.exit_code == 6
    assert error_json(too_many)["message"] == "k: must be at most 100 (MAX_K), got 101"
    assert cli("search", "demo-workspace", "x", "-k", "0").exit_code == 2
    assert cli("search", "demo-workspace", "   ").exit_code == 6
    assert cli("search", "nope", "x").exit_code == 3
    assert cli("search", "demo-workspace").exit_code == 2


def test_documents_list_filters_and_limits(cli: Cli, database: Path) -> None:
    everything = output_json(cli("documents", "list", "demo-workspace", "--json"))
    assert [d["filename"] for d in everything] == [
        "api-keys.md", "getting-started.md", "search.md", "tenant-isolation.md",
    ]  # fmt: skip
    assert all(d["status"] == "completed" and d["tags"] == ["sample"] for d in everything)
    assert len(output_json(cli("documents", "list", "demo-workspace", "--limit", "3", "--json"))) == 3
    assert output_json(cli("documents", "list", "demo-workspace", "--status", "failed", "--json")) == []
    assert "no documents" in cli("documents", "list", "demo-workspace", "--status", "pending").stdout

    table = cli("documents", "list", "demo-workspace").stdout.splitlines()
    assert table[0].split() == ["id", "status", "chunks", "filename", "tags", "created"]
    assert len(table) == 5

    assert cli("documents", "list", "demo-workspace", "--status", "done").exit_code == 2
    assert cli("documents", "list", "demo-workspace", "--limit", "0").exit_code == 2
    assert cli("documents", "list", "nope").exit_code == 3


def test_database_echo_logs_sql_to_stderr_and_keeps_json_on_stdout(cli: Cli, database: Path) -> None:
    logger = logging.getLogger("sqlalchemy.engine")
    handlers, level = list(logger.handlers), logger.level
    try:
        result = cli("documents", "list", "demo-workspace", "--json", env={"DATABASE_ECHO": "true"})
    finally:  # the echo lasts for the process; the other tests' processes are this one
        logger.handlers[:], logger.level = handlers, level
    assert [d["filename"] for d in output_json(result)][:1] == ["api-keys.md"]
    assert "SELECT" in result.stderr
    assert "SELECT" not in result.stdout
