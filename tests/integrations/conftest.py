"""Fixtures for the integrations' tests (tests/integrations/).

``sync_rag`` is a synchronous facade (``tenantrag.integrations.sync``) on a store of the
requested backend, wired as a deployment is (settings, the container), with cheap password
hashing; tests/http/helpers.py is the one home of those test settings. ``served`` is the
HTTP API served by uvicorn on a loopback port (a thread of this process), over a SQLite
file filled through the facade, for the HTTP clients.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
import uvicorn

from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import MEMORY_URL, Settings
from tenantrag.integrations.sync import SyncTenantrag
from tests.http.helpers import DIMENSION, make_container, make_settings

SYNC_BACKENDS = [
    pytest.param("memory", marks=pytest.mark.memory),
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def sqlite_file_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once, for each test to copy."""
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("integrations-sqlite") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Settings]:
    """Settings for a fresh store of a backend (``memory``, ``sqlite`` or ``postgres``)."""

    def settings(backend: str) -> Settings:
        if backend == "memory":
            return make_settings(MEMORY_URL)
        if backend == "sqlite":
            template: Path = request.getfixturevalue("sqlite_file_template")
            path = tmp_path / "store.sqlite"
            shutil.copyfile(template, path)
            return make_settings(f"sqlite:///{path}")
        if backend == "postgres":
            database: Callable[[int], str] = request.getfixturevalue("postgres_database")
            return make_settings(database(DIMENSION), auto_migrate=False, blob_store_path=tmp_path / "blobs")
        raise AssertionError(f"no store for backend {backend!r}")

    return settings


@pytest.fixture(params=SYNC_BACKENDS)
def sync_rag(
    request: pytest.FixtureRequest, store_settings: Callable[[str], Settings]
) -> Iterator[SyncTenantrag]:
    rag = SyncTenantrag.from_container(make_container(store_settings(request.param)))
    try:
        yield rag
    finally:
        rag.close()


# --- a served API (uvicorn on 127.0.0.1) for the HTTP clients -----------------------------


@attrs.frozen
class Served:
    """A ``tenantrag serve``-equivalent server and who may use it."""

    url: str
    password: str
    tenant: Tenant  # Acme Research: owner@, viewer@ (by password), keys below
    other: Tenant  # Globex, with a document: no credential here may reach it
    member_key: str  # owner@'s key capped at member
    viewer_key: str  # owner@'s key capped at viewer
    rag: SyncTenantrag  # the same store, open beside the server (a SQLite file)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    settings = make_settings(
        f"sqlite:///{folder / 'served.sqlite'}", blob_store_path=folder / "blobs",
        embedded_worker=True, worker_poll_interval=0.05,
    )  # fmt: skip
    password = "a long passphrase"
    with SyncTenantrag.from_container(make_container(settings)) as rag:
        owner = Principal.user(rag.users.register(email="owner@example.com", password=password).id)
        viewer = rag.users.register(email="viewer@example.com", password=password)
        outsider = Principal.user(rag.users.register(email="outsider@example.com").id)
        tenant = rag.tenants.create(owner, name="Acme Research")
        rag.members.add(owner, tenant.id, user_id=viewer.id, role=Role.VIEWER)
        other = rag.tenants.create(outsider, name="Globex")
        rag.ingestion.add_text(outsider, other.id, filename="plans.md", text="Globex plans to buy cats.")
        member_key = rag.api_keys.issue(owner, tenant.id, name="member", role_cap=Role.MEMBER).plaintext
        viewer_key = rag.api_keys.issue(owner, tenant.id, name="viewer", role_cap=Role.VIEWER).plaintext

    server = uvicorn.Server(uvicorn.Config(create_app(make_container(settings)), log_level="warning"))
    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="served-api")
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the server did not start")
            time.sleep(0.02)
        host, port = listener.getsockname()[:2]
        with SyncTenantrag.from_container(make_container(settings)) as beside:
            yield Served(f"http://{host}:{port}", password, tenant, other, member_key, viewer_key, beside)
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()
