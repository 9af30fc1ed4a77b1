"""Where the integrations' calls into the (asynchronous) library run: one event loop.

LangChain and LlamaIndex call a vector store from both synchronous and asynchronous code.
The backend's pool and connections belong to the loop they were made on, so every call of
one store, sync or async, must run on one loop:

- ``LoopThread`` (the default) owns a loop on a daemon thread. Sync calls block until the
  coroutine has run there; async calls await it from any other loop. The library's app is
  used only from that thread, so a store works from scripts, notebooks, threaded servers
  and async code alike.
- ``CallerLoop``: the app already lives in the caller's loop (an async service that built
  it at start). Async calls run in place; sync calls are refused, since blocking that loop
  on itself would never return.
- ``FacadeRunner``: the app is a ``SyncTenantrag``'s (``integrations/sync.py``), which owns
  its loop; calls run there (async callers wait for it on a worker thread).

``bound(rag, runner)`` picks: a ``SyncTenantrag`` brings its own loop; a ``TenantRag``
without a runner gets a new ``LoopThread``, which the store then owns and closes.

A ``LoopThread`` never closed is closed at interpreter exit (``weakref.finalize``), so an
unclosed store leaks no loop and warns nothing.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.app import TenantRag

if TYPE_CHECKING:
    from tenantrag.integrations.sync import SyncTenantrag

R = TypeVar("R")


class Runner(Protocol):
    """Runs the library's coroutines on the loop it lives on."""

    def run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        """Run ``coroutine`` and block until it is done (sync callers)."""
        ...

    async def arun(self, coroutine: Coroutine[Any, Any, R]) -> R:
        """Run ``coroutine`` and await it (async callers)."""
        ...


class LoopThread:
    """An event loop on a daemon thread of its own, for the life of a store."""

    def __init__(self, name: str = "tenantrag-integration") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._finalizer = weakref.finalize(self, _stop, self._loop, self._thread)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        self._check(coroutine)
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("a sync call from inside the store's own loop would wait on itself forever")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def arun(self, coroutine: Coroutine[Any, Any, R]) -> R:
        self._check(coroutine)
        if asyncio.get_running_loop() is self._loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    def close(self, last: Coroutine[Any, Any, object] | None = None) -> None:
        """Run ``last`` (the app's cleanup) on the loop, then stop and close it. Idempotent."""
        if self.closed:
            if last is not None:
                last.close()
            return
        try:
            if last is not None:
                self.run(last)
        finally:
            self._finalizer()

    def _check(self, coroutine: Coroutine[Any, Any, object]) -> None:
        if self.closed:
            coroutine.close()
            raise RuntimeError("this store is closed")


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Cancel what is left on ``loop``, stop it, join its thread and close it."""
    if loop.is_closed():
        return

    async def drain() -> None:
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await loop.shutdown_asyncgens()
        await loop.shutdown_default_executor()

    if thread.is_alive() and loop.is_running():
        asyncio.run_coroutine_threadsafe(drain(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
    loop.close()


class CallerLoop:
    """The app lives in the caller's event loop: async calls run in place, sync ones are refused."""

    def run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        coroutine.close()
        raise RuntimeError(
            "this store runs tenantrag in your event loop (runner=CallerLoop()): call its async "
            "methods (aadd_documents, asimilarity_search, ...), or make it without a runner to "
            "give it a loop thread of its own"
        )

    async def arun(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return await coroutine

    def close(self, last: Coroutine[Any, Any, object] | None = None) -> None:
        if last is not None:
            last.close()


class FacadeRunner:
    """Runs on a ``SyncTenantrag``'s loop; closing is the facade's owner's business."""

    def __init__(self, facade: SyncTenantrag) -> None:
        self._facade = facade

    def run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return self._facade.call(_awaited, coroutine)

    async def arun(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return await asyncio.to_thread(self.run, coroutine)


async def _awaited(coroutine: Coroutine[Any, Any, R]) -> R:
    return await coroutine


def bound(rag: object, runner: Runner | None, name: str) -> tuple[TenantRag, Runner, LoopThread | None]:
    """The app, the runner its calls go through, and the loop thread made here (None if the
    caller or a ``SyncTenantrag`` owns the loop)."""
    from tenantrag.integrations.sync import SyncTenantrag

    if isinstance(rag, SyncTenantrag):
        return rag.app, runner or FacadeRunner(rag), None
    if not isinstance(rag, TenantRag):
        raise InvalidInput(
            "rag", f"must be a TenantRag (bootstrap()) or a SyncTenantrag, not {type(rag).__name__}"
        )
    if runner is not None:
        return rag, runner, None
    own = LoopThread(name)
    return rag, own, own
