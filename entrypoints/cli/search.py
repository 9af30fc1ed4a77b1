"""``tenantrag search TENANT "QUERY"``: the top-k chunks of a tenant, as the HTTP API finds them."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import SearchFilter, SearchHit
from tenantrag.entrypoints.cli.output import print_json
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
    execute,
    load_settings,
    open_rag,
)

SNIPPET = 240


def search(
    *,
    tenant: TenantArgument,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="How many chunks (at most MAX_K).")] = 5,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Only documents with one of these tags (repeatable)."),
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Search a tenant's chunks by similarity to QUERY."""

    async def body() -> tuple[str, list[SearchHit], dict[uuid.UUID, str]]:
        settings = load_settings(database_url)
        if k > settings.max_k:
            raise InvalidInput("k", f"must be at most {settings.max_k} (MAX_K), got {k}")
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            query_filter = SearchFilter(tags_any=tag) if tag else None
            hits = list(await rag.search.search(SYSTEM, target.id, text=query, k=k, filter=query_filter))
            names = {}
            for document_id in {hit.document_id for hit in hits}:
                names[document_id] = (await rag.documents.get(SYSTEM, target.id, document_id)).filename
        return target.slug, hits, names

    slug, hits, names = execute(body, json_output=json)
    if json:
        print_json(
            [
                {"rank": rank, "score": hit.score, "filename": names[hit.document_id],
                 "document_id": hit.document_id, "chunk_id": hit.chunk_id, "ordinal": hit.ordinal,
                 "content": hit.content, "metadata": hit.metadata}
                for rank, hit in enumerate(hits, start=1)
            ]
        )  # fmt: skip
        return
    if not hits:
        typer.echo(f"no matches in {slug}")
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit.content.split())
        if len(snippet) > SNIPPET:
            snippet = snippet[: SNIPPET - 1] + "…"
        typer.echo(f"{rank}. {hit.score:.3f}  {names[hit.document_id]} #{hit.ordinal}\n   {snippet}")
