"""``tenantrag tenant create|list``: founding tenants for their owners, and listing them all."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantrag.domain.model.tenant import Tenant
from tenantrag.entrypoints.cli.output import print_json, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    all_pages,
    execute,
    find_user,
    load_settings,
    open_rag,
)

app = typer.Typer(help="Tenants (workspaces).", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Display name.")],
    owner: Annotated[str, typer.Option("--owner", help="The owner's email or id (an existing user).")],
    slug: Annotated[str | None, typer.Option("--slug", help="URL name (default: from NAME).")] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Create a tenant owned by an existing user."""

    async def body() -> Tenant:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            user = await find_user(rag, owner)
            return await rag.tenants.create(SYSTEM, name=name, slug=slug, owner_id=user.id)

    tenant = execute(body, json_output=json)
    if json:
        print_json(tenant)
    else:
        typer.echo(f"created tenant {tenant.slug} ({tenant.id}) owned by {owner}")


@app.command("list")
def list_tenants(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """List every tenant, oldest first."""

    async def body() -> list[Tenant]:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            return await all_pages(lambda page: rag.tenants.list_all(SYSTEM, page), settings.max_page_size)

    tenants = execute(body, json_output=json)
    if json:
        print_json(tenants)
    else:
        print_table(
            ["slug", "name", "id", "created"],
            [(t.slug, t.name, t.id, t.created_at) for t in tenants],
            empty="no tenants",
        )
