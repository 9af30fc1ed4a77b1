"""``tenantrag search TENANT "QUERY"``: a tenant's best chunks, as the HTTP API finds them.

``--mode`` is hybrid unless told otherwise (as the HTTP API's default for a text),
``--filter`` takes the filter language as JSON (``--tag`` still narrows by tags, ANDed with
it), and every search is recorded as a query log, as through the API.
"""

from __future__ import annotations

import json as jsonlib
import uuid
from typing import Annotated, Any

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import And, Filter, from_legacy
from tenantrag.domain.search import Fusion, SearchFilter, SearchHit, SearchMode
from tenantrag.domain.usecases.search import SearchOutcome
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
    query: Annotated[str, typer.Argument(help='What to look for (after "--" when it starts with "-").')],
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="How many chunks (at most MAX_K).")] = 5,
    mode: Annotated[
        SearchMode,
        typer.Option(
            "--mode",
            "-m",
            help='vector (cosine), text (full-text: words ANDed, "a phrase", -excluded, a or b),'
            " or hybrid (both, fused by reciprocal rank).",
        ),
    ] = SearchMode.HYBRID,
    filter_json: Annotated[
        str | None,
        typer.Option(
            "--filter",
            "-f",
            help='A filter as JSON, e.g. \'{"tags": {"$any": ["pets"]}, "metadata.year": {"$gte": 2020}}\'.',
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Only documents with one of these tags (repeatable)."),
    ] = None,
    rrf_k: Annotated[
        int | None, typer.Option("--rrf-k", min=1, help="Hybrid: RRF's k (default HYBRID_RRF_K).")
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Search a tenant's chunks for QUERY."""

    async def body() -> tuple[str, SearchOutcome, dict[uuid.UUID, str]]:
        settings = load_settings(database_url)
        if k > settings.max_k:
            raise InvalidInput("k", f"must be at most {settings.max_k} (MAX_K), got {k}")
        query_filter = _filter(filter_json, tag)
        fusion = None
        if rrf_k is not None:
            if mode is not SearchMode.HYBRID:
                raise InvalidInput("rrf_k", "applies to --mode hybrid only")
            fusion = Fusion(rrf_k=rrf_k)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            outcome = await rag.search.run(
                SYSTEM, target.id, text=query, k=k, filter=query_filter, mode=mode, fusion=fusion
            )
            names = {}
            for document_id in {hit.document_id for hit in outcome.hits}:
                names[document_id] = (await rag.documents.get(SYSTEM, target.id, document_id)).filename
        return target.slug, outcome, names

    slug, outcome, names = execute(body, json_output=json)
    hits: list[SearchHit] = list(outcome.hits)
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
    typer.echo(f"({outcome.mode} search, {outcome.latency_ms:.0f} ms, query log {outcome.query_log_id})")


def _filter(filter_json: str | None, tags: list[str] | None) -> SearchFilter | None:
    """The filter language from ``--filter``, ANDed with ``--tag`` (any of them)."""
    parts: list[Filter] = []
    if filter_json is not None:
        try:
            parsed: Any = jsonlib.loads(filter_json)
        except ValueError as error:
            raise InvalidInput("filter", f"is not valid JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise InvalidInput("filter", f"must be a JSON object, got {type(parsed).__name__}")
        found = SearchFilter.from_json(parsed).where
        parts += [] if found is None else [found]
    tagged = from_legacy({"tags_any": tags}) if tags else None
    parts += [] if tagged is None else [tagged]
    if filter_json is None and not parts:
        return None
    return SearchFilter(where=And(tuple(parts)) if len(parts) != 1 else parts[0])
