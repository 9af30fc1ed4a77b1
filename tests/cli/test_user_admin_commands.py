"""tenantrag user list | disable | enable | set-password | delete: operators' account commands."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli, error_json, output_json


def _users(cli: Cli) -> dict[str, dict[str, object]]:
    return {user["email"]: user for user in output_json(cli("user", "list", "--json"))}


def test_an_operator_disables_resets_and_deletes_an_account(cli: Cli, database: Path) -> None:
    cli("user", "create", "ada@example.com", "--password-stdin", input="first passphrase\n")
    assert _users(cli)["ada@example.com"]["is_active"] is True
    assert "password_hash" not in _users(cli)["ada@example.com"]

    assert output_json(cli("user", "disable", "ada@example.com", "--json"))["is_active"] is False
    assert _users(cli)["ada@example.com"]["is_active"] is False
    enabled = cli("user", "enable", "ada@example.com")
    assert enabled.exit_code == 0
    assert enabled.stdout.startswith("enabled ada@example.com")

    too_short = cli("user", "set-password", "ada@example.com", "--password-stdin", "--json", input="x\n")
    assert too_short.exit_code == 6
    assert error_json(too_short)["message"] == "new_password: must be at least 8 characters long"
    reset = cli("user", "set-password", "ada@example.com", "--password-stdin", input="second passphrase\n")
    assert reset.exit_code == 0, reset.output

    unconfirmed = cli("user", "delete", "ada@example.com")
    assert unconfirmed.exit_code == 2
    assert cli("user", "delete", "ada@example.com", "--yes").exit_code == 0
    assert "ada@example.com" not in _users(cli)


def test_a_new_account_needs_a_password_of_8_characters(cli: Cli, database: Path) -> None:
    weak = cli("user", "create", "weak@example.com", "--password-stdin", "--json", input="short\n")

    assert weak.exit_code == 6
    assert error_json(weak)["message"] == "password: must be at least 8 characters long"
    assert "weak@example.com" not in _users(cli)


def test_the_demo_owner_cannot_be_deleted_and_strangers_are_named(cli: Cli, database: Path) -> None:
    refused = cli("user", "delete", "demo@example.com", "--yes", "--json")
    assert refused.exit_code == 5
    assert "only owner" in error_json(refused)["message"]

    missing = cli("user", "disable", "nobody@example.com", "--json")
    assert missing.exit_code == 3
    assert "nobody@example.com" in error_json(missing)["message"]
