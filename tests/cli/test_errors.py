"""Failures: one line (or one JSON object) on stderr, a distinct exit code, no password shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenantrag.adapters.sql.migrations import MigrationError, SchemaDrift
from tenantrag.domain import errors
from tenantrag.entrypoints.backends import DatabaseUnavailable
from tenantrag.entrypoints.backup import BackupError
from tenantrag.entrypoints.cli.exit_codes import ExitCode, for_code
from tenantrag.entrypoints.cli.runtime import scrub
from tenantrag.entrypoints.settings import SettingsError
from tests.cli.conftest import Cli, error_json


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (errors.NotFound, ExitCode.NOT_FOUND),
        (errors.PermissionDenied, ExitCode.PERMISSION_DENIED),
        (errors.Conflict, ExitCode.CONFLICT),
        (errors.InvalidTransition, ExitCode.CONFLICT),
        (errors.InvalidInput, ExitCode.INVALID_INPUT),
        (errors.AuthenticationFailed, ExitCode.AUTHENTICATION_FAILED),
        (errors.Unavailable, ExitCode.DATABASE),
        (SettingsError, ExitCode.INVALID_SETTINGS),
        (DatabaseUnavailable, ExitCode.DATABASE),
        (MigrationError, ExitCode.DATABASE),
        (SchemaDrift, ExitCode.DATABASE),
        (BackupError, ExitCode.DATABASE),
    ],
)
def test_every_error_code_has_its_exit_code(error: type[errors.TenantRagError], exit_code: ExitCode) -> None:
    assert for_code(error.code) is exit_code


def test_the_domain_errors_exit_codes_are_distinct_from_usage_and_bugs() -> None:
    domain_codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.TenantRagError)
    } - {"error"}
    mapped = {for_code(code) for code in domain_codes}
    assert ExitCode.UNEXPECTED not in mapped
    assert ExitCode.USAGE not in mapped
    assert for_code("something new") is ExitCode.UNEXPECTED


def test_errors_are_json_on_stderr_with_json(cli: Cli, database: Path) -> None:
    result = cli("search", "no-such-tenant", "x", "--json")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert json.loads(result.stderr) == {
        "error": {
            "code": "not_found",
            "message": "tenant no-such-tenant not found",
            "details": {"kind": "tenant"},
        }
    }
    text = cli("search", "no-such-tenant", "x")
    assert text.stderr == "error: tenant no-such-tenant not found\n"


def test_an_invalid_setting_stops_every_command_with_its_variable(cli: Cli, database: Path) -> None:
    result = cli("tenant", "list", env={"DB_POOL_SIZE": "many"})
    assert result.exit_code == 8
    assert result.stderr.startswith("error: invalid setting DB_POOL_SIZE (or DATABASE_POOL_SIZE): ")
    bad_url = cli("status", "--database-url", "oracle://scott:tiger@db/orcl", "--json")
    assert bad_url.exit_code == 8
    assert error_json(bad_url)["details"] == {"variables": ["DATABASE_URL"]}
    assert "tiger" not in bad_url.stderr


def test_commands_other_than_init_refuse_a_missing_database(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing.db'}"
    (tmp_path / "note.md").write_text("a note", encoding="utf-8")
    for command in (
        ["tenant", "list"],
        ["search", "demo-workspace", "x"],
        ["documents", "list", "demo-workspace"],
        ["user", "create", "a@example.com", "--no-password"],
        ["ingest", "demo-workspace", str(tmp_path / "note.md")],
    ):
        result = cli(*command, "--database-url", url)
        assert result.exit_code == 9, command
        assert "run `tenantrag init` to create it" in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_an_unreachable_postgres_never_shows_its_password(cli: Cli) -> None:
    pytest.importorskip("psycopg")
    url = "postgresql://app:hunter2secret@127.0.0.1:1/rag"
    status = cli("status", "--database-url", url, "--json", env={"DB_CONNECT_TIMEOUT": "1"})
    assert status.exit_code == 9
    assert json.loads(status.stdout)["reachable"] is False
    search = cli("search", "demo", "x", "--database-url", url, env={"DB_CONNECT_TIMEOUT": "1"})
    assert search.exit_code == 9
    for output in (status.stdout, status.stderr, search.stdout, search.stderr):
        assert "hunter2secret" not in output
    assert "app:***@127.0.0.1:1/rag" in status.stdout


def test_scrub_hides_passwords_in_any_url() -> None:
    assert scrub("cannot reach postgresql+psycopg://app:p%40ss@db:5432/rag?sslmode=require now") == (
        "cannot reach postgresql+psycopg://app:***@db:5432/rag?sslmode=require now"
    )
    assert scrub("no url here: a:b@c") == "no url here: a:b@c"
    assert scrub("sqlite:///./x.db") == "sqlite:///./x.db"


def test_help_lists_the_commands_and_the_exit_codes(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    commands = "init status demo seed ingest search backup restore reset serve db user tenant member apikey"
    for command in [*commands.split(), "documents", "dev"]:
        assert f" {command} " in result.stdout
    assert "9 database unavailable" in " ".join(result.stdout.split())
    assert cli("no-such-command").exit_code == 2
    assert cli().exit_code == 2  # no command: help, as a usage error
