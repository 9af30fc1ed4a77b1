"""``tenantrag search TENANT "QUERY"``: a tenant's best documents (or chunks), as the HTTP
API finds them.

``--mode`` is hybrid unless told otherwise (as the HTTP API's default for a text),
``--match`` reads the query as natural language (``any``, the default) or the precise syntax
(``websearch``), ``--filter`` takes the filter language as JSON (``--tag`` still narrows by
tags, ANDed with it), and every search is recorded as a query log, as through the API.

``--group`` is ``documents`` by default here (the API's is ``chunks``): a person reading a
top 5 wants five documents, each shown at its best chunk, not one document three times.
An empty answer says why on stderr (with ``--json``, as a JSON object there; stdout stays
the list of results).
"""

from __future__ import annotations

import json as jsonlib
import uuid
from typing import Annotated, Any, NamedTuple

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import And, Filter, from_legacy
from tenantrag.domain.fusion import Fusion, FusionMethod
from tenantrag.domain.grouping import ResultUnit
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import EmptyReason, SearchFilter, SearchHit, SearchMode, TextMatch
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
    k: Annotated[
        int, typer.Option("-k", "--k", min=1, help="How many documents, or chunks (at most MAX_K).")
    ] = 5,
    mode: Annotated[
        SearchMode,
        typer.Option(
            "--mode",
            "-m",
            help="vector (cosine), text (full-text relevance), or hybrid (both, fused by reciprocal rank).",
        ),
    ] = SearchMode.HYBRID,
    match: Annotated[
        TextMatch,
        typer.Option(
            "--match",
            help="any: natural language (a chunk with any of the words matches);"
            ' websearch: words ANDed, "a phrase", -excluded, a or b.',
        ),
    ] = TextMatch.ANY,
    group: Annotated[
        ResultUnit,
        typer.Option(
            "--group",
            "-g",
            help="documents: k documents, each at its best chunk (hybrid fused per document);"
            " chunks: k chunks.",
        ),
    ] = ResultUnit.DOCUMENTS,
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
    fusion_method: Annotated[
        FusionMethod | None,
        typer.Option("--fusion", help="Hybrid: relative_score or rrf (default HYBRID_FUSION)."),
    ] = None,
    rrf_k: Annotated[
        int | None, typer.Option("--rrf-k", min=1, help="Hybrid: RRF's k (default HYBRID_RRF_K).")
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Search a tenant's chunks for QUERY."""

    async def body() -> tuple[str, SearchOutcome, dict[uuid.UUID, Document]]:
        settings = load_settings(database_url)
        if k > settings.max_k:
            raise InvalidInput("k", f"must be at most {settings.max_k} (MAX_K), got {k}")
        query_filter = _filter(filter_json, tag)
        fusion = None
        if rrf_k is not None or fusion_method is not None:
            if mode is not SearchMode.HYBRID:
                raise InvalidInput(
                    "rrf_k" if rrf_k is not None else "fusion", "applies to --mode hybrid only"
                )
            fusion = Fusion(
                method=fusion_method or settings.hybrid_fusion,
                rrf_k=settings.hybrid_rrf_k if rrf_k is None else rrf_k,
            )
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            outcome = await rag.search.run(
                SYSTEM, target.id, text=query, k=k, filter=query_filter, mode=mode, fusion=fusion,
                match=match, group=group,
            )  # fmt: skip
            ids = list(dict.fromkeys(hit.document_id for hit in outcome.hits))
            found = await rag.documents.read_many(SYSTEM, target.id, ids=ids) if ids else []
        return target.slug, outcome, {stored.document.id: stored.document for stored in found}

    slug, outcome, documents = execute(body, json_output=json)
    names = {document_id: document.filename for document_id, document in documents.items()}
    # One row per result: a chunk, or a document at its best chunk (with the document's score
    # and places in the two rankings).
    rows: list[Row] = (
        [Row(d.score, d.best, d.chunks[1:], d.vector_rank, d.text_rank) for d in outcome.documents]
        if outcome.group is ResultUnit.DOCUMENTS
        else [Row(hit.score, hit, (), hit.vector_rank, hit.text_rank) for hit in outcome.hits]
    )
    if json:
        # The fields of the HTTP API's hits, with the search's query log on each.
        print_json(
            [
                {"rank": rank, "score": row.score, "vector_rank": row.vector_rank, "text_rank": row.text_rank,
                 "filename": names.get(row.hit.document_id),
                 "title": getattr(documents.get(row.hit.document_id), "title", None),
                 "document_id": row.hit.document_id, "chunk_id": row.hit.chunk_id, "ordinal": row.hit.ordinal,
                 "content": row.hit.content, "metadata": row.hit.metadata,
                 "query_log_id": outcome.query_log_id}
                for rank, row in enumerate(rows, start=1)
            ]
        )  # fmt: skip
        reasons = {"empty_reason": outcome.empty_reason, "text_empty_reason": outcome.text_empty}
        if any(reasons.values()):
            typer.echo(jsonlib.dumps({name: _reason(r) for name, r in reasons.items()}), err=True)
        return
    if not rows:
        typer.echo(f"no matches in {slug}")
    if outcome.empty_reason is not None:
        typer.echo(f"why: {outcome.empty_reason.message} ({outcome.empty_reason.code})", err=True)
    if outcome.text_empty is not None:
        message = f"{outcome.text_empty.message} ({outcome.text_empty.code}): ranked by vector alone"
        typer.echo(f"note: the text matched nothing, {message}", err=True)
    for rank, (score, hit, others, _, _) in enumerate(rows, start=1):
        snippet = " ".join(hit.content.split())
        if len(snippet) > SNIPPET:
            snippet = snippet[: SNIPPET - 1] + "…"
        more = f"  (also #{', #'.join(str(other.ordinal) for other in others)})" if others else ""
        name = names.get(hit.document_id, hit.document_id)  # a document deleted meanwhile: its id
        typer.echo(f"{rank}. {score:.3f}  {name} #{hit.ordinal}{more}\n   {snippet}")
    how = f"{outcome.mode} search, {outcome.group}, {outcome.latency_ms:.0f} ms"
    typer.echo(f"({how}, query log {outcome.query_log_id})")


class Row(NamedTuple):
    score: float
    hit: SearchHit
    others: tuple[SearchHit, ...]  # a document's other matching chunks
    vector_rank: int | None
    text_rank: int | None


def _reason(reason: EmptyReason | None) -> dict[str, str] | None:
    return None if reason is None else {"code": reason.code.value, "message": reason.message}


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
