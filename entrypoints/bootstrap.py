"""The composition root for embedding tenantrag in a Python program.

``bootstrap()`` with no arguments gives a complete in-memory tenantrag: SQLite on an
in-memory database (``memory://``; ``await rag.uow.dispose()`` frees it, or let it be
collected), the default embedder (``wordllama``: semantic, offline, 256 dimensions), the
text chunker, Argon2 password hashing and the system clock. Pass any part to replace it (a
real backend, another embedder, a manual clock in tests). Given a backend of another
dimension and no embedder, the embedder is ``hashing`` at that dimension.

A deployment configured by environment variables (DATABASE_URL, ...) is wired by
``entrypoints.container.Container`` instead, which the HTTP API and the CLI share.
"""

from __future__ import annotations

from tenantrag.adapters.blobs import MemoryBlobStore
from tenantrag.adapters.chunking import TextChunker
from tenantrag.adapters.clock import SystemClock
from tenantrag.adapters.embedders import wordllama
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.parsing.isolation import IsolatedParser
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.adapters.sqlite import open_memory_sqlite
from tenantrag.domain.ports.blob_store import BlobStore
from tenantrag.domain.ports.chunker import Chunker
from tenantrag.domain.ports.clock import Clock
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.ports.passwords import PasswordHasher
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag

DEFAULT_DIMENSION = wordllama.DIMENSION


def bootstrap(
    *,
    uow: UnitOfWorkFactory | None = None,
    embedder: Embedder | None = None,
    chunker: Chunker | None = None,
    hasher: PasswordHasher | None = None,
    clock: Clock | None = None,
    blobs: BlobStore | None = None,
    background_query_logs: bool = False,
) -> TenantRag:
    """A wired TenantRag. The store's dimension follows the embedder's, or vice versa.
    ``background_query_logs``: searches' logs are written in the background (close the
    TenantRag, or ``flush()`` it, to write what waits); otherwise before each search answers."""
    if embedder is None:
        if uow is None or uow.dimension == wordllama.DIMENSION:
            embedder = wordllama.WordLlamaEmbedder()
        else:
            embedder = HashingEmbedder(dimension=uow.dimension)
    return TenantRag(
        uow=uow or open_memory_sqlite(embedder.dimension),
        embedder=embedder,
        chunker=chunker or TextChunker(),
        hasher=hasher or PwdlibPasswordHasher(),
        clock=clock or SystemClock(),
        parser=IsolatedParser(),
        blobs=blobs or MemoryBlobStore(),
        background_query_logs=background_query_logs,
    )
