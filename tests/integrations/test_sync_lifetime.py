"""The synchronous facade's lifetime: its loop and pool are owned and closed cleanly.

Pytest turns every warning into an error here, so a leaked loop, socket or file
(ResourceWarning) or a coroutine never awaited fails these tests.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tenantrag.entrypoints.settings import MEMORY_URL
from tenantrag.integrations.sync import SyncClosedError, SyncTenantrag
from tests.http.helpers import DIMENSION, SECRET, make_container, make_settings

pytestmark = pytest.mark.memory


def _loop_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "tenantrag-sync"]


def _memory() -> SyncTenantrag:
    return SyncTenantrag.from_container(make_container(make_settings(MEMORY_URL)))


def test_close_ends_the_thread_and_the_loop_and_later_calls_are_a_clear_error() -> None:
    before = len(_loop_threads())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _memory() as rag:
            users = rag.users
            user = users.register(email="ada@example.com")
            assert len(_loop_threads()) == before + 1
        assert rag.closed
        assert len(_loop_threads()) == before
        with pytest.raises(SyncClosedError, match="is closed"):
            users.get(user.id)
        with pytest.raises(SyncClosedError):
            rag.tenants.list_mine(Principal.user(user.id))
        rag.close()  # idempotent
        del rag, users
        gc.collect()
    assert [str(w.message) for w in caught] == []


def test_from_app_wraps_a_bootstrapped_app_and_closes_it() -> None:
    app = bootstrap(embedder=HashingEmbedder(dimension=DIMENSION))
    with SyncTenantrag.from_app(app) as rag:
        assert rag.app is app
        assert rag.users.register(email="ada@example.com").email == "ada@example.com"
    # The in-memory database was released with the app's engine (MemorySqliteUnitOfWorkFactory).
    assert not app.uow._release.alive  # type: ignore[attr-defined]


async def _async_bootstrap() -> TenantRag:
    return bootstrap(embedder=HashingEmbedder(dimension=DIMENSION))


def test_from_app_takes_a_function_called_on_its_loop_sync_or_async() -> None:
    with SyncTenantrag.from_app(_async_bootstrap) as rag:
        assert rag.users.register(email="ada@example.com").email == "ada@example.com"
    with SyncTenantrag.from_app(lambda: bootstrap(embedder=HashingEmbedder(dimension=DIMENSION))) as rag:
        assert rag.users.register(email="bob@example.com").email == "bob@example.com"


def test_close_waits_for_calls_in_flight() -> None:
    rag = _memory()
    started = threading.Event()
    results: list[str] = []

    async def slow() -> str:
        started.set()
        await asyncio.sleep(0.3)
        return "done"

    caller = threading.Thread(target=lambda: results.append(rag.call(slow)))
    caller.start()
    assert started.wait(5)
    begun = time.monotonic()
    rag.close()
    caller.join()
    assert results == ["done"]
    assert time.monotonic() - begun > 0.1


def test_a_failing_open_raises_its_error_and_leaves_no_thread() -> None:
    before = len(_loop_threads())
    with pytest.raises(InvalidInput, match="embedder"):
        # A 64-dimension store with a 32-dimension embedder: refused when the parts are wired.
        SyncTenantrag.from_app(
            lambda: bootstrap(
                uow=bootstrap(embedder=HashingEmbedder(dimension=DIMENSION)).uow,
                embedder=HashingEmbedder(dimension=32),
            )
        )
    assert len(_loop_threads()) == before


def test_calling_it_from_its_own_loop_is_refused_instead_of_deadlocking() -> None:
    with _memory() as rag:

        async def reenter() -> object:
            return rag.users.get_by_email("nobody@example.com")

        with pytest.raises(RuntimeError, match="own loop"):
            rag.call(reenter)


@pytest.mark.slow
def test_a_facade_never_closed_is_closed_at_exit_without_warnings(tmp_path: Path) -> None:
    """A script (or a Flask process) that never calls close(): nothing leaks at exit."""
    script = textwrap.dedent(
        f"""
        from tenantrag.domain.usecases.principal import Principal
        from tenantrag.integrations.sync import SyncTenantrag

        rag = SyncTenantrag.open(
            database_url="sqlite:///./app.db", environment="test", jwt_secret_key={SECRET!r},
            embedder="hashing", embedding_dimension={DIMENSION},
        )
        user = rag.users.register(email="ada@example.com")
        tenant = rag.tenants.create(Principal.user(user.id), name="Acme")
        print(tenant.slug)
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-X", "tracemalloc", "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "acme"), done.stderr
    assert "Warning" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
