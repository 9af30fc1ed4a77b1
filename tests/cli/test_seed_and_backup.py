"""seed and demo (without serving), backup and restore."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tenantrag.entrypoints.demo import sample_documents
from tests.cli.conftest import PRODUCTION, Cli, error_json, output_json


def test_seed_is_idempotent_and_repairs_the_demo_ownership(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    first = output_json(cli("seed", "--database-url", url, "--json"))
    assert first["user"]["email"] == "demo@example.com"
    assert first["password"] == "demo123"
    assert first["tenant"]["slug"] == "demo-workspace"
    assert first["user"]["created"]
    assert first["tenant"]["created"]
    assert first["documents"] == []

    cli("user", "create", "other@example.com", "--no-password", "--database-url", url)
    cli("member", "add", "demo-workspace", "other@example.com", "--role", "owner", "--database-url", url)
    cli("member", "set-role", "demo-workspace", "demo@example.com", "viewer", "--database-url", url)

    second = output_json(cli("seed", "--samples", "--database-url", url, "--json"))
    assert not second["user"]["created"]
    assert not second["tenant"]["created"]
    assert second["user"]["id"] == first["user"]["id"]
    assert [d["status"] for d in second["documents"]] == ["created"] * len(sample_documents())
    members = output_json(cli("member", "list", "demo-workspace", "--database-url", url, "--json"))
    assert {m["email"]: m["role"] for m in members}["demo@example.com"] == "owner"

    third = cli("seed", "--samples", "--database-url", url)
    assert "demo user demo@example.com (found)" in third.stdout
    assert third.stdout.count("unchanged") == len(sample_documents())


def test_seed_and_demo_are_refused_outside_development_unless_forced(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    for command in (["seed"], ["demo", "--no-serve"]):
        refused = cli(*command, "--database-url", url, "--json", env=PRODUCTION)
        assert refused.exit_code == 4
        assert "ENVIRONMENT=production" in error_json(refused)["message"]
    assert not (tmp_path / "prod.db").exists()

    # Forced: demo creates the schema itself, as production does not migrate at start.
    assert cli("demo", "--no-serve", "--force", "--database-url", url, env=PRODUCTION).exit_code == 0
    assert cli("seed", "--force", "--database-url", url, env=PRODUCTION).exit_code == 0


def test_demo_without_serving_prepares_everything_once(cli: Cli, tmp_path: Path) -> None:
    first = output_json(cli("demo", "--no-serve", "--json"))
    assert first["url"] is None
    assert first["database_url"] == "sqlite+aiosqlite:///./tenantrag.db"
    assert sorted(d["filename"] for d in first["documents"]) == sorted(sample_documents())
    assert {d["status"] for d in first["documents"]} == {"created"}
    assert (tmp_path / "tenantrag.db").exists()

    second = cli("demo", "--no-serve")
    assert "sample documents: 4 unchanged" in second.stdout
    assert len(output_json(cli("documents", "list", "demo-workspace", "--json"))) == len(sample_documents())


def test_demo_works_on_the_memory_backend(cli: Cli) -> None:
    result = output_json(cli("demo", "--no-serve", "--database-url", "memory://", "--json"))
    assert len(result["documents"]) == len(sample_documents())


def test_backup_and_restore_a_sqlite_database(cli: Cli, database: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.db"
    made = output_json(cli("backup", str(backup), "--json"))
    assert made["bytes"] == backup.stat().st_size > 0
    with sqlite3.connect(backup) as connection:
        assert connection.execute("SELECT count(*) FROM tenants").fetchone() == (1,)

    again = cli("backup", str(backup))
    assert again.exit_code == 5
    assert "add --force" in again.stderr
    assert cli("backup", str(backup), "--force").exit_code == 0

    over_data = cli("restore", str(backup), "--json")
    assert over_data.exit_code == 5
    assert "holds data" in error_json(over_data)["message"]

    cli("reset", "--yes")
    restored = output_json(cli("restore", str(backup), "--json"))
    assert restored["revision"] == restored["head"]
    assert (
        output_json(cli("search", "demo-workspace", "revoke an API key", "-k", "1", "--json"))[0]["filename"]
        == "api-keys.md"
    )

    cli("user", "create", "late@example.com", "--no-password")
    assert cli("restore", str(backup), "--force").exit_code == 0
    assert cli("user", "create", "late@example.com", "--no-password").exit_code == 0  # gone with the restore


def test_restore_into_a_new_database_file(cli: Cli, database: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backup.db"
    cli("backup", str(backup))
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert "restored" in cli("restore", str(backup), "--database-url", target).stdout
    assert (
        output_json(cli("tenant", "list", "--database-url", target, "--json"))[0]["slug"] == "demo-workspace"
    )


def test_backup_and_restore_refusals(cli: Cli, database: Path, tmp_path: Path) -> None:
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello", encoding="utf-8")
    assert "is not a SQLite database" in cli("restore", str(not_sqlite), "--force").stderr

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    refused = cli("restore", str(foreign), "--force", "--json")
    assert refused.exit_code == 6
    assert "not a tenantrag backup" in error_json(refused)["message"]

    assert cli("restore", str(tmp_path / "missing.db")).exit_code == 2
    assert cli("backup", str(tmp_path / "b.db"), "--database-url", "memory://").exit_code == 6
    missing = cli("backup", str(tmp_path / "b.db"), "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.exit_code == 9
    assert not (tmp_path / "none.db").exists()
    assert cli("backup", str(tmp_path / "no" / "folder" / "b.db")).exit_code == 9
    assert cli("backup").exit_code == 2
