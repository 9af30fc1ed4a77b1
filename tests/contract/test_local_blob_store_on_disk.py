"""The local blob store on disk, which the memory store has no equivalent of: the folder layout
with a hidden sha256sum-style checksum beside each blob, a root made absolute at construction,
changed, truncated or unverifiable bytes detected at rest, atomic writes that leave no temporary
files, emptied folders removed, and symlinks that would lead outside the tenant's folder refused."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest

from tenantrag.adapters.blobs import LocalBlobStore
from tenantrag.domain.errors import InvalidInput, NotFound, Unavailable
from tenantrag.domain.ports.blob_store import BlobCorrupted, blob_key, document_prefix
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

KEY_FOLDER = f"documents/{DOC_1}/{UPLOAD_1}"  # where the local store keeps KEY and its checksum


@pytest.fixture
def local(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


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
        await local.put(TENANT_A, blob_key(DOC_2, UPLOAD_1, "new.txt"), b"never flushed")
    monkeypatch.undo()

    assert files_under(local.root) == before
    assert await local.get(TENANT_A, KEY) == b"old"
    assert await local.exists(TENANT_A, blob_key(DOC_2, UPLOAD_1, "new.txt")) is False


async def test_local_deletes_remove_emptied_folders_but_keep_the_tenant_folder(
    local: LocalBlobStore,
) -> None:
    tenant_folder = local.root / str(TENANT_A)
    for key in (
        blob_key(DOC_1, UPLOAD_1, "a.txt"),
        blob_key(DOC_1, UPLOAD_2, "a.txt"),
        blob_key(DOC_2, UPLOAD_1, "b.txt"),
    ):
        await local.put(TENANT_A, key, b"x")

    assert await local.delete(TENANT_A, blob_key(DOC_1, UPLOAD_2, "a.txt")) is True
    assert not (tenant_folder / document_prefix(DOC_1) / str(UPLOAD_2)).exists()
    assert (tenant_folder / document_prefix(DOC_1) / str(UPLOAD_1)).is_dir()

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
