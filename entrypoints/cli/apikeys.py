"""``tenantrag apikey create|list|revoke``: keys that act as one user in one tenant.

A key acts as its user, never above its role cap nor above the user's own role, so
``create`` issues it as that user (who must be a member). The key's secret (``trk_...``) is
printed once, alone on stdout so that scripts can capture it (``secret`` with ``--json``, as
over HTTP); only its hash is stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import attrs
import typer

from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.api_key import KEY_MARKER, ApiKey
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.api_keys import IssuedKey
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.cli.output import print_json, print_table
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

app = typer.Typer(help="API keys of a tenant.", no_args_is_help=True)


@app.command()
def create(
    *,
    tenant: TenantArgument,
    user: Annotated[str, typer.Option("--user", help="The member the key acts as (email or id).")],
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    role_cap: Annotated[Role, typer.Option("--role-cap", help="The most the key may do.")] = Role.MEMBER,
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", min=1, help="Expire after this many days.")
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Issue a key; its secret is shown this once."""

    async def body() -> tuple[str, IssuedKey]:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            found = await find_user(rag, user)
            try:
                await rag.members.get(SYSTEM, target.id, found.id)
            except NotFound:
                raise NotFound("member", f"{found.email} of {target.slug}") from None
            expires = None if expires_in_days is None else datetime.now(UTC) + timedelta(days=expires_in_days)
            actor = Principal.user(found.id, is_superuser=found.is_superuser)
            issued = await rag.api_keys.issue(
                actor, target.id, name=name, role_cap=role_cap, expires_at=expires
            )
            return found.email, issued

    email, issued = execute(body, json_output=json)
    if json:
        # "secret": the key itself, under the name the HTTP API gives it too.
        print_json({"key": issued.key, "user_email": email, "secret": issued.plaintext})
        return
    key = issued.key
    typer.echo(
        f"created API key {key.name!r} ({key.id}) for {email}, capped at {key.role_cap.value}", err=True
    )
    typer.echo("the key is shown this once; store it now:", err=True)
    typer.echo(issued.plaintext)


@app.command("list")
def list_keys(tenant: TenantArgument, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """List a tenant's keys (never their secrets)."""

    async def body() -> list[tuple[str, ApiKey]]:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            keys = await all_pages(
                lambda page: rag.api_keys.list(SYSTEM, target.id, page), settings.max_page_size
            )
            emails = {user_id: (await rag.users.get(user_id)).email for user_id in {k.user_id for k in keys}}
            return [(emails[k.user_id], k) for k in keys]

    keys = execute(body, json_output=json)
    if json:
        print_json([{"user_email": email, **attrs.asdict(key, recurse=False)} for email, key in keys])
        return
    print_table(
        ["id", "prefix", "name", "user", "role_cap", "created", "last_used", "expires", "revoked"],
        [(k.id, k.prefix, k.name, email, k.role_cap, k.created_at, k.last_used_at, k.expires_at, k.revoked_at)
         for email, k in keys],
        empty="no API keys",
    )  # fmt: skip


@app.command()
def revoke(
    tenant: TenantArgument,
    key: Annotated[str, typer.Argument(help="The key's id, its prefix, or the key itself.")],
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Revoke a key at once (revoking twice is harmless)."""

    async def body() -> ApiKey:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            key_id = await _key_id(rag, target.id, key, settings.max_page_size)
            return await rag.api_keys.revoke(SYSTEM, target.id, key_id)

    revoked = execute(body, json_output=json)
    if json:
        print_json(revoked)
    else:
        typer.echo(f"revoked API key {revoked.name!r} ({revoked.id})")


async def _key_id(rag: TenantRag, tenant_id: uuid.UUID, ref: str, page_size: int) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    # trk_<prefix>_<secret>: the prefix is public; the secret is not needed to find the key.
    prefix = ref.split("_")[1] if ref.startswith(f"{KEY_MARKER}_") else ref
    keys = await all_pages(lambda page: rag.api_keys.list(SYSTEM, tenant_id, page), page_size)
    for candidate in keys:
        if candidate.prefix == prefix:
            return candidate.id
    raise NotFound("api key", prefix)
