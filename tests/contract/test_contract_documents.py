"""Documents and their versions: CRUD, filters, paging, the key rules, and detached copies."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import (
    Seeded,
    all_pages,
    at,
    ids_by_creation,
    make_document,
    make_version,
)


async def _add(backend: UnitOfWorkFactory, *documents: Document) -> None:
    async with backend.tenant(documents[0].tenant_id) as uow:
        for document in documents:
            await uow.documents.add(document)
        await uow.commit()


async def test_documents_round_trip(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    document = make_document(tenant_a.tenant.id, tags=["b", "a"], metadata={"lang": "en", "n": [1, 2]})
    await _add(backend, document)
    processing = document.transition(DocumentStatus.PROCESSING, now=at(1))
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.documents.get(document.id) == document
        assert await uow.documents.get(uuid.uuid4()) is None
        await uow.documents.update(processing)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.documents.get(document.id) == processing
        await uow.documents.delete(document.id)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        assert await uow.documents.get(document.id) is None


async def test_missing_documents_cannot_be_updated_or_deleted(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(NotFound):
            await uow.documents.update(make_document(tenant_a.tenant.id))
        with pytest.raises(NotFound):
            await uow.documents.delete(uuid.uuid4())


async def test_a_document_needs_an_existing_tenant(backend: UnitOfWorkFactory) -> None:
    ghost = uuid.uuid4()
    async with backend.tenant(ghost) as uow:
        with pytest.raises(NotFound, match="tenant"):
            await uow.documents.add(make_document(ghost))


async def test_storage_keys_are_unique_within_a_tenant(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    first = make_document(tenant_a.tenant.id, storage_key="k/1")
    second = make_document(tenant_a.tenant.id, storage_key="k/2")
    await _add(backend, first, second)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(Conflict, match="storage key 'k/1'") as caught:
            await uow.documents.add(make_document(tenant_a.tenant.id, storage_key="k/1"))
        assert caught.value.details["rule"] == "documents.storage_key"
        with pytest.raises(Conflict):
            await uow.documents.update(attrs.evolve(second, storage_key="k/1"))
        with pytest.raises(Conflict) as caught:
            await uow.documents.add(attrs.evolve(first, storage_key="k/3"))  # same id
        assert caught.value.details == {"rule": "documents.id"}
        assert caught.value.message == f"a document with id {first.id} already exists"
    # Another tenant may use the same key.
    await _add(backend, make_document(tenant_b.tenant.id, storage_key="k/1"))


async def test_source_keys_are_unique_within_a_tenant_and_optional(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    tenant_id = tenant_a.tenant.id
    keyed = make_document(tenant_id, source_key="s/1")
    await _add(backend, keyed, make_document(tenant_id), make_document(tenant_id))  # NULLs never clash
    async with backend.tenant(tenant_id) as uow:
        assert await uow.documents.get_by_source_key("s/1") == keyed
        assert await uow.documents.get_by_source_key("s/2") is None
        with pytest.raises(Conflict) as caught:
            await uow.documents.add(make_document(tenant_id, source_key="s/1"))
    assert caught.value.details == {"rule": "documents.source_key"}
    assert caught.value.message == "a document with source key 's/1' already exists in this tenant"
    await _add(backend, make_document(tenant_b.tenant.id, source_key="s/1"))


async def test_versions_round_trip_and_are_numbered_once_per_document(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    tenant_id = tenant_a.tenant.id
    document, other = make_document(tenant_id), make_document(tenant_id)
    await _add(backend, document, other)
    first, second = make_version(document, 1), make_version(document, 2)
    async with backend.tenant(tenant_id) as uow:
        for version in (second, first, make_version(other, 1)):
            await uow.versions.add(version)
        await uow.commit()
    counted = attrs.evolve(first, chunk_count=3, updated_at=at(1))
    async with backend.tenant(tenant_id) as uow:
        assert await uow.versions.get(document.id, 1) == first
        assert await uow.versions.get(document.id, 3) is None
        assert list(await uow.versions.list_for_document(document.id)) == [first, second]
        await uow.versions.update(counted)
        with pytest.raises(Conflict) as caught:
            await uow.versions.add(make_version(document, 2))
        assert caught.value.details == {"rule": "document_versions.document_version"}
        assert caught.value.message == f"document {document.id} already has a version 2"
        with pytest.raises(NotFound, match="document"):
            await uow.versions.add(make_version(make_document(tenant_id), 1))
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        assert await uow.versions.get(document.id, 1) == counted
        await uow.documents.delete(document.id)
        await uow.commit()
    async with backend.tenant(tenant_id) as uow:
        assert list(await uow.versions.list_for_document(document.id)) == []
        assert len(await uow.versions.list_for_document(other.id)) == 1


async def test_a_freed_storage_key_can_be_reused_in_the_same_unit_of_work(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    first = make_document(tenant_a.tenant.id, storage_key="k/1")
    await _add(backend, first)
    replacement = make_document(tenant_a.tenant.id, storage_key="k/1")
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.delete(first.id)
        await uow.documents.add(replacement)
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        listed = await uow.documents.list(PageRequest())
    assert list(listed.items) == [replacement]


async def test_documents_page_in_creation_order(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    documents = [make_document(tenant_a.tenant.id, created_at=at(-(i // 2))) for i in range(9)]
    await _add(backend, *documents)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for limit in (1, 2, 4, 9, 10):
            listed = await all_pages(uow.documents.list, limit=limit)
            assert [d.id for d in listed] == ids_by_creation(documents)


async def test_documents_filter_by_status_and_tag(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    tenant_id = tenant_a.tenant.id
    pending_red = make_document(tenant_id, tags=["red"], created_at=at(1))
    pending_blue = make_document(tenant_id, tags=["blue", "green"], created_at=at(2))
    done_red = make_document(tenant_id, status=DocumentStatus.COMPLETED, tags=["red", "x"], created_at=at(3))
    failed = make_document(tenant_id, status=DocumentStatus.FAILED, created_at=at(4))
    await _add(backend, pending_red, pending_blue, done_red, failed)
    async with backend.tenant(tenant_id) as uow:

        async def ids(status: DocumentStatus | None = None, tag: str | None = None) -> list[uuid.UUID]:
            return [d.id for d in (await uow.documents.list(PageRequest(), status=status, tag=tag)).items]

        assert await ids() == [pending_red.id, pending_blue.id, done_red.id, failed.id]
        assert await ids(status=DocumentStatus.PENDING) == [pending_red.id, pending_blue.id]
        assert await ids(status=DocumentStatus.FAILED) == [failed.id]
        assert await ids(status=DocumentStatus.PROCESSING) == []
        assert await ids(tag="red") == [pending_red.id, done_red.id]
        assert await ids(tag="green") == [pending_blue.id]
        assert await ids(tag="nope") == []
        assert await ids(status=DocumentStatus.COMPLETED, tag="red") == [done_red.id]
        filtered = await all_pages(
            lambda page: uow.documents.list(page, status=DocumentStatus.PENDING), limit=1
        )
        assert [d.id for d in filtered] == [pending_red.id, pending_blue.id]


async def test_returned_documents_share_no_state_with_the_store(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id, metadata={"lang": "en"})
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.add(document)
        document.metadata["lang"] = "changed after add"
        fetched = await uow.documents.get(document.id)
        assert fetched is not None
        fetched.metadata["lang"] = "changed after get"
        listed = (await uow.documents.list(PageRequest())).items[0]
        listed.metadata["lang"] = "changed after list"
        await uow.commit()
    async with backend.tenant(tenant_a.tenant.id) as uow:
        stored = await uow.documents.get(document.id)
    assert stored is not None
    assert stored.metadata == {"lang": "en"}
