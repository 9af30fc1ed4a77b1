"""``tenantrag tenant create | list | rename | delete``: founding tenants for their owners,
listing them all, renaming and deleting them."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantrag.domain.model.tenant import Tenant
from tenantrag.entrypoints.cli.db import require_yes
from tenantrag.entrypoints.cli.output import print_json, print_result, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
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


@app.command()
def rename(
    tenant: TenantArgument,
    name: Annotated[str, typer.Argument(help="The new display name (the slug stays: URLs use it).")],
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Give a tenant a new display name."""

    async def body() -> Tenant:
        async with open_rag(load_settings(database_url)) as rag:
            found = await rag.tenants.resolve(SYSTEM, tenant)
            return await rag.tenants.update(SYSTEM, found.id, name=name)

    renamed = execute(body, json_output=json)
    print_result(json, renamed, f"renamed tenant {renamed.slug} ({renamed.id}) to {renamed.name!r}")


@app.command()
def delete(
    tenant: TenantArgument,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: every document, member, key and log of it goes.")
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Delete a tenant and everything it holds (documents, originals, members, keys, logs)."""
    require_yes(yes, "it deletes the tenant and everything it holds")

    async def body() -> Tenant:
        async with open_rag(load_settings(database_url)) as rag:
            found = await rag.tenants.resolve(SYSTEM, tenant)
            await rag.tenants.delete(SYSTEM, found.id)
            return found

    deleted = execute(body, json_output=json)
    print_result(
        json, {"deleted": deleted.id, "slug": deleted.slug}, f"deleted tenant {deleted.slug} ({deleted.id})"
    )
