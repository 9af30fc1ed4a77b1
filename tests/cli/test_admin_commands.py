"""user create, tenant create|list, member add|list|set-role|remove, apikey create|list|revoke."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tenantrag.domain.errors import AuthenticationFailed
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings
from tests.cli.conftest import Cli, error_json, output_json


def authenticate(email: str, password: str) -> bool:
    async def check() -> bool:
        async with running(container_for(Settings(_env_file=None))) as rag:
            try:
                await rag.users.authenticate(email=email, password=password)
            except AuthenticationFailed:
                return False
            return True

    return asyncio.run(check())


def verify_key(plaintext: str) -> Principal:
    async def check() -> Principal:
        async with running(container_for(Settings(_env_file=None))) as rag:
            return await rag.api_keys.verify(plaintext)

    return asyncio.run(check())


def test_user_create_reads_the_password_from_stdin(cli: Cli, database: Path) -> None:
    created = output_json(
        cli(
            "user",
            "create",
            "Ada@Example.com",
            "--name",
            "Ada",
            "--password-stdin",
            "--json",
            input="hunter2!\n",
        )
    )
    assert created["email"] == "ada@example.com"
    assert created["full_name"] == "Ada"
    assert created["is_superuser"] is False
    assert "password_hash" not in created
    assert authenticate("ada@example.com", "hunter2!")

    text = cli("user", "create", "root@example.com", "--superuser", "--no-password")
    assert text.stdout.startswith("created superuser root@example.com (")


def test_user_create_refusals(cli: Cli, database: Path) -> None:
    assert cli("user", "create", "demo@example.com", "--no-password").exit_code == 5  # exists
    bad_email = cli("user", "create", "not-an-email", "--no-password", "--json")
    assert bad_email.exit_code == 6
    assert error_json(bad_email)["details"] == {"field": "email"}
    assert cli("user", "create", "x@example.com", "--password-stdin", input="\n").exit_code == 6
    # No terminal to prompt on, and no other source named: a usage error, nothing created.
    assert cli("user", "create", "x@example.com").exit_code == 2
    assert cli("user", "create", "x@example.com", "--password-stdin", "--no-password").exit_code == 2
    assert cli("user", "create").exit_code == 2


def test_tenant_create_and_list(cli: Cli, database: Path) -> None:
    created_owner_id = output_json(cli("user", "create", "owner@example.com", "--no-password", "--json"))[
        "id"
    ]
    tenant = output_json(cli("tenant", "create", "Acme Research", "--owner", "owner@example.com", "--json"))
    assert tenant["slug"] == "acme-research"
    by_id = output_json(
        cli("tenant", "create", "Other", "--slug", "other-co", "--owner", created_owner_id, "--json")
    )
    assert by_id["slug"] == "other-co"

    listed = output_json(cli("tenant", "list", "--json"))
    assert [t["slug"] for t in listed] == ["demo-workspace", "acme-research", "other-co"]
    lines = cli("tenant", "list").stdout.splitlines()
    assert lines[0].split() == ["slug", "name", "id", "created"]
    assert lines[2].split()[:3] == ["acme-research", "Acme", "Research"]


def test_tenant_create_refusals(cli: Cli, database: Path) -> None:
    assert cli("tenant", "create", "X", "--owner", "nobody@example.com").exit_code == 3
    assert cli("tenant", "create", "Demo Workspace", "--owner", "demo@example.com").exit_code == 5
    assert cli("tenant", "create", "X", "--slug", "Not A Slug", "--owner", "demo@example.com").exit_code == 6
    assert cli("tenant", "create", "X").exit_code == 2  # --owner is required


def test_members_are_added_listed_changed_and_removed(cli: Cli, database: Path) -> None:
    cli("user", "create", "bob@example.com", "--no-password")
    added = output_json(
        cli("member", "add", "demo-workspace", "bob@example.com", "--role", "viewer", "--json")
    )
    assert (added["email"], added["role"], added["is_active"]) == ("bob@example.com", "viewer", True)

    members = output_json(cli("member", "list", "demo-workspace", "--json"))
    assert {(m["email"], m["role"]) for m in members} == {
        ("demo@example.com", "owner"),
        ("bob@example.com", "viewer"),
    }

    assert cli("member", "set-role", "demo-workspace", added["user_id"], "admin").stdout.strip() == (
        "made bob@example.com as admin"
    )
    assert "bob@example.com   admin" in cli("member", "list", "demo-workspace").stdout
    assert (
        cli("member", "remove", "demo-workspace", "bob@example.com").stdout.strip()
        == "removed bob@example.com"
    )
    assert len(output_json(cli("member", "list", "demo-workspace", "--json"))) == 1


def test_member_refusals(cli: Cli, database: Path) -> None:
    last_owner = cli("member", "set-role", "demo-workspace", "demo@example.com", "member", "--json")
    assert last_owner.exit_code == 5
    assert "at least one active owner" in error_json(last_owner)["message"]
    assert cli("member", "remove", "demo-workspace", "demo@example.com").exit_code == 5
    assert cli("member", "add", "demo-workspace", "demo@example.com").exit_code == 5  # already a member
    assert cli("member", "add", "no-such-tenant", "demo@example.com").exit_code == 3
    assert cli("member", "add", "demo-workspace", "nobody@example.com").exit_code == 3
    assert cli("member", "add", "demo-workspace", "demo@example.com", "--role", "emperor").exit_code == 2
    assert cli("member", "list").exit_code == 2


def test_api_keys_are_issued_listed_and_revoked(cli: Cli, database: Path) -> None:
    issued = output_json(
        cli("apikey", "create", "demo-workspace", "--user", "demo@example.com", "--name", "ci",
            "--role-cap", "viewer", "--expires-in-days", "7", "--json")
    )  # fmt: skip
    plaintext = issued["secret"]
    assert plaintext.startswith("trk_")
    assert issued["key"]["role_cap"] == "viewer"
    assert "secret_hash" not in issued["key"]
    principal = verify_key(plaintext)
    assert principal.role_cap is not None
    assert principal.role_cap.value == "viewer"

    text = cli("apikey", "create", "demo-workspace", "--user", "demo@example.com", "--name", "other")
    assert text.stdout.strip().startswith("trk_")  # alone on stdout, for scripts
    assert "shown this once" in text.stderr

    listed = output_json(cli("apikey", "list", "demo-workspace", "--json"))
    assert [k["name"] for k in listed] == ["ci", "other"]
    assert all("secret_hash" not in k and k["user_email"] == "demo@example.com" for k in listed)
    assert plaintext not in cli("apikey", "list", "demo-workspace").stdout

    prefix = listed[0]["prefix"]
    revoked = output_json(cli("apikey", "revoke", "demo-workspace", prefix, "--json"))
    assert revoked["revoked_at"] is not None
    with pytest.raises(AuthenticationFailed):
        verify_key(plaintext)
    assert cli("apikey", "revoke", "demo-workspace", listed[1]["id"]).exit_code == 0
    assert (
        cli("apikey", "revoke", "demo-workspace", plaintext).exit_code == 0
    )  # the key itself, again: harmless


def test_api_key_refusals(cli: Cli, database: Path) -> None:
    cli("user", "create", "outsider@example.com", "--no-password")
    not_member = cli("apikey", "create", "demo-workspace", "--user", "outsider@example.com", "--name", "x")
    assert not_member.exit_code == 3
    assert "member outsider@example.com of demo-workspace not found" in not_member.stderr

    cli("member", "add", "demo-workspace", "outsider@example.com", "--role", "viewer")
    above_role = cli(
        "apikey",
        "create",
        "demo-workspace",
        "--user",
        "outsider@example.com",
        "--name",
        "x",
        "--role-cap",
        "viewer",
    )
    assert above_role.exit_code == 4  # viewers may not manage keys at all
    assert cli("apikey", "revoke", "demo-workspace", "zzzzzzzzzzzz").exit_code == 3
    assert cli("apikey", "create", "demo-workspace", "--name", "x").exit_code == 2  # --user is required
    assert (
        cli(
            "apikey",
            "create",
            "demo-workspace",
            "--user",
            "demo@example.com",
            "--name",
            "x",
            "--expires-in-days",
            "0",
        ).exit_code
        == 2
    )
