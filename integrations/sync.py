"""tenantrag from synchronous code: Flask, Django, scripts, notebooks.

``SyncTenantrag`` owns one event loop, on a daemon thread of its own, for its whole life.
The library's app (``TenantRag``) is opened on that loop, and every service is exposed
under the same name with the same methods, which block until the coroutine has run there
and return its result or raise its error (the same domain errors, ``NotFound``,
``PermissionDenied``...)::

    with SyncTenantrag.open(database_url="sqlite:///./app.db") as rag:
        user = rag.users.register(email="ada@example.com", password="a long passphrase")
        tenant = rag.tenants.create(Principal.user(user.id), name="Acme")

Why a loop on a thread rather than ``asyncio.run`` per call: the backend's pool and
connections belong to one loop, so they survive between calls (``asyncio.run`` would need a
new engine each time and leaks it at exit); any number of threads may call at once (Flask's
threaded server), since each call is handed to the loop; and it works where a loop is already
running in the caller's thread (notebooks), where ``asyncio.run`` refuses.

``close()`` (or leaving ``with``) waits for calls in flight, closes the app (its engine and
pool), cancels what is left on the loop, closes the loop and joins the thread. A facade never
closed is closed at interpreter exit. After ``close()`` every call raises ``SyncClosedError``.

Typing: mypy cannot turn a class's coroutine methods into blocking ones, so the services'
methods are typed ``Any`` here; ``rag.call(rag.app.search.search, actor, tenant, text=...)``
is the fully typed form of the same call.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Generic, ParamSpec, Self, TypeVar

import attrs

from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.usecases.accounts import AccountAdministration
from tenantrag.domain.usecases.api_keys import ApiKeyService
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.base import Service
from tenantrag.domain.usecases.chat import ChatService
from tenantrag.domain.usecases.documents import DocumentService
from tenantrag.domain.usecases.evaluation import EvaluationService
from tenantrag.domain.usecases.ingestion import IngestionService
from tenantrag.domain.usecases.jobs import JobService
from tenantrag.domain.usecases.members import MemberService
from tenantrag.domain.usecases.query_logs import QueryLogService
from tenantrag.domain.usecases.search import SearchService
from tenantrag.domain.usecases.tenants import TenantService
from tenantrag.domain.usecases.users import UserService
from tenantrag.entrypoints.container import Container, container_for, running
from tenantrag.entrypoints.settings import Settings
from tenantrag.integrations._loop import LoopThread

__all__ = ["SyncClosedError", "SyncService", "SyncTenantrag"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")

AppSource = TenantRag | Callable[[], TenantRag | Awaitable[TenantRag]]


class SyncClosedError(RuntimeError):
    """A call on a ``SyncTenantrag`` (or one of its services) after ``close()``."""


class SyncService(Generic[S]):
    """One service of the app with its coroutine methods made blocking (other attributes as they are)."""

    def __init__(self, service: S, owner: SyncTenantrag) -> None:
        self._service = service
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._service, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        owner = self._owner

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return owner.call(attribute, *args, **kwargs)

        blocking.__name__ = name
        blocking.__qualname__ = f"{type(self._service).__name__}.{name}"
        blocking.__doc__ = attribute.__doc__
        blocking.__wrapped__ = attribute  # type: ignore[attr-defined]  # inspect.signature follows it
        return blocking

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(n for n in dir(self._service) if not n.startswith("_"))})

    def __repr__(self) -> str:
        return f"SyncService({type(self._service).__name__})"


@attrs.define
class _Calls:
    """Calls in flight, so that ``close()`` waits for them and refuses new ones."""

    condition: threading.Condition = attrs.field(factory=threading.Condition)
    active: int = 0
    closed: bool = False


class SyncTenantrag:
    """The library's app behind blocking calls; see the module docstring."""

    tenants: SyncService[TenantService]
    users: SyncService[UserService]
    accounts: SyncService[AccountAdministration]
    members: SyncService[MemberService]
    api_keys: SyncService[ApiKeyService]
    documents: SyncService[DocumentService]
    ingestion: SyncService[IngestionService]
    search: SyncService[SearchService]
    query_logs: SyncService[QueryLogService]
    chat: SyncService[ChatService]
    jobs: SyncService[JobService]
    evaluations: SyncService[EvaluationService]

    def __init__(self, opener: Callable[[], AbstractAsyncContextManager[TenantRag]]) -> None:
        """Open the app ``opener()`` gives on a new loop; it is exited (on that loop) by ``close()``.

        Most code wants a constructor instead: ``open``, ``from_settings``, ``from_container``
        or ``from_app``.
        """
        self._calls = _Calls()
        self._loop = LoopThread(name="tenantrag-sync")
        self._stop: asyncio.Event | None = None
        self._keeper: asyncio.Task[None] | None = None
        try:
            self._app = self._loop.run(self._open(opener))
        except BaseException:
            self._loop.close()
            raise
        # Every service the app has, by its name; the annotations above type the known ones.
        self.services = tuple(
            field.name
            for field in attrs.fields(TenantRag)
            if isinstance(getattr(self._app, field.name), Service)
        )
        for name in self.services:
            setattr(self, name, SyncService(getattr(self._app, name), self))
        atexit.register(self.close)

    # --- constructors ------------------------------------------------------------------------

    @classmethod
    def open(cls, database_url: str | None = None, **settings: Any) -> Self:
        """A deployment's store as the HTTP API and the CLI open it, from ``Settings``:
        ``database_url`` and any other setting by its field name (``embedder="hashing"``...);
        what is not given is read from the environment (``DATABASE_URL``...) and ``.env``."""
        if database_url is not None:
            settings["database_url"] = database_url
        return cls.from_settings(Settings(**settings))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Self:
        """The container's store for ``settings`` (the environment's when None)."""
        return cls.from_container(container_for(settings))

    @classmethod
    def from_container(cls, container: Container) -> Self:
        """Run ``container`` (with its overrides) as ``running(container)`` does, until ``close()``."""
        return cls(lambda: running(container))

    @classmethod
    def from_app(cls, app: AppSource) -> Self:
        """Wrap an app built by ``bootstrap()`` (or a function making one, called on the loop,
        maybe async); ``close()`` closes it (``aclose``). Pass an app no other loop has used."""

        @asynccontextmanager
        async def opened() -> AsyncIterator[TenantRag]:
            made = app() if callable(app) else app
            rag = await made if inspect.isawaitable(made) else made
            async with rag:
                yield rag

        return cls(opened)

    # --- calls -------------------------------------------------------------------------------

    @property
    def app(self) -> TenantRag:
        """The async app, for ``call`` (its services run on this facade's loop only)."""
        return self._app

    def call(self, function: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``await function(*args, **kwargs)`` on this facade's loop, typed:
        ``rag.call(rag.app.documents.get, actor, tenant_id, document_id)``."""

        async def invoke() -> R:
            return await function(*args, **kwargs)

        with self._calls.condition:
            if self._calls.closed:
                raise SyncClosedError(f"{self!r} is closed; open a new one to call tenantrag again")
            self._calls.active += 1
        try:
            return self._loop.run(invoke())
        finally:
            with self._calls.condition:
                self._calls.active -= 1
                self._calls.condition.notify_all()

    def check_embedder(self) -> EmbeddingModel:
        """Record this store's embedder, or refuse another (``TenantRag.check_embedder``)."""
        return self.call(self._app.check_embedder)

    # --- lifetime ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._calls.closed

    def close(self) -> None:
        """Wait for calls in flight, close the app, then the loop and its thread. Idempotent."""
        with self._calls.condition:
            if self._calls.closed:
                return
            self._calls.closed = True
            self._calls.condition.wait_for(lambda: self._calls.active == 0)
        atexit.unregister(self.close)
        self._loop.close(self._finish())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<SyncTenantrag {state}>"

    # --- on the loop -------------------------------------------------------------------------

    async def _open(self, opener: Callable[[], AbstractAsyncContextManager[TenantRag]]) -> TenantRag:
        # One task enters and exits the app's context, as async context managers expect.
        self._stop = asyncio.Event()
        ready: asyncio.Future[TenantRag] = asyncio.get_running_loop().create_future()
        self._keeper = asyncio.create_task(self._keep(opener, ready, self._stop))
        return await ready

    @staticmethod
    async def _keep(
        opener: Callable[[], AbstractAsyncContextManager[TenantRag]],
        ready: asyncio.Future[TenantRag],
        stop: asyncio.Event,
    ) -> None:
        try:
            async with opener() as rag:
                ready.set_result(rag)
                await stop.wait()
        except BaseException as error:
            if ready.done():
                raise
            ready.set_exception(error)

    async def _finish(self) -> None:
        assert self._stop is not None
        assert self._keeper is not None
        self._stop.set()
        await self._keeper  # closing errors surface from close()
