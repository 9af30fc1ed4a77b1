"""tenantrag in the quality benchmark, as a user runs it: a container built from ``Settings``
(the backend, the embedder and the chunker the way a deployment gets them), one tenant, each
record added with ``ingestion.add_text`` (its ``source_key`` the collection's id), and every
query through the search use case in each mode.

Searches ask for documents (``group="documents"``, k counting documents): a document ranks at
its best chunk, and hybrid fuses per document, as a user of the use case gets them. A search
that finds nothing says why (``empty_reason``); the bench keeps the reasons.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs

from bench.eval_collections import Collection
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings

MODES = ("text", "vector", "hybrid")
SYSTEM = Principal.system()


@attrs.frozen
class ModeRun:
    """One mode's rankings (collection document ids, best first), its wall time, the queries
    the search refused (as a user gets nothing for them, they score as no hit), and why the
    searches that found nothing did (code: count)."""

    rankings: dict[str, list[str]]
    seconds: float
    refused: dict[str, str]
    empty: dict[str, int]


@attrs.frozen
class BackendRun:
    backend: str
    ingest_seconds: float
    documents: int
    chunks: list[tuple[str, str]]  # (collection document id, chunk text), as stored
    modes: dict[str, ModeRun]


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


async def search_mode(
    rag: TenantRag,
    tenant: uuid.UUID,
    queries: dict[str, str],
    *,
    mode: str,
    source: dict[uuid.UUID, str],
    depth: int,
) -> ModeRun:
    rankings: dict[str, list[str]] = {}
    refused: dict[str, str] = {}
    empty: Counter[str] = Counter()
    started = time.perf_counter()
    for query, text in queries.items():
        try:
            outcome = await rag.search.run(
                SYSTEM, tenant, text=text, mode=mode, k=depth, group="documents", record=False
            )
        except InvalidInput as error:
            refused[query] = str(error)
            rankings[query] = []
            continue
        rankings[query] = [source[hit.document_id] for hit in outcome.documents]
        if outcome.empty_reason is not None:
            empty[str(outcome.empty_reason.code)] += 1
    seconds = time.perf_counter() - started
    return ModeRun(rankings=rankings, seconds=seconds, refused=refused, empty=dict(empty))


async def run_backend(
    backend: str, settings: Settings, collection: Collection, *, depth: int, modes: Sequence[str] = MODES
) -> BackendRun:
    """Open a container on ``settings``, load the collection into a new tenant, search it."""
    async with running(container_for(settings)) as rag:
        owner = await rag.users.register(email="quality-bench@example.com")
        tenant = await rag.tenants.create(
            SYSTEM, name=f"Quality {collection.name}", slug="quality-bench", owner_id=owner.id
        )
        started = time.perf_counter()
        source = await ingest(rag, tenant.id, collection)
        ingest_seconds = time.perf_counter() - started
        chunks = await stored_chunks(rag, tenant.id, source)
        runs = {
            mode: await search_mode(rag, tenant.id, collection.queries, mode=mode, source=source, depth=depth)
            for mode in modes
        }
    return BackendRun(
        backend=backend, ingest_seconds=ingest_seconds, documents=len(source), chunks=chunks, modes=runs
    )


def settings_for(database_url: str, embedder: dict[str, Any]) -> Settings:
    """A deployment's settings for this bench: the database and the embedder, the rest default
    (development: the schema is migrated at start)."""
    return Settings(database_url=database_url, environment="development", **embedder)
