"""seed and demo (without serving); backup and restore are in test_backup_archive.py."""

from __future__ import annotations

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
