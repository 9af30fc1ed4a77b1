"""The synchronous facade on every backend: the same services, results and errors as the async
app, bounded by the principal's tenant and role, and usable from several threads at once."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import attrs
import pytest

from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.policy import Role
from tenantrag.domain.search import SearchHit
from tenantrag.domain.usecases.base import Service
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.settings import MEMORY_URL, Settings
from tenantrag.integrations.sync import SyncService, SyncTenantrag
from tests.http.helpers import make_container, make_settings


@attrs.frozen
class Acme:
    """A tenant with an owner and a viewer, and another tenant the owner is not in."""

    owner: Principal
    viewer: Principal
    tenant: Tenant
    other: Tenant
    document: Document


def acme(rag: SyncTenantrag) -> Acme:
    owner = Principal.user(rag.users.register(email="owner@example.com").id)
    viewer_user = rag.users.register(email="viewer@example.com")
    outsider = Principal.user(rag.users.register(email="outsider@example.com").id)
    tenant = rag.tenants.create(owner, name="Acme Research")
    rag.members.add(owner, tenant.id, user_id=viewer_user.id, role=Role.VIEWER)
    other = rag.tenants.create(outsider, name="Globex")
    rag.ingestion.add_text(outsider, other.id, filename="secret.md", text="Globex keeps its cats secret.")
    document = rag.ingestion.add_text(
        owner, tenant.id, filename="cats.md", text="Cats purr when they are content.", tags=["pets"]
    )
    return Acme(owner, Principal.user(viewer_user.id), tenant, other, document)


def test_every_service_of_the_app_is_exposed_under_its_name(sync_rag: SyncTenantrag) -> None:
    app = sync_rag.app
    services = {name for name in dir(app) if isinstance(getattr(app, name, None), Service)}
    assert {"tenants", "users", "ingestion", "search", "documents"} <= services
    assert set(sync_rag.services) == services
    for name in services:
        exposed = getattr(sync_rag, name)
        assert isinstance(exposed, SyncService)
        assert repr(exposed) == f"SyncService({type(getattr(app, name)).__name__})"
    # The typed annotations name services the app has (a new service is exposed untyped).
    typed = {name for name, hint in SyncTenantrag.__annotations__.items() if "SyncService" in str(hint)}
    assert typed <= services


def test_services_return_plain_results_and_raise_the_domain_errors(sync_rag: SyncTenantrag) -> None:
    world = acme(sync_rag)
    assert isinstance(sync_rag.ingestion, SyncService)
    assert world.document.status is DocumentStatus.COMPLETED

    hits = sync_rag.search.search(world.owner, world.tenant.id, text="why do cats purr?", k=3, mode="text")
    assert [hit.document_id for hit in hits] == [world.document.id]
    assert all(isinstance(hit, SearchHit) for hit in hits)
    outcome = sync_rag.search.run(world.viewer, world.tenant.id, text="cats", k=3, mode="hybrid")
    assert outcome.query_log_id is not None
    assert sync_rag.documents.get(world.viewer, world.tenant.id, world.document.id) == world.document
    # Plain attributes and methods pass through unchanged.
    assert sync_rag.ingestion.text_media_type("notes.md") == "text/markdown"

    with pytest.raises(NotFound) as missing:
        sync_rag.documents.get(world.owner, world.tenant.id, uuid.uuid4())
    assert missing.value.kind == "document"
    with pytest.raises(InvalidInput) as invalid:
        sync_rag.search.search(world.owner, world.tenant.id, text="cats", k=0)
    assert invalid.value.field == "k"


def test_a_viewer_cannot_write_and_nobody_reaches_another_tenant(sync_rag: SyncTenantrag) -> None:
    world = acme(sync_rag)
    with pytest.raises(PermissionDenied):
        sync_rag.ingestion.add_text(world.viewer, world.tenant.id, filename="x.md", text="no")
    with pytest.raises(PermissionDenied):
        sync_rag.documents.delete(world.viewer, world.tenant.id, world.document.id)
    key = sync_rag.api_keys.issue(world.owner, world.tenant.id, name="reader", role_cap=Role.VIEWER)
    capped = sync_rag.api_keys.verify(key.plaintext)
    with pytest.raises(PermissionDenied):
        sync_rag.ingestion.add_text(capped, world.tenant.id, filename="x.md", text="no")

    # Another tenant answers exactly like one that does not exist, for users and keys alike.
    for actor in (world.owner, world.viewer, capped):
        with pytest.raises(NotFound):
            sync_rag.documents.list(actor, world.other.id)
        with pytest.raises(NotFound):
            sync_rag.search.search(actor, world.other.id, text="cats", k=3)
    # The other tenant's text is never among this tenant's hits.
    hits = sync_rag.search.search(world.owner, world.tenant.id, text="Globex secret cats", k=10, mode="text")
    assert {hit.document_id for hit in hits} == {world.document.id}
    assert list(sync_rag.documents.list(world.owner, world.tenant.id).items) == [world.document]


@pytest.mark.sqlite
def test_many_threads_call_at_once(store_settings: Callable[[str], Settings]) -> None:
    """Flask's threaded server: requests on several threads share the facade (a SQLite file)."""
    with SyncTenantrag.from_container(make_container(store_settings("sqlite"))) as rag:
        world = acme(rag)
        barrier = threading.Barrier(6)

        def work(number: int) -> tuple[str, int]:
            barrier.wait()
            document = rag.ingestion.add_text(
                world.owner, world.tenant.id, filename=f"n{number}.md", text=f"Parrot number {number} talks."
            )
            hits = rag.search.search(world.viewer, world.tenant.id, text="parrot", k=10, mode="text")
            return document.filename, len(hits)

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(work, range(6)))
        assert sorted(name for name, _ in results) == [f"n{i}.md" for i in range(6)]
        assert all(1 <= found <= 6 for _, found in results)
        listed = rag.documents.list(world.owner, world.tenant.id).items
        assert len(listed) == 7


def test_the_typed_call_runs_any_coroutine_function_on_the_loop(sync_rag: SyncTenantrag) -> None:
    world = acme(sync_rag)
    document = sync_rag.call(sync_rag.app.documents.get, world.owner, world.tenant.id, world.document.id)
    assert document == world.document

    async def loop_thread() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    assert sync_rag.call(loop_thread) == "tenantrag-sync"
    assert threading.current_thread().name != "tenantrag-sync"


async def test_it_works_where_an_event_loop_is_already_running() -> None:
    """As in a notebook: the caller's thread runs a loop, where asyncio.run would refuse."""
    with SyncTenantrag.from_container(make_container(make_settings(MEMORY_URL))) as rag:
        user = rag.users.register(email="notebook@example.com")
        assert rag.users.get(user.id) == user
