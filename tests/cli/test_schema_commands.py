"""init, status, db upgrade|downgrade|current|history|revision, and reset."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tenantrag.adapters.sql import migrations
from tests.cli.conftest import PRODUCTION, Cli, error_json, output_json

REPO_ROOT = Path(__file__).resolve().parents[2]
# The revision before the newest ("-1" would need `--` before it on a command line).
PREVIOUS = migrations.history()[-2].id


def test_init_creates_the_schema_and_is_idempotent(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = output_json(cli("init", "--database-url", url, "--json"))
    second = output_json(cli("init", "--database-url", url, "--json"))

    assert (
        first
        == second
        == {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}",
            "revision": migrations.head(),
            "head": migrations.head(),
            "up_to_date": True,
            "pinned": False,
        }
    )
    text = cli("init", "--database-url", url)
    assert text.stdout.strip().endswith(f"at revision {migrations.head()} (the newest)")


def test_init_on_memory_has_nothing_to_create(cli: Cli) -> None:
    assert "nothing to create" in cli("init", "--database-url", "memory://").stdout


def test_init_in_a_missing_folder_fails_with_the_database_exit_code(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", "--database-url", f"sqlite:///{tmp_path}/no/such/folder/x.db")
    assert result.exit_code == 9
    assert "does not exist" in result.stderr


def test_status_reports_the_schema_versions_and_rows(cli: Cli, database: Path) -> None:
    report = output_json(cli("status", "--json"))
    assert report["backend"] == "sqlite"
    assert report["reachable"] is True
    assert report["healthy"] is True
    assert report["revision"] == report["head"] == migrations.head()
    assert set(report["versions"]) == {"sqlite"}
    assert report["row_counts"]["tenants"] == 1
    assert report["row_counts"]["documents"] == 4
    assert report["latency_ms"] >= 0

    text = cli("status").stdout
    assert re.search(r"^reachable\s+yes \(\d+\.\d ms\)$", text, re.MULTILINE)
    assert "tenants 1" in text


def test_status_of_a_missing_database_says_so_without_creating_it(cli: Cli, tmp_path: Path) -> None:
    result = cli("status", "--database-url", f"sqlite:///{tmp_path / 'missing.db'}", "--json")
    assert result.exit_code == 9
    report = json.loads(result.stdout)
    assert report["reachable"] is False
    assert "no database file" in report["error"]
    assert not (tmp_path / "missing.db").exists()


def test_status_of_a_database_without_schema_exits_nonzero(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    result = cli("status", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 9
    assert "no schema: run `tenantrag init`" in result.stdout


def test_status_of_memory_is_healthy(cli: Cli) -> None:
    assert output_json(cli("status", "--database-url", "memory://", "--json"))["healthy"] is True


def test_db_commands_walk_the_history(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    assert output_json(cli("db", "current", "--database-url", url, "--json"))["revision"] is None
    assert not (tmp_path / "db.db").exists()

    history = output_json(cli("db", "history", "--json"))
    assert history[-1]["id"] == migrations.head()
    assert history[-1]["is_head"] is True
    assert history[0]["down_revisions"] == []
    assert migrations.head() in cli("db", "history").stdout

    assert output_json(cli("db", "upgrade", "--database-url", url, "--json"))["up_to_date"] is True
    first = history[0]["id"]
    down = output_json(cli("db", "downgrade", first, "--yes", "--database-url", url, "--json"))
    assert down["revision"] == first
    assert down["up_to_date"] is (first == migrations.head())
    assert (
        output_json(cli("db", "downgrade", "base", "--yes", "--database-url", url, "--json"))["revision"]
        is None
    )
    assert "no schema" in cli("db", "current", "--database-url", url).stdout
    assert cli("db", "upgrade", first, "--database-url", url).exit_code == 0


def test_db_commands_refuse_bad_revisions_and_memory(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    result = cli("db", "upgrade", "nonsense", "--database-url", url, "--json")
    assert result.exit_code == 6
    assert error_json(result)["details"] == {"field": "revision"}
    assert cli("db", "downgrade", "--database-url", url).exit_code == 2  # REVISION is required
    assert cli("db", "current", "--database-url", "memory://").exit_code == 6


def test_db_vector_index_is_postgresql_only(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    result = cli("db", "vector-index", "status", "--database-url", url, "--json")
    assert result.exit_code == 6
    assert "SQLite searches are always exact" in error_json(result)["message"]
    assert cli("db", "vector-index", "rebuild", "--database-url", url).exit_code == 2  # no such action


def test_db_revision_with_autogenerate_needs_an_up_to_date_database(cli: Cli, tmp_path: Path) -> None:
    location = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", location, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "empty.db").touch()
    result = cli(
        "db", "revision", "-m", "x", "--autogenerate", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}",
        "--script-location", str(location),
    )  # fmt: skip
    assert result.exit_code == 9
    assert "not up to date" in result.stderr
    assert cli("db", "revision", "--script-location", str(location)).exit_code == 2  # -m is required


def test_reset_needs_yes_and_outside_development_force(cli: Cli, database: Path) -> None:
    note = database.parent / "note.md"
    note.write_text("# Note\n\nKept as an original.", encoding="utf-8")
    assert cli("ingest", "demo-workspace", str(note)).exit_code == 0
    blobs = database.parent / "tenantrag-blobs"
    assert any(path.is_file() for path in blobs.rglob("*"))
    refused = cli("reset")
    assert refused.exit_code == 2
    assert "add --yes" in refused.output

    result = cli("reset", "--yes", "--json", env=PRODUCTION)
    assert result.exit_code == 4
    assert "add --force" in error_json(result)["message"]

    assert output_json(cli("reset", "--yes", "--json")) == {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "reset": True,
        "blobs_removed": True,
    }
    assert not blobs.exists()
    assert output_json(cli("db", "current", "--json"))["revision"] is None
    assert cli("status").exit_code == 9
    assert cli("init").exit_code == 0
    assert output_json(cli("status", "--json"))["row_counts"]["tenants"] == 0


def test_reset_of_nothing_is_harmless(cli: Cli, tmp_path: Path) -> None:
    result = cli("reset", "--yes", "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 0
    assert "nothing to reset" in result.stdout
    assert not (tmp_path / "none.db").exists()


def test_downgrade_asks_yes_refuses_production_without_force_and_needs_no_jwt_secret(
    cli: Cli, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    assert cli("init", "--database-url", url).exit_code == 0
    unconfirmed = cli("db", "downgrade", "base", "--database-url", url)
    assert unconfirmed.exit_code == 2
    assert "add --yes" in unconfirmed.output

    # Production: no JWT_SECRET_KEY asked for (schema commands sign nothing), --force demanded.
    production = {key: value for key, value in PRODUCTION.items() if key != "JWT_SECRET_KEY"}
    refused = cli("db", "downgrade", PREVIOUS, "--yes", "--database-url", url, "--json", env=production)
    assert refused.exit_code == 4, refused.output
    assert "add --force" in error_json(refused)["message"]
    assert output_json(cli("db", "current", "--database-url", url, "--json", env=production))["up_to_date"]
    forced = cli(
        "db", "downgrade", PREVIOUS, "--yes", "--force", "--database-url", url, "--json", env=production
    )
    assert output_json(forced)["up_to_date"] is False
    assert not (tmp_path / ".tenantrag-jwt-secret").exists()  # no secret generated as a side effect


def test_a_deliberate_downgrade_is_not_undone_by_the_next_command(cli: Cli, database: Path) -> None:
    down = output_json(cli("db", "downgrade", PREVIOUS, "--yes", "--json"))
    assert down["pinned"] is True
    assert "downgraded on purpose" in cli("db", "current").stdout

    refused = cli("documents", "list", "demo-workspace", "--json")  # would migrate up on start
    assert refused.exit_code == 9
    assert "downgraded to" in error_json(refused)["message"]
    assert "tenantrag db upgrade" in error_json(refused)["message"]
    assert output_json(cli("db", "current", "--json"))["revision"] == down["revision"]

    up = output_json(cli("db", "upgrade", "--json"))
    assert (up["up_to_date"], up["pinned"]) == (True, False)
    assert len(output_json(cli("documents", "list", "demo-workspace", "--json"))) == 4


@pytest.mark.postgres
def test_a_deliberate_downgrade_on_postgresql_keeps_its_pin_and_the_embedder_record(
    cli: Cli, tmp_path: Path, postgres_database: Callable[[int], str]
) -> None:
    db = ["--database-url", postgres_database(256)]  # 256: the default embedder's dimension
    env = {"BLOB_STORE_PATH": str(tmp_path / "blobs")}
    assert cli("tenant", "list", *db, env=env).exit_code == 0  # the first start records the embedder
    assert cli("db", "downgrade", "base", "--yes", "--json", *db, env=env).exit_code == 0
    refused = cli("tenant", "list", "--json", *db, env=env)
    assert refused.exit_code == 9
    assert "downgraded to base on purpose" in error_json(refused)["message"]
    assert output_json(cli("db", "upgrade", "--json", *db, env=env))["pinned"] is False
    report = output_json(cli("status", "--json", *db, env=env))
    assert report["row_counts"]["embedding_models"] == 1
