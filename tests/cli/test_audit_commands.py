"""``audit list TENANT`` (issue 17): an operator reads a tenant's log, filtered."""

from __future__ import annotations

from pathlib import Path

from tenantrag.entrypoints.cli.exit_codes import ExitCode
from tests.cli.conftest import Cli, output_json


def test_the_log_lists_what_operators_did_filtered(cli: Cli, database: Path) -> None:
    invited = output_json(cli("invitation", "create", "demo-workspace", "dave@example.com", "--json"))
    assert cli("invitation", "revoke", "demo-workspace", invited["id"]).exit_code == 0
    entries = output_json(cli("audit", "list", "demo-workspace", "--json"))
    last_two = [(e["action"], e["target_id"], e["actor_kind"], e["outcome"]) for e in entries[-2:]]
    assert last_two == [
        ("invitation.create", invited["id"], "system", "succeeded"),
        ("invitation.revoke", invited["id"], "system", "succeeded"),
    ]
    revoked = output_json(cli("audit", "list", "demo-workspace", "--action", "invitation.revoke", "--json"))
    assert [e["details"] for e in revoked] == [{"email": "dave@example.com", "role": "member"}]
    later = output_json(cli("audit", "list", "demo-workspace", "--since", "2999-01-01T00:00:00Z", "--json"))
    assert later == []
    table = cli("audit", "list", "demo-workspace", "--outcome", "succeeded")
    assert table.exit_code == 0, table.output
    assert "invitation.revoke" in table.stdout


def test_bad_filters_are_refused_naming_them(cli: Cli, database: Path) -> None:
    naive = cli("audit", "list", "demo-workspace", "--since", "2026-01-01T00:00:00")
    assert naive.exit_code == ExitCode.INVALID_INPUT
    assert "since" in naive.output
    garbled = cli("audit", "list", "demo-workspace", "--until", "yesterday")
    assert garbled.exit_code == ExitCode.INVALID_INPUT
    assert "until" in garbled.output
    assert cli("audit", "list", "demo-workspace", "--action", "tenant.explode").exit_code != 0
    assert cli("audit", "list", "no-such-tenant").exit_code == 3  # not found
