"""The use-case app with its blobs in files, and the checks the race and recovery tests share."""

from __future__ import annotations

import uuid
from pathlib import Path

from tenantrag.adapters.blobs import LocalBlobStore
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.clock import Clock
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.worker import Worker
from tenantrag.entrypoints.bootstrap import bootstrap
from tests.unit.usecases.workspace import DIMENSION


def disk_app(store: UnitOfWorkFactory, clock: Clock, hasher: PwdlibPasswordHasher, root: Path) -> TenantRag:
    """Blobs in files under ``root``, so an orphan is a file left on disk."""
    return bootstrap(
        uow=store,
        embedder=HashingEmbedder(dimension=DIMENSION),
        hasher=hasher,
        clock=clock,
        blobs=LocalBlobStore(root),
    )


async def drain(app: TenantRag) -> None:
    """Run every queued job, as a worker would."""
    worker = Worker(uow=app.uow, clock=app.ingestion.clock, handlers={"ingest": app.ingestion})
    while await worker.run_once() is not None:
        pass


async def check_no_orphans(app: TenantRag, tenant: uuid.UUID) -> None:
    """Every blob on disk is named by a version, and every version's blob is on disk."""
    async with app.uow.tenant(tenant) as uow:
        documents = (await uow.documents.list(PageRequest(limit=1000))).items
        named = {v.storage_key for d in documents for v in await uow.versions.list_for_document(d.id)}
    on_disk = {entry.key for entry in await app.ingestion.blobs.entries(tenant)}
    assert on_disk == named
