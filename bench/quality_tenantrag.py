"""tenantrag in the quality benchmark, as a user runs it: a container built from ``Settings``
(the backend, the embedder and the chunker the way a deployment gets them), one tenant, each
record added with ``ingestion.add_text`` (its ``source_key`` the collection's id), then one
evaluation run (``rag.evaluations.run``, what ``tenantrag eval`` runs): every judged query
through the real search in each mode, documents (a document at its best chunk, hybrid fused
per document), k = 100, scored by ``domain/evaluation`` and stored as the tenant's run.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import attrs

from bench.eval_collections import Collection
from tenantrag.domain.evaluation import Qrels, QuerySet
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings

MODES = ("text", "vector", "hybrid")
SYSTEM = Principal.system()


@attrs.frozen
class ModeRun:
    """One mode's overall metrics as the evaluation run stored them (``ndcg@10``,
    ``recall@100``, ``mrr@10``, ``queries``, ``no_hits``, ``mean_latency_ms``), and each
    query's."""

    metrics: dict[str, Any]
    per_query: dict[str, dict[str, Any]]


@attrs.frozen
class BackendRun:
    backend: str
    ingest_seconds: float
    documents: int
    chunks: list[tuple[str, str]]  # (collection document id, chunk text), as stored
    modes: dict[str, ModeRun]
    evaluation_seconds: float
    warnings: list[str]


async def ingest(rag: TenantRag, tenant: uuid.UUID, collection: Collection) -> dict[uuid.UUID, str]:
    """Every record as a document of its own; the map from tenantrag's document ids back."""
    source: dict[uuid.UUID, str] = {}
    for ident, text in collection.documents.items():
        title = text.split("\n\n", 1)[0][:200]
        document = await rag.ingestion.add_text(
            SYSTEM, tenant, filename=f"{collection.name.split()[0].lower()}-{ident}.txt", text=text,
            title=title, source_key=ident,
        )  # fmt: skip
        source[document.id] = ident
    return source


async def stored_chunks(
    rag: TenantRag, tenant: uuid.UUID, source: dict[uuid.UUID, str]
) -> list[tuple[str, str]]:
    """The chunks tenantrag made, read back: what the exact-cosine peer embeds."""
    found: list[tuple[str, str]] = []
    for document_id, ident in source.items():
        found.extend(
            (ident, chunk.content) for chunk in await rag.documents.chunks(SYSTEM, tenant, document_id)
        )
    return found


async def run_backend(
    backend: str, settings: Settings, collection: Collection, *, depth: int, modes: tuple[str, ...] = MODES
) -> BackendRun:
    """Open a container on ``settings``, load the collection into a new tenant, evaluate it."""
    async with running(container_for(settings)) as rag:
        owner = await rag.users.register(email="quality-bench@example.com")
        tenant = await rag.tenants.create(
            SYSTEM, name=f"Quality {collection.name}", slug="quality-bench", owner_id=owner.id
        )
        started = time.perf_counter()
        source = await ingest(rag, tenant.id, collection)
        ingest_seconds = time.perf_counter() - started
        chunks = await stored_chunks(rag, tenant.id, source)
        started = time.perf_counter()
        run = await rag.evaluations.run(
            SYSTEM, tenant.id, modes=modes, k=depth,
            queries=QuerySet(collection.queries, name=f"{collection.name} queries"),
            qrels=Qrels(
                {q: dict.fromkeys(relevant, 1) for q, relevant in collection.qrels.items()},
                name=f"{collection.name} judgements",
            ),
        )  # fmt: skip
        seconds = time.perf_counter() - started
    return BackendRun(
        backend=backend, ingest_seconds=ingest_seconds, documents=len(source), chunks=chunks,
        modes={mode: ModeRun(run.metrics[mode], run.per_query[mode]) for mode in run.modes},
        evaluation_seconds=seconds, warnings=list(run.parameters.get("warnings", [])),
    )  # fmt: skip


def settings_for(database_url: str, embedder: dict[str, Any]) -> Settings:
    """A deployment's settings for this bench: the database and the embedder, the rest default
    (development: the schema is migrated at start)."""
    return Settings(database_url=database_url, environment="development", **embedder)
