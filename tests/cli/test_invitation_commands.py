"""invitation create|list|revoke|received|accept|decline (issue 17): joining a tenant by accepting."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli, output_json


def test_an_invitation_is_created_received_and_accepted(cli: Cli, database: Path) -> None:
    cli("user", "create", "bob@example.com", "--no-password")
    invited = output_json(
        cli("invitation", "create", "demo-workspace", "Bob@example.com", "--role", "viewer", "--json")
    )
    assert (invited["email"], invited["role"]) == ("bob@example.com", "viewer")
    # Invited, not a member yet.
    members = output_json(cli("member", "list", "demo-workspace", "--json"))
    assert "bob@example.com" not in [m["email"] for m in members]
    listed = output_json(cli("invitation", "list", "demo-workspace", "--json"))
    assert [i["id"] for i in listed] == [invited["id"]]
    received = output_json(cli("invitation", "received", "--user", "bob@example.com", "--json"))
    assert [(i["id"], i["tenant_slug"]) for i in received] == [(invited["id"], "demo-workspace")]
    joined = output_json(cli("invitation", "accept", invited["id"], "--user", "bob@example.com", "--json"))
    assert (joined["email"], joined["role"]) == ("bob@example.com", "viewer")
    members = output_json(cli("member", "list", "demo-workspace", "--json"))
    assert ("bob@example.com", "viewer") in [(m["email"], m["role"]) for m in members]
    assert output_json(cli("invitation", "list", "demo-workspace", "--json")) == []


def test_an_address_without_an_account_is_invited_alike(cli: Cli, database: Path) -> None:
    result = cli("invitation", "create", "demo-workspace", "stranger@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("invited stranger@example.com as member: ")


def test_declined_and_revoked_invitations_are_gone(cli: Cli, database: Path) -> None:
    cli("user", "create", "carol@example.com", "--no-password")
    first = output_json(cli("invitation", "create", "demo-workspace", "carol@example.com", "--json"))
    assert cli("invitation", "decline", first["id"], "--user", "carol@example.com").exit_code == 0
    assert cli("invitation", "accept", first["id"], "--user", "carol@example.com").exit_code == 3  # not found
    second = output_json(cli("invitation", "create", "demo-workspace", "carol@example.com", "--json"))
    assert (
        cli("invitation", "revoke", "demo-workspace", second["id"]).stdout.strip()
        == f"revoked {second['id']}"
    )
    assert output_json(cli("invitation", "received", "--user", "carol@example.com", "--json")) == []
    # Only the invited user can answer.
    third = output_json(cli("invitation", "create", "demo-workspace", "carol@example.com", "--json"))
    assert cli("invitation", "accept", third["id"], "--user", "demo@example.com").exit_code == 3
