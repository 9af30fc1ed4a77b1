"""``tenantrag user create | list | disable | enable | set-password | delete``: accounts,
with the password never on the command line.

A password given as an argument would sit in the shell history and in ``ps`` output, so
it is read from a hidden prompt on a terminal or from the first line of stdin with
``--password-stdin`` (``printf '%s\\n' "$PASSWORD" | tenantrag user create ...``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.user import User, check_new_password
from tenantrag.entrypoints.cli.db import require_yes
from tenantrag.entrypoints.cli.output import print_json, print_result, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    all_pages,
    execute,
    guarded,
    load_settings,
    open_rag,
)

app = typer.Typer(help="User accounts.", no_args_is_help=True)

UserArgument = Annotated[str, typer.Argument(help="The user's email or id.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


def read_password(*, from_stdin: bool, none: bool) -> str | None:
    if none:
        return None
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("password", "stdin gave an empty password")
        return password
    if not sys.stdin.isatty():
        raise typer.BadParameter(
            "stdin is not a terminal: give --password-stdin, or --no-password", param_hint="--password-stdin"
        )
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


@app.command()
def create(
    *,
    email: Annotated[str, typer.Argument(help="The login.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    superuser: Annotated[bool, typer.Option("--superuser", help="May see and manage every tenant.")] = False,
    password_stdin: PasswordStdin = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No password: the user acts through API keys only.")
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Create a user (prompting for the password on a terminal)."""
    if password_stdin and no_password:
        raise typer.BadParameter("excludes --no-password", param_hint="--password-stdin")
    with guarded(json_output=json):
        password = read_password(from_stdin=password_stdin, none=no_password)
        if password is not None:
            check_new_password("password", password)  # the rule every interface applies

    async def body() -> User:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            return await rag.users.register(
                email=email, password=password, full_name=name, is_superuser=superuser
            )

    user = execute(body, json_output=json)
    if json:
        print_json(user)
    else:
        kind = "superuser" if user.is_superuser else "user"
        typer.echo(f"created {kind} {user.email} ({user.id})")


@app.command("list")
def list_users(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """List every account, oldest first."""

    async def body() -> list[User]:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            return await all_pages(lambda page: rag.accounts.list(SYSTEM, page), settings.max_page_size)

    users = execute(body, json_output=json)
    if json:
        print_json(users)
    else:
        print_table(
            ["email", "name", "id", "active", "superuser", "password", "last login"],
            [
                (
                    u.email,
                    u.full_name,
                    u.id,
                    u.is_active,
                    u.is_superuser,
                    u.password_hash is not None,
                    u.last_login_at,
                )
                for u in users
            ],
            empty="no users",
        )


def _set_active(user: str, database_url: str | None, json: bool, *, active: bool) -> None:
    async def body() -> User:
        async with open_rag(load_settings(database_url)) as rag:
            return await rag.accounts.set_active(SYSTEM, user, active=active)

    found = execute(body, json_output=json)
    print_result(json, found, f"{'enabled' if active else 'disabled'} {found.email} ({found.id})")


@app.command()
def disable(user: UserArgument, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Disable an account: no login, its API keys stop working; memberships and data stay."""
    _set_active(user, database_url, json, active=False)


@app.command()
def enable(user: UserArgument, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Enable a disabled account again."""
    _set_active(user, database_url, json, active=True)


@app.command("set-password")
def set_password(
    user: UserArgument,
    password_stdin: PasswordStdin = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Reset a user's password (prompting on a terminal; at least 8 characters)."""
    with guarded(json_output=json):
        password = read_password(from_stdin=password_stdin, none=False)

    async def body() -> User:
        async with open_rag(load_settings(database_url)) as rag:
            return await rag.accounts.reset_password(SYSTEM, user, new_password=password or "")

    found = execute(body, json_output=json)
    print_result(json, found, f"set a new password for {found.email} ({found.id})")


@app.command()
def delete(
    user: UserArgument,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the account, its memberships and keys go.")
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Delete an account with its memberships, API keys and chats (refused while it is a
    tenant's only owner); the documents it uploaded stay."""
    require_yes(yes, "it deletes the account, its memberships and API keys")

    async def body() -> User:
        async with open_rag(load_settings(database_url)) as rag:
            return await rag.accounts.delete(SYSTEM, user)

    found = execute(body, json_output=json)
    print_result(json, found, f"deleted {found.email} ({found.id})")
