"""``tenantrag member add|list|set-role|remove``: who belongs to a tenant, with which role.

USER is an email or a user id. The domain's rules still hold for the CLI (it acts as an
owner): a tenant keeps at least one active owner, so demoting or removing the last one is
refused as a conflict.
"""

from __future__ import annotations

from typing import Annotated

import attrs
import typer

from tenantrag.domain.model.membership import Membership
from tenantrag.domain.policy import Role
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

app = typer.Typer(help="Members of a tenant and their roles.", no_args_is_help=True)

User = Annotated[str, typer.Argument(help="The user's email or id.")]


@attrs.frozen
class Member:
    email: str
    membership: Membership


def _print(member: Member, verb: str, *, json_output: bool) -> None:
    if json_output:
        print_json({"email": member.email, **attrs.asdict(member.membership, recurse=False)})
    else:
        typer.echo(f"{verb} {member.email} as {member.membership.role.value}")


@app.command()
def add(
    tenant: TenantArgument,
    user: User,
    role: Annotated[Role, typer.Option("--role", help="The new member's role.")] = Role.MEMBER,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Add an existing user to a tenant."""

    async def body() -> Member:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            found = await find_user(rag, user)
            return Member(found.email, await rag.members.add(SYSTEM, target.id, user_id=found.id, role=role))

    _print(execute(body, json_output=json), "added", json_output=json)


@app.command("list")
def list_members(tenant: TenantArgument, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """List a tenant's members."""

    async def body() -> list[Member]:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            memberships = await all_pages(
                lambda page: rag.members.list(SYSTEM, target.id, page), settings.max_page_size
            )
            return [Member((await rag.users.get(m.user_id)).email, m) for m in memberships]

    members = execute(body, json_output=json)
    if json:
        print_json([{"email": m.email, **attrs.asdict(m.membership, recurse=False)} for m in members])
        return
    print_table(
        ["email", "role", "active", "user_id", "since"],
        [(m.email, m.membership.role, m.membership.is_active, m.membership.user_id, m.membership.created_at)
         for m in members],
    )  # fmt: skip


@app.command("set-role")
def set_role(
    tenant: TenantArgument,
    user: User,
    role: Annotated[Role, typer.Argument(help="The new role.")],
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Change a member's role."""

    async def body() -> Member:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            found = await find_user(rag, user)
            return Member(found.email, await rag.members.change_role(SYSTEM, target.id, found.id, role))

    _print(execute(body, json_output=json), "made", json_output=json)


@app.command()
def remove(tenant: TenantArgument, user: User, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Remove a member from a tenant (the user account stays)."""

    async def body() -> str:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            found = await find_user(rag, user)
            await rag.members.remove(SYSTEM, target.id, found.id)
            return found.email

    email = execute(body, json_output=json)
    if json:
        print_json({"email": email, "removed": True})
    else:
        typer.echo(f"removed {email}")
