"""``tenantrag invitation create|list|revoke|received|accept|decline``: joining a tenant by invitation.

An operator invites an email address to a tenant (as the system, so any role); the user
with that address accepts or declines, here on their behalf (``--user``) or over HTTP
(``/v1/me/invitations``). ``tenantrag member add`` stays the operators' direct way in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import attrs
import typer

from tenantrag.domain.model.invitation import Invitation
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.invitations import ReceivedInvitation
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

app = typer.Typer(
    help="Invitations to join a tenant: create, list, revoke, accept, decline.", no_args_is_help=True
)

InvitationId = Annotated[str, typer.Argument(help="The invitation's id.")]
Invitee = Annotated[str, typer.Option("--user", help="The invited user's email or id, answering.")]


def _row(invitation: Invitation) -> dict[str, Any]:
    return attrs.asdict(invitation, recurse=False)


def _table(invitations: Sequence[Invitation], tenants: Sequence[str] | None = None) -> None:
    headers = ["id", "email", "role", "expires_at"] + (["tenant"] if tenants is not None else [])
    rows = [
        (i.id, i.email, i.role, i.expires_at) + ((tenants[n],) if tenants is not None else ())
        for n, i in enumerate(invitations)
    ]
    print_table(headers, rows)


@app.command()
def create(
    tenant: TenantArgument,
    email: Annotated[str, typer.Argument(help="The address to invite.")],
    role: Annotated[Role, typer.Option("--role", help="The role on accepting.")] = Role.MEMBER,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Invite an email address to a tenant (inviting it again renews the invitation)."""

    async def body() -> Invitation:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            return await rag.invitations.invite(SYSTEM, target.id, email=email, role=role)

    invitation = execute(body, json_output=json)
    if json:
        print_json(_row(invitation))
    else:
        typer.echo(f"invited {invitation.email} as {invitation.role.value}: {invitation.id}")


@app.command("list")
def list_invitations(tenant: TenantArgument, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """A tenant's pending invitations."""

    async def body() -> list[Invitation]:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            return await all_pages(
                lambda page: rag.invitations.list(SYSTEM, target.id, page), settings.max_page_size
            )

    invitations = execute(body, json_output=json)
    if json:
        print_json([_row(i) for i in invitations])
    else:
        _table(invitations)


@app.command()
def revoke(
    tenant: TenantArgument, invitation: InvitationId, database_url: DatabaseUrl = None, json: Json = False
) -> None:
    """Withdraw an invitation."""

    async def body() -> None:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            await rag.invitations.revoke(SYSTEM, target.id, invitation)

    execute(body, json_output=json)
    if json:
        print_json({"id": invitation, "revoked": True})
    else:
        typer.echo(f"revoked {invitation}")


@app.command()
def received(user: Invitee, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """The invitations addressed to a user."""

    async def body() -> Sequence[ReceivedInvitation]:
        async with open_rag(load_settings(database_url)) as rag:
            found = await find_user(rag, user)
            return await rag.invitations.received(Principal.user(found.id))

    items = execute(body, json_output=json)
    if json:
        print_json([{**_row(i.invitation), "tenant_slug": i.tenant.slug} for i in items])
    else:
        _table([i.invitation for i in items], [i.tenant.slug for i in items])


@app.command()
def accept(
    invitation: InvitationId, user: Invitee, database_url: DatabaseUrl = None, json: Json = False
) -> None:
    """Accept an invitation for the invited user: they become a member."""

    async def body() -> tuple[str, Any]:
        async with open_rag(load_settings(database_url)) as rag:
            found = await find_user(rag, user)
            return found.email, await rag.invitations.accept(Principal.user(found.id), invitation)

    email, membership = execute(body, json_output=json)
    if json:
        print_json({"email": email, **attrs.asdict(membership, recurse=False)})
    else:
        typer.echo(f"{email} joined as {membership.role.value}")


@app.command()
def decline(
    invitation: InvitationId, user: Invitee, database_url: DatabaseUrl = None, json: Json = False
) -> None:
    """Decline an invitation for the invited user."""

    async def body() -> None:
        async with open_rag(load_settings(database_url)) as rag:
            found = await find_user(rag, user)
            await rag.invitations.decline(Principal.user(found.id), invitation)

    execute(body, json_output=json)
    if json:
        print_json({"id": invitation, "declined": True})
    else:
        typer.echo(f"declined {invitation}")
