"""The blob store contract: every test taking ``store`` runs against every implementation.

``store`` is parametrized over the in-memory store (marked ``memory``) and the local
file-system store in ``tmp_path`` (no backend marker: it needs no database). The tests
taking ``local`` at the end are about the disk itself (layout, atomic writes, corruption
at rest, symlinks), which the memory store has no equivalent of.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.adapters.blobs import LocalBlobStore, MemoryBlobStore
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from tenantrag.domain.ports.blob_store import (
    BlobCorrupted,
    BlobStore,
    StoredBlob,
    blob_key,
    document_prefix,
)

STORES = [
    pytest.param("memory", marks=pytest.mark.memory),
    pytest.param("local"),
]
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def local(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TENANT_A = uuid.UUID("0190f3a2-0000-7000-8000-00000000000a")
TENANT_B = uuid.UUID("0190f3a2-0000-7000-8000-00000000000b")
DOC_1 = uuid.UUID("0190f3a2-0000-7000-8000-000000000001")
DOC_2 = uuid.UUID("0190f3a2-0000-7000-8000-000000000002")
KEY = blob_key(DOC_1, 1, "report.pdf")
KEY_FOLDER = f"documents/{DOC_1}/v1"  # where the local store keeps KEY and its checksum


# --- put / get ------------------------------------------------------------------------


async def test_put_then_get_round_trips_and_reports_size_and_checksum(store: BlobStore) -> None:
    stored = await store.put(TENANT_A, KEY, b"abc")
    assert stored == StoredBlob(KEY, 3, ABC_SHA256)
    assert await store.get(TENANT_A, KEY) == b"abc"
    assert await store.exists(TENANT_A, KEY) is True


async def test_empty_and_large_blobs_round_trip(store: BlobStore) -> None:
    large = os.urandom(3 * 1024 * 1024 + 7)
    empty_key, large_key = blob_key(DOC_1, 1, "empty.txt"), blob_key(DOC_1, 1, "large.bin")
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
    assert await store.delete(TENANT_B, blob_key(DOC_2, 9, "never.txt")) is False


async def test_a_deleted_key_can_be_written_again(store: BlobStore) -> None:
    await store.put(TENANT_A, KEY, b"one")
    await store.delete(TENANT_A, KEY)
    await store.put(TENANT_A, KEY, b"two")
    assert await store.get(TENANT_A, KEY) == b"two"


async def test_delete_prefix_removes_every_version_of_one_document_only(store: BlobStore) -> None:
    doc_1_keys = [blob_key(DOC_1, 1, "a.txt"), blob_key(DOC_1, 2, "a.txt"), blob_key(DOC_1, 3, "b.md")]
    doc_2_key = blob_key(DOC_2, 1, "a.txt")
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
@given(data=st.binary(max_size=4096), filename=FILENAMES, version=st.integers(1, 10_000))
async def test_any_bytes_under_any_filename_round_trip(
    store: BlobStore, data: bytes, filename: str, version: int
) -> None:
    document_id = uuid.uuid4()
    key = blob_key(document_id, version, filename)

    stored = await store.put(TENANT_A, key, data)
    assert stored == StoredBlob(key, len(data), sha256(data))
    assert await store.get(TENANT_A, key) == data
    assert await store.exists(TENANT_B, key) is False

    assert await store.delete_prefix(TENANT_A, document_prefix(document_id)) == 1
    assert await store.exists(TENANT_A, key) is False


# --- the local store on disk ----------------------------------------------------------


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


async def test_local_layout_is_root_tenant_key_with_a_hidden_checksum(local: LocalBlobStore) -> None:
    await local.put(TENANT_A, KEY, b"abc")
    path = local.root / str(TENANT_A) / KEY
    assert path.read_bytes() == b"abc"
    # sha256sum's format, so `sha256sum -c .report.pdf.sha256` checks it by hand.
    assert (path.parent / ".report.pdf.sha256").read_text() == f"{ABC_SHA256}  report.pdf\n"
    assert path.parent == local.root / str(TENANT_A) / KEY_FOLDER
    assert files_under(local.root) == [  # nothing else: no temporary file is left
        f"{TENANT_A}/{KEY_FOLDER}/.report.pdf.sha256",
        f"{TENANT_A}/{KEY}",
    ]
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


async def test_local_root_is_made_absolute_at_construction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalBlobStore(Path("relative"))
    assert store.root == tmp_path / "relative"
    assert not store.root.exists()  # nothing is created until the first write
    assert "relative" in repr(store)


async def test_local_changed_bytes_are_detected_and_a_new_put_repairs(local: LocalBlobStore) -> None:
    await local.put(TENANT_A, KEY, b"original bytes")
    path = local.root / str(TENANT_A) / KEY
    path.write_bytes(b"original bytez")

    with pytest.raises(BlobCorrupted, match="documents/") as caught:
        await local.get(TENANT_A, KEY)
    assert caught.value.key == KEY
    assert caught.value.code == "blob_corrupted"
    assert caught.value.details["expected_sha256"] == sha256(b"original bytes")
    assert caught.value.details["actual_sha256"] == sha256(b"original bytez")
    assert await local.exists(TENANT_A, KEY) is True  # exists does not read

    await local.put(TENANT_A, KEY, b"original bytes")
    assert await local.get(TENANT_A, KEY) == b"original bytes"


async def test_local_truncated_file_is_detected(local: LocalBlobStore) -> None:
    await local.put(TENANT_A, KEY, b"0123456789")
    path = local.root / str(TENANT_A) / KEY
    path.write_bytes(b"01234")
    with pytest.raises(BlobCorrupted, match="not the"):
        await local.get(TENANT_A, KEY)


@pytest.mark.parametrize("damage", ["missing", "garbled"])
async def test_local_a_blob_without_a_usable_checksum_is_not_trusted(
    local: LocalBlobStore, damage: str
) -> None:
    await local.put(TENANT_A, KEY, b"abc")
    checksum = local.root / str(TENANT_A) / KEY_FOLDER / ".report.pdf.sha256"
    if damage == "missing":
        checksum.unlink()
    else:
        checksum.write_text("not a digest\n")
    with pytest.raises(BlobCorrupted, match="checksum file is missing or unreadable") as caught:
        await local.get(TENANT_A, KEY)
    assert caught.value.details["actual_sha256"] == ABC_SHA256


async def test_local_a_checksum_without_a_blob_reads_as_absent(local: LocalBlobStore) -> None:
    # What a crash between the two renames of a first write leaves behind.
    folder = local.root / str(TENANT_A) / KEY_FOLDER
    folder.mkdir(parents=True)
    (folder / ".report.pdf.sha256").write_text(f"{ABC_SHA256}  report.pdf\n")
    assert await local.exists(TENANT_A, KEY) is False
    with pytest.raises(NotFound):
        await local.get(TENANT_A, KEY)
    await local.put(TENANT_A, KEY, b"abc")
    assert await local.get(TENANT_A, KEY) == b"abc"


async def test_local_a_failed_write_leaves_the_old_blob_and_no_temporary_files(
    local: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await local.put(TENANT_A, KEY, b"old")
    before = files_under(local.root)

    def disk_full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(Unavailable, match=r"could not write .*No space left on device"):
        await local.put(TENANT_A, KEY, b"new, never flushed")
    with pytest.raises(Unavailable):
        await local.put(TENANT_A, blob_key(DOC_2, 1, "new.txt"), b"never flushed")
    monkeypatch.undo()

    assert files_under(local.root) == before
    assert await local.get(TENANT_A, KEY) == b"old"
    assert await local.exists(TENANT_A, blob_key(DOC_2, 1, "new.txt")) is False


async def test_local_deletes_remove_emptied_folders_but_keep_the_tenant_folder(
    local: LocalBlobStore,
) -> None:
    tenant_folder = local.root / str(TENANT_A)
    for key in (blob_key(DOC_1, 1, "a.txt"), blob_key(DOC_1, 2, "a.txt"), blob_key(DOC_2, 1, "b.txt")):
        await local.put(TENANT_A, key, b"x")

    assert await local.delete(TENANT_A, blob_key(DOC_1, 2, "a.txt")) is True
    assert not (tenant_folder / document_prefix(DOC_1) / "v2").exists()
    assert (tenant_folder / document_prefix(DOC_1) / "v1").is_dir()

    assert await local.delete_prefix(TENANT_A, document_prefix(DOC_1)) == 1
    assert not (tenant_folder / document_prefix(DOC_1)).exists()
    assert (tenant_folder / "documents").is_dir()  # DOC_2 still lives there

    assert await local.delete_prefix(TENANT_A, document_prefix(DOC_2)) == 1
    assert not (tenant_folder / "documents").exists()
    assert tenant_folder.is_dir()
    assert list(tenant_folder.iterdir()) == []


async def test_local_delete_prefix_sweeps_leftovers_without_counting_them(local: LocalBlobStore) -> None:
    await local.put(TENANT_A, KEY, b"x")
    folder = local.root / str(TENANT_A) / KEY_FOLDER
    (folder / ".a1b2c3d4.tmp").write_bytes(b"half a write")  # a crash mid-write
    (folder / ".gone.txt.sha256").write_text("orphan")  # a crash mid-delete
    assert await local.delete_prefix(TENANT_A, document_prefix(DOC_1)) == 1
    assert files_under(local.root) == []


async def test_local_refuses_keys_that_a_symlink_leads_outside_the_tenant(
    local: LocalBlobStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"not a blob")
    tenant_folder = local.root / str(TENANT_A)
    tenant_folder.mkdir(parents=True)
    (tenant_folder / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidInput, match=re.escape("'link/secret.txt' does not resolve to a path inside")):
        await local.get(TENANT_A, "link/secret.txt")
    with pytest.raises(InvalidInput, match="inside the tenant's folder"):
        await local.put(TENANT_A, "link/planted.txt", b"x")
    with pytest.raises(InvalidInput, match="inside the tenant's folder") as caught:
        await local.delete_prefix(TENANT_A, "link")
    assert caught.value.field == "prefix"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_local_another_tenant_folder_is_unreachable_through_a_symlink(local: LocalBlobStore) -> None:
    await local.put(TENANT_B, KEY, b"tenant b's document")
    tenant_a_folder = local.root / str(TENANT_A)
    tenant_a_folder.mkdir(parents=True)
    (tenant_a_folder / "documents").symlink_to(local.root / str(TENANT_B) / "documents")
    with pytest.raises(InvalidInput, match="inside the tenant's folder"):
        await local.get(TENANT_A, KEY)
    assert await local.get(TENANT_B, KEY) == b"tenant b's document"
