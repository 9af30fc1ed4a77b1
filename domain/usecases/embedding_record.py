"""Holding a store to one embedder: the first one to open it is recorded, any other refused.

Vectors of two models cannot be compared, even when their dimensions match, and a store
with vectors of two dimensions cannot be searched at all; either would silently ruin
retrieval. So the check runs when a deployment starts (``TenantRag.check_embedder``,
called by the container), before anything is embedded.
"""

from __future__ import annotations

from tenantrag.domain.errors import Conflict, InvalidInput
from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.ports.clock import Clock
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory


async def check_embedder(uow: UnitOfWorkFactory, embedder: Embedder, clock: Clock) -> EmbeddingModel:
    """The store's recorded embedder: ``embedder``, recorded now if none was; InvalidInput
    if the store was filled by another model or at another dimension."""
    wanted = EmbeddingModel(name=embedder.name, dimension=embedder.dimension, created_at=clock.now())
    async with uow.system() as system:
        recorded = await system.embedding_model.get()
        if recorded is None:
            try:
                await system.embedding_model.add(wanted)
                await system.commit()
            except Conflict:  # another process recorded one first: hold this one to it
                recorded = None
            else:
                return wanted
    if recorded is None:
        async with uow.system() as system:
            recorded = await system.embedding_model.get()
    if recorded is None:  # pragma: no cover - the row is never deleted
        raise InvalidInput("embedder", "the store's embedder record vanished; run the start again")
    if recorded.dimension != embedder.dimension:
        raise InvalidInput(
            "embedding_dimension",
            f"this store holds {recorded.dimension}-dimensional vectors made by {recorded.name}, but"
            f" {embedder.name} makes {embedder.dimension}-dimensional ones; one store uses one dimension",
        )
    if recorded.name != embedder.name:
        raise InvalidInput(
            "embedder",
            f"this store's vectors were made by {recorded.name}; {embedder.name} makes vectors that cannot"
            " be compared with them. Configure the same embedder again, or ingest into a new database",
        )
    return recorded
