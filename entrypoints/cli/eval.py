"""``tenantrag eval TENANT --queries FILE --qrels FILE``: measure retrieval on a test collection.

The files are read first (``adapters/evaluation_files.py``: BEIR JSONL queries, BEIR TSV or
TREC qrels), so a bad file fails before the database is opened. Every judged query is
searched in each ``--mode`` (documents, k counting documents) with the deployment's
embedder; the run is stored for the tenant and printed: per mode nDCG@10, Recall@100 and
MRR@10 over the queries with a relevant judgement (``--per-query`` adds each query's).
Warnings (qrels query ids missing from the queries, queries cut to search's length) go to
stderr. Nothing is stored when anything fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tenantrag.adapters.evaluation_files import read_qrels, read_queries
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.evaluation import METRICS
from tenantrag.domain.model.evaluation_run import EvaluationRun
from tenantrag.domain.search import SearchMode
from tenantrag.domain.usecases.evaluation import DEFAULT_K
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


def evaluate(
    *,
    tenant: TenantArgument,
    queries: Annotated[
        Path,
        typer.Option("--queries", "-q", help='BEIR JSON Lines: {"_id": ..., "text": ...} a line.'),
    ],
    qrels: Annotated[
        Path,
        typer.Option(
            "--qrels",
            "-r",
            help="Judgements: BEIR TSV (query-id, corpus-id, score; with its header)"
            " or TREC (qid 0 docid rel). Document ids are the documents' source keys (or ids).",
        ),
    ],
    mode: Annotated[
        list[SearchMode] | None,
        typer.Option("--mode", "-m", help="vector, text or hybrid (repeatable; default hybrid)."),
    ] = None,
    k: Annotated[
        int, typer.Option("-k", "--k", min=1, help="Documents retrieved per query (Recall@100 needs 100).")
    ] = DEFAULT_K,
    per_query: Annotated[bool, typer.Option("--per-query", help="Also print each query's metrics.")] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Run a test collection's queries through search and report nDCG@10, Recall@100, MRR@10."""

    async def body() -> tuple[str, EvaluationRun]:
        settings = load_settings(database_url)
        if k > settings.max_k:
            raise InvalidInput("k", f"must be at most {settings.max_k} (MAX_K), got {k}")
        query_set, judgements = read_queries(queries), read_qrels(qrels)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            run = await rag.evaluations.run(
                SYSTEM, target.id, queries=query_set, qrels=judgements, modes=mode or [SearchMode.HYBRID], k=k
            )
        return target.slug, run

    slug, run = execute(body, json_output=json)
    for warning in run.parameters.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    if json:
        print_json(run)
        return
    print_summary(slug, run)
    if per_query:
        typer.echo("")
        print_per_query(run)


def print_summary(slug: str, run: EvaluationRun) -> None:
    parameters = run.parameters
    embedder = parameters.get("embedder", {})
    typer.echo(
        f"evaluation run {run.id} of {slug}: {parameters.get('queries_run')} judged queries, "
        f"k={parameters.get('k')} documents, "
        f"embedder {embedder.get('name')} ({embedder.get('dimension')} dimensions)"
    )
    rows = [
        [mode, *(f"{run.metrics[mode][metric]:.4f}" for metric in METRICS), run.metrics[mode]["no_hits"]]
        for mode in run.modes
    ]
    print_table(["mode", *METRICS, "no hits"], rows)


def print_per_query(run: EvaluationRun) -> None:
    rows = [
        [query_id, mode, *(f"{scores[metric]:.4f}" for metric in METRICS), scores["hits"]]
        for mode in run.modes
        for query_id, scores in run.per_query[mode].items()
    ]
    print_table(["query", "mode", *METRICS, "hits"], rows)
