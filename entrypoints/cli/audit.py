"""``tenantrag audit list TENANT``: a tenant's audit log, as an operator reads it.

What is recorded and why it is append-only: domain/usecases/audit.py. Filters match the
HTTP API's (``GET /v1/tenants/{tenant}/audit-log``); entries come oldest first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import attrs
import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.audit_entry import AuditAction, AuditEntry, Outcome
from tenantrag.domain.usecases.audit import audit_filter
from tenantrag.entrypoints.cli.output import print_json, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
    all_pages,
    execute,
    load_settings,
    open_rag,
)

app = typer.Typer(help="The audit log of a tenant's sensitive operations.", no_args_is_help=True)

Time = Annotated[str | None, typer.Option(help="An ISO 8601 time with a zone, e.g. 2026-12-08T00:00:00Z.")]


def _time(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"must be an ISO 8601 time, got {value!r:.40}") from None


def _row(entry: AuditEntry) -> dict[str, Any]:
    return attrs.asdict(entry, recurse=False)


@app.command("list")
def list_entries(  # noqa: PLR0917 - typer reads the options from the parameters
    tenant: TenantArgument,
    action: Annotated[AuditAction | None, typer.Option(help="Only this action.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this user's or API key's id.")] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only succeeded or refused operations.")] = None,
    since: Time = None,
    until: Time = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """A tenant's audit log, oldest first: who did what to which target, when, and the outcome."""

    async def body() -> list[AuditEntry]:
        where = audit_filter(
            action=action, actor_id=actor, outcome=outcome,
            since=_time("since", since), until=_time("until", until),
        )  # fmt: skip
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            return await all_pages(
                lambda page: rag.audit.list(SYSTEM, target.id, page, where), settings.max_page_size
            )

    entries = execute(body, json_output=json)
    if json:
        print_json([_row(e) for e in entries])
        return
    print_table(
        ["created_at", "action", "actor", "target", "outcome"],
        [
            (e.created_at, e.action, f"{e.actor_kind} {e.actor_id or ''}".strip(),
             f"{e.target_kind} {e.target_id or ''}".strip(), e.outcome)
            for e in entries
        ],
    )  # fmt: skip
