"""The blob store contract, run against every implementation: the in-memory store (marked
``memory``) and the local file-system store in ``tmp_path`` (no backend marker: it needs no
database). Blobs round-trip with their size and checksum, deletes are idempotent and prefixes
delete whole segments, tenants never share a blob, invalid keys are refused by every operation,
and any bytes under any filename round-trip. What the local store does on disk is in
tests/contract/test_local_blob_store_on_disk.py."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.adapters.blobs import LocalBlobStore, MemoryBlobStore
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound
from tenantrag.domain.ports.blob_store import BlobStore, StoredBlob, blob_key, document_prefix
from tests.contract.blob_samples import (
    ABC_SHA256,
    DOC_1,
    DOC_2,
    KEY,
    TENANT_A,
    TENANT_B,
    UPLOAD_1,
    UPLOAD_2,
    sha256,
)

STORES = [
    pytest.param("memory", marks=pytest.mark.memory),
    pytest.param("local"),
]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    return LocalBlobStore(tmp_path / "blobs")


# --- put / get ------------------------------------------------------------------------


async def test_put_then_get_round_trips_and_reports_size_and_checksum(store: BlobStore) -> None:
    stored = await store.put(TENANT_A, KEY, b"abc")
    assert stored == StoredBlob(KEY, 3, ABC_SHA256)
    assert await store.get(TENANT_A, KEY) == b"abc"
    assert await store.exists(TENANT_A, KEY) is True


async def test_empty_and_large_blobs_round_trip(store: BlobStore) -> None:
    large = os.urandom(3 * 1024 * 1024 + 7)
    empty_key, large_key = blob_key(DOC_1, UPLOAD_1, "empty.txt"), blob_key(DOC_1, UPLOAD_1, "large.bin")
    assert (await store.put(TENANT_A, empty_key, b"")).size_bytes == 0
    assert (await store.put(TENANT_A, large_key, large)).sha256 == sha256(large)
    assert await store.get(TENANT_A, empty_key) == b""
    assert await store.get(TENANT_A, large_key) == large


async def test_put_replaces_the_blob_under_the_same_key(store: BlobStore) -> None:
    await store.put(TENANT_A, KEY, b"first version")
    stored = await store.put(TENANT_A, KEY, b"second")
    assert stored == StoredBlob(KEY, 6, sha256(b"second"))
    assert await store.get(TENANT_A, KEY) == b"second"


async def test_a_missing_blob_is_not_found_naming_the_key(store: BlobStore) -> None:
    with pytest.raises(NotFound, match="documents/") as caught:
        await store.get(TENANT_A, KEY)
    assert caught.value.kind == "blob"
    assert KEY in caught.value.message
    assert await store.exists(TENANT_A, KEY) is False


async def test_concurrent_puts_to_one_key_leave_one_whole_blob(store: BlobStore) -> None:
    payloads = [bytes([n]) * (1000 + n) for n in range(20)]
    results = await asyncio.gather(*(store.put(TENANT_A, KEY, data) for data in payloads))
    assert [r.sha256 for r in results] == [sha256(data) for data in payloads]
    assert await store.get(TENANT_A, KEY) in payloads  # whole, and its checksum matches


# --- delete ---------------------------------------------------------------------------


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put(TENANT_A, KEY, b"abc")
    assert await store.delete(TENANT_A, KEY) is True
    assert await store.delete(TENANT_A, KEY) is False
    assert await store.exists(TENANT_A, KEY) is False
    with pytest.raises(NotFound):
        await store.get(TENANT_A, KEY)
    assert await store.delete(TENANT_B, blob_key(DOC_2, UPLOAD_2, "never.txt")) is False


async def test_a_deleted_key_can_be_written_again(store: BlobStore) -> None:
    await store.put(TENANT_A, KEY, b"one")
    await store.delete(TENANT_A, KEY)
    await store.put(TENANT_A, KEY, b"two")
    assert await store.get(TENANT_A, KEY) == b"two"


async def test_delete_prefix_removes_every_version_of_one_document_only(store: BlobStore) -> None:
    doc_1_keys = [
        blob_key(DOC_1, UPLOAD_1, "a.txt"),
        blob_key(DOC_1, UPLOAD_2, "a.txt"),
        blob_key(DOC_1, UPLOAD_2, "b.md"),
    ]
    doc_2_key = blob_key(DOC_2, UPLOAD_1, "a.txt")
    for key in [*doc_1_keys, doc_2_key]:
        await store.put(TENANT_A, key, key.encode())

    assert await store.delete_prefix(TENANT_A, document_prefix(DOC_1)) == 3

    assert [await store.exists(TENANT_A, key) for key in doc_1_keys] == [False, False, False]
    assert await store.get(TENANT_A, doc_2_key) == doc_2_key.encode()
    assert await store.delete_prefix(TENANT_A, document_prefix(DOC_1)) == 0


async def test_delete_prefix_works_by_whole_segments(store: BlobStore) -> None:
    for key in ("a/b/x", "a/b/y/z", "a/bc/x", "a/b.txt"):
        await store.put(TENANT_A, key, b"data")
    assert await store.delete_prefix(TENANT_A, "a/b/") == 2
    assert await store.exists(TENANT_A, "a/bc/x") is True
    assert await store.exists(TENANT_A, "a/b.txt") is True
    # A prefix naming one blob removes that blob.
    assert await store.delete_prefix(TENANT_A, "a/b.txt") == 1
    assert await store.exists(TENANT_A, "a/b.txt") is False


# --- tenants --------------------------------------------------------------------------


async def test_the_same_key_in_two_tenants_is_two_blobs(store: BlobStore) -> None:
    await store.put(TENANT_A, KEY, b"tenant a")
    assert await store.exists(TENANT_B, KEY) is False
    with pytest.raises(NotFound):
        await store.get(TENANT_B, KEY)

    await store.put(TENANT_B, KEY, b"tenant b")
    assert await store.get(TENANT_A, KEY) == b"tenant a"
    assert await store.get(TENANT_B, KEY) == b"tenant b"

    assert await store.delete(TENANT_B, KEY) is True
    assert await store.get(TENANT_A, KEY) == b"tenant a"
    await store.put(TENANT_B, KEY, b"tenant b")
    assert await store.delete_prefix(TENANT_A, document_prefix(DOC_1)) == 1
    assert await store.get(TENANT_B, KEY) == b"tenant b"


async def test_the_tenant_must_be_a_uuid(store: BlobStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.put("../other-tenant", KEY, b"x")  # type: ignore[arg-type]
    assert caught.value.field == "tenant_id"
    with pytest.raises(InvalidInput, match="tenant_id"):
        await store.get(str(TENANT_A), KEY)  # type: ignore[arg-type]


# --- keys -----------------------------------------------------------------------------

BAD_KEYS = ["../escape", "/etc/passwd", "a\\b", "a\x00b", "a//b", "a/.hidden", "x" * 1025, ""]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_every_operation_rejects_an_invalid_key_naming_it(store: BlobStore, key: str) -> None:
    shown = repr(key)[:40]
    for attempt in (
        store.put(TENANT_A, key, b"x"),
        store.get(TENANT_A, key),
        store.exists(TENANT_A, key),
        store.delete(TENANT_A, key),
    ):
        with pytest.raises(InvalidInput) as caught:
            await attempt
        assert caught.value.field == "key"
        assert shown in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        await store.delete_prefix(TENANT_A, key)
    assert caught.value.field == "prefix"


async def test_a_key_is_a_blob_or_a_folder_never_both(store: BlobStore) -> None:
    await store.put(TENANT_A, "a/b", b"blob")
    with pytest.raises(Conflict, match="'a/b/c'"):
        await store.put(TENANT_A, "a/b/c", b"under a blob")
    with pytest.raises(Conflict, match="'a'"):
        await store.put(TENANT_A, "a", b"over a folder")
    with pytest.raises(NotFound):
        await store.get(TENANT_A, "a")  # a folder is not a blob
    with pytest.raises(NotFound):
        await store.get(TENANT_A, "a/b/c")
    assert await store.delete(TENANT_A, "a") is False
    assert await store.get(TENANT_A, "a/b") == b"blob"


# --- the property ---------------------------------------------------------------------

ODD_FILENAMES = st.sampled_from(
    [
        "..",
        "../../etc/passwd",
        "C:\\fakepath\\scan.pdf",
        ".sha256",
        ".report.pdf.sha256",
        "CON",
        "\u202egpj.exe",
        "🙂" * 100,
        "é" * 255,
        "a" * 255,
        "tab\there",
    ]
)
FILENAMES = st.one_of(
    ODD_FILENAMES, st.text(min_size=1, max_size=255).filter(lambda s: s.strip() and "\x00" not in s)
)


# The store fixture outlives the examples: each example writes under a fresh document
# id and deletes it again, so no example sees another's blobs.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), filename=FILENAMES, upload=st.uuids())
async def test_any_bytes_under_any_filename_round_trip(
    store: BlobStore, data: bytes, filename: str, upload: uuid.UUID
) -> None:
    document_id = uuid.uuid4()
    key = blob_key(document_id, upload, filename)

    stored = await store.put(TENANT_A, key, data)
    assert stored == StoredBlob(key, len(data), sha256(data))
    assert await store.get(TENANT_A, key) == data
    assert await store.exists(TENANT_B, key) is False

    assert await store.delete_prefix(TENANT_A, document_prefix(document_id)) == 1
    assert await store.exists(TENANT_A, key) is False
