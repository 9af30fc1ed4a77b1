"""The composition root: settings -> the store's settings -> backend, embedder, chunker... -> TenantRag.

One ``Container`` wires a deployment, and the HTTP API, the CLI and any service embedding
tenantrag build the same one::

    container = Container()
    container.settings.override(Settings(database_url="sqlite:///./app.db"))
    async with running(container) as rag:
        await rag.tenants.list_all(Principal.system())

Nothing is built when this module is imported or a ``Container()`` is made: settings are
read, and the engine is created, when a provider is first called. The backend is a
``Resource``: ``init_resources()`` opens it (migrating first when the settings say so)
and ``shutdown_resources()`` disposes of its engine. Tests replace any provider with
``container.<provider>.override(...)`` instead of patching modules.

The backend resource is asynchronous, so calling ``container.tenantrag()`` gives an
awaitable; ``await provide(container.tenantrag)`` works whether or not a test has
overridden the backend with a plain object.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TypeVar

from dependency_injector import containers, providers

from tenantrag.adapters.blobs import LocalBlobStore, MemoryBlobStore
from tenantrag.adapters.chunking import TextChunker
from tenantrag.adapters.clock import SystemClock
from tenantrag.adapters.parsing.isolation import IsolatedParser
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.ports.blob_store import BlobStore
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.backends import backend_resource
from tenantrag.entrypoints.embedders import embedder_resource
from tenantrag.entrypoints.settings import Settings
from tenantrag.entrypoints.store_embedder import settings_for_store

T = TypeVar("T")


def make_blob_store(settings: Settings) -> BlobStore:
    """Originals on disk under ``BLOB_STORE_PATH`` (see Settings.blob_store_folder), or in memory."""
    folder = settings.blob_store_folder
    return MemoryBlobStore() if folder is None else LocalBlobStore(folder)


def parser_resource(settings: Settings) -> Iterator[IsolatedParser]:
    """The parsers under the deployment's limits (PDFs in child processes, killed past the time limit)."""
    parser = IsolatedParser(settings.parse_limits)
    try:
        yield parser
    finally:
        parser.close()


class Container(containers.DeclarativeContainer):
    """tenantrag's providers; see the module docstring for how to use and override them."""

    settings = providers.Singleton(Settings)
    # The settings with the embedder the store records when EMBEDDER is unset (a store
    # filled by another embedder keeps it): what the backend and the embedder are built from.
    store_settings = providers.Resource(settings_for_store, settings=settings)

    uow_factory = providers.Resource(backend_resource, settings=store_settings)

    # A resource, like the backend: an HTTP embedder's client is closed at shutdown.
    embedder = providers.Resource(embedder_resource, settings=store_settings)
    chunker = providers.Singleton(
        TextChunker, chunk_size=settings.provided.chunk_size, chunk_overlap=settings.provided.chunk_overlap
    )
    hasher = providers.Singleton(
        PwdlibPasswordHasher,
        time_cost=settings.provided.password_hash_time_cost,
        memory_cost=settings.provided.password_hash_memory_cost,
        parallelism=settings.provided.password_hash_parallelism,
    )
    clock = providers.Singleton(SystemClock)
    # A resource: the PDF parsing processes are stopped at shutdown.
    parser = providers.Resource(parser_resource, settings=settings)
    blobs = providers.Singleton(make_blob_store, settings=settings)

    tenantrag = providers.Singleton(
        TenantRag,
        uow=uow_factory,
        embedder=embedder,
        chunker=chunker,
        hasher=hasher,
        clock=clock,
        parser=parser,
        blobs=blobs,
        fusion=providers.Factory(
            Fusion, method=settings.provided.hybrid_fusion, rrf_k=settings.provided.hybrid_rrf_k
        ),
        # A search never waits for its query log's write; running() writes what waits at the end.
        background_query_logs=True,
    )


async def provide(provider: providers.Provider[T]) -> T:
    """What ``provider`` gives, awaited if it is asynchronous (it is, through the backend)."""
    value: object = provider()
    if inspect.isawaitable(value):
        value = await value
    return value  # type: ignore[return-value]


@asynccontextmanager
async def running(container: Container) -> AsyncIterator[TenantRag]:
    """Open the container's resources, give its TenantRag, and shut the resources down after."""
    # Inside the try: when one resource fails to start, those already started are closed.
    rag: TenantRag | None = None
    try:
        started = container.init_resources()
        if started is not None:
            await started
        rag = await provide(container.tenantrag)
        await rag.check_embedder()
        yield rag
    finally:
        if rag is not None:
            await rag.flush()  # what waits to be written (query logs), while the backend is open
        stopped = container.shutdown_resources()
        if stopped is not None:
            await stopped
        # The TenantRag held the backend just disposed of: the next run builds a new one.
        container.reset_singletons()


def container_for(settings: Settings | None = None) -> Container:
    """A new container, with ``settings`` instead of the environment's when given."""
    container = Container()
    if settings is not None:
        container.settings.override(settings)
    return container
