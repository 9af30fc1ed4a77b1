"""Listing a store's blobs (``entries``, ``tenant_ids``): what ``tenantrag blobs check`` reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tenantrag.adapters.blobs import LocalBlobStore, MemoryBlobStore
from tenantrag.domain.ports.blob_store import BlobStore, blob_key
from tests.contract.blob_samples import DOC_1, DOC_2, TENANT_A, TENANT_B, UPLOAD_1, UPLOAD_2

STORES = [pytest.param("memory", marks=pytest.mark.memory), pytest.param("local")]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    return LocalBlobStore(tmp_path / "blobs")


async def test_an_empty_store_lists_nothing(store: BlobStore) -> None:
    assert await store.tenant_ids() == []
    assert await store.entries(TENANT_A) == []


async def test_entries_are_the_tenants_blobs_by_key_with_size_and_time(store: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    keys = [
        blob_key(DOC_2, UPLOAD_1, "b.txt"),
        blob_key(DOC_1, UPLOAD_2, "a.txt"),
        blob_key(DOC_1, UPLOAD_1, "a.md"),
    ]
    for number, key in enumerate(keys, start=1):
        await store.put(TENANT_A, key, b"x" * number)
    await store.put(TENANT_B, blob_key(DOC_1, UPLOAD_1, "other.txt"), b"other tenant")

    entries = await store.entries(TENANT_A)
    assert [entry.key for entry in entries] == sorted(keys)
    assert {entry.key: entry.size_bytes for entry in entries} == {
        key: n for n, key in enumerate(keys, start=1)
    }
    assert all(before <= entry.modified_at <= datetime.now(UTC) + timedelta(seconds=5) for entry in entries)
    assert await store.tenant_ids() == sorted([TENANT_A, TENANT_B])


async def test_deleted_blobs_leave_the_listing(store: BlobStore) -> None:
    key = blob_key(DOC_1, UPLOAD_1, "a.txt")
    await store.put(TENANT_A, key, b"abc")
    await store.delete(TENANT_A, key)
    assert await store.entries(TENANT_A) == []


async def test_the_local_store_lists_no_checksums_temporary_files_or_strangers(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    key = blob_key(DOC_1, UPLOAD_1, "a.txt")
    await store.put(TENANT_A, key, b"abc")
    folder = tmp_path / "blobs" / str(TENANT_A) / key
    (folder.parent / ".left-over.tmp").write_bytes(b"half")
    (tmp_path / "blobs" / "not-a-tenant").mkdir()
    assert [entry.key for entry in await store.entries(TENANT_A)] == [key]
    assert await store.tenant_ids() == [TENANT_A]
