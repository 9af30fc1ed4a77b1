"""``tenantrag user create EMAIL``: accounts, with the password never on the command line.

A password given as an argument would sit in the shell history and in ``ps`` output, so
it is read from a hidden prompt on a terminal or from the first line of stdin with
``--password-stdin`` (``printf '%s\\n' "$PASSWORD" | tenantrag user create ...``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.user import User
from tenantrag.entrypoints.cli.output import print_json
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, execute, guarded, load_settings, open_rag

app = typer.Typer(help="User accounts.", no_args_is_help=True)


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
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
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
