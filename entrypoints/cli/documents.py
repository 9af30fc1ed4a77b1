"""``tenantrag documents list TENANT``: a tenant's documents and their ingestion status."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.entrypoints.cli.output import print_json, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
    execute,
    load_settings,
    open_rag,
)

app = typer.Typer(help="A tenant's documents.", no_args_is_help=True)


@app.command("list")
def list_documents(
    *,
    tenant: TenantArgument,
    status: Annotated[
        DocumentStatus | None, typer.Option("--status", help="Only documents in this state.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only documents with this tag.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many (oldest first).")
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """List documents, oldest first."""

    async def body() -> list[Document]:
        settings = load_settings(database_url)
        found: list[Document] = []
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            cursor: str | None = None
            while limit is None or len(found) < limit:
                size = (
                    settings.max_page_size
                    if limit is None
                    else min(settings.max_page_size, limit - len(found))
                )
                page = await rag.documents.list(
                    SYSTEM, target.id, PageRequest(limit=size, after=cursor), status=status, tag=tag
                )
                found.extend(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
        return found

    documents = execute(body, json_output=json)
    if json:
        print_json(documents)
        return
    print_table(
        ["id", "status", "chunks", "filename", "tags", "created"],
        [(d.id, d.status, d.chunk_count, d.filename, d.tags, d.created_at) for d in documents],
        empty="no documents",
    )
