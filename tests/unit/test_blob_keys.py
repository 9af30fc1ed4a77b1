"""Blob keys: what blob_key builds, what safe_filename keeps, and what validate_key refuses.

The stores' behaviour is in tests/contract/test_contract_blob_store.py; these are the
pure rules of domain/ports/blob_store.py that every store relies on.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import MAX_STORAGE_KEY_LENGTH
from tenantrag.domain.ports.blob_store import (
    MAX_KEY_BYTES,
    MAX_SEGMENT_BYTES,
    BlobCorrupted,
    StoredBlob,
    blob_key,
    document_prefix,
    key_is_under,
    safe_filename,
    validate_key,
    validate_prefix,
)

DOCUMENT_ID = uuid.UUID("0190f3a2-7b1c-7d4e-8f00-000000000001")
UPLOAD_ID = uuid.UUID("0190f3a2-7b1c-7d4e-8f00-0000000000a1")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_blob_key_is_documents_id_upload_and_safe_name() -> None:
    key = blob_key(DOCUMENT_ID, UPLOAD_ID, "Quarterly Report.pdf")
    assert key == f"documents/{DOCUMENT_ID}/{UPLOAD_ID}/Quarterly_Report.pdf"
    assert key.startswith(document_prefix(DOCUMENT_ID) + "/")
    assert document_prefix(DOCUMENT_ID) == f"documents/{DOCUMENT_ID}"


def test_uploads_of_one_document_get_different_keys_under_one_prefix() -> None:
    keys = {blob_key(DOCUMENT_ID, uuid.uuid4(), "a.txt") for _ in range(3)}
    assert len(keys) == 3
    assert all(key_is_under(key, document_prefix(DOCUMENT_ID)) for key in keys)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        pytest.param("report.pdf", "report.pdf", id="plain"),
        pytest.param("archive.tar.gz", "archive.tar.gz", id="double-extension"),
        pytest.param("my report (final).pdf", "my_report_final_.pdf", id="spaces-and-brackets"),
        pytest.param("../../etc/passwd", "passwd", id="traversal"),
        pytest.param("C:\\fakepath\\scan.pdf", "scan.pdf", id="windows-path"),
        pytest.param("notes/", "notes", id="trailing-slash"),
        pytest.param(".bashrc", "bashrc", id="hidden"),
        pytest.param("...", "file", id="only-dots"),
        pytest.param("..", "file", id="dot-dot"),
        pytest.param("-rf", "rf", id="option-like"),
        pytest.param("name.", "name", id="trailing-dot"),
        pytest.param("a\nb\tc.txt", "a_b_c.txt", id="controls"),
        pytest.param("a__?b", "a___b", id="original-underscores-kept"),
        pytest.param("\u202egpj.exe", "_gpj.exe", id="bidi-override"),
        pytest.param("🙂🙂.png", "_.png", id="emoji"),
        pytest.param("日本語.txt", "日本語.txt", id="japanese"),
        pytest.param("हिन्दी.md", "हिन्दी.md", id="combining-marks"),
        pytest.param("bad\udc80name", "bad_name", id="lone-surrogate"),
    ],
)
def test_safe_filename(filename: str, expected: str) -> None:
    assert safe_filename(filename) == expected


def test_safe_filename_normalises_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "résumé.pdf")
    assert decomposed != "résumé.pdf"
    assert safe_filename(decomposed) == "résumé.pdf"


def test_long_names_are_cut_to_the_segment_limit_keeping_the_extension() -> None:
    name = safe_filename("x" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) == MAX_SEGMENT_BYTES


def test_long_multibyte_names_are_cut_between_characters() -> None:
    name = safe_filename("é" * 200 + ".txt")  # 2 bytes each
    assert name == "é" * ((MAX_SEGMENT_BYTES - 4) // 2) + ".txt"
    assert len(name.encode()) <= MAX_SEGMENT_BYTES


def test_a_long_extension_is_not_kept_whole() -> None:
    name = safe_filename("a." + "b" * 300)
    assert len(name.encode()) == MAX_SEGMENT_BYTES
    assert name.startswith("a.bbb")


@given(st.text(max_size=400))
def test_safe_filename_is_a_valid_idempotent_segment(filename: str) -> None:
    name = safe_filename(filename)
    assert validate_key(name) == name  # one valid segment: no '/', no leading dot, short
    assert "/" not in name
    assert "\\" not in name
    assert not name.startswith(("-", "."))
    assert not name.endswith(".")
    assert 0 < len(name.encode()) <= MAX_SEGMENT_BYTES
    assert safe_filename(name) == name


@given(
    upload=st.uuids(),
    filename=st.text(min_size=1, max_size=255).filter(lambda s: s.strip() and "\x00" not in s),
)
def test_every_blob_key_is_valid_and_fits_storage_key(upload: uuid.UUID, filename: str) -> None:
    key = blob_key(DOCUMENT_ID, upload, filename)
    assert validate_key(key) == key
    assert key.startswith(f"documents/{DOCUMENT_ID}/{upload}/")
    assert len(key.encode()) <= MAX_KEY_BYTES
    assert len(key) <= MAX_STORAGE_KEY_LENGTH


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param((str(DOCUMENT_ID), UPLOAD_ID, "a.txt"), "document_id", id="id-as-string"),
        pytest.param((DOCUMENT_ID, 1, "a.txt"), "upload_id", id="upload-number"),
        pytest.param((DOCUMENT_ID, str(UPLOAD_ID), "a.txt"), "upload_id", id="upload-string"),
        pytest.param((DOCUMENT_ID, UPLOAD_ID, ""), "filename", id="filename-empty"),
        pytest.param((DOCUMENT_ID, UPLOAD_ID, "   "), "filename", id="filename-blank"),
        pytest.param((DOCUMENT_ID, UPLOAD_ID, "a\x00b"), "filename", id="filename-nul"),
        pytest.param((DOCUMENT_ID, UPLOAD_ID, "a" * 256), "filename", id="filename-too-long"),
        pytest.param((DOCUMENT_ID, UPLOAD_ID, b"a.txt"), "filename", id="filename-bytes"),
    ],
)
def test_blob_key_rejects_bad_arguments_naming_the_field(arguments: tuple[object, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        blob_key(*arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


VALID_KEYS = [
    "a",
    "documents/x/v1/report.pdf",
    "a/b.c/d",
    "日本語/ファイル.txt",
    "with space/and:colon",
    "x" * MAX_SEGMENT_BYTES,
    "/".join(["y" * 99] * 10),  # 999 bytes
]


@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_keys_are_accepted_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        pytest.param("", "must not be empty", id="empty"),
        pytest.param("../x", "'..' segments", id="parent"),
        pytest.param("a/../../b", "'..' segments", id="parent-inside"),
        pytest.param("a/./b", "'..' segments", id="dot"),
        pytest.param("..", "'..' segments", id="only-parent"),
        pytest.param("/etc/passwd", "must be relative", id="absolute"),
        pytest.param("a\\b", "backslashes", id="backslash"),
        pytest.param("..\\..\\windows", "backslashes", id="windows-traversal"),
        pytest.param("a\x00b", "NUL", id="nul"),
        pytest.param("a\nb", "control characters", id="newline"),
        pytest.param("a\x1b[31m", "control characters", id="escape"),
        pytest.param("a//b", "empty segments", id="double-slash"),
        pytest.param("a/", "empty segments", id="trailing-slash"),
        pytest.param("a/.hidden", "starting with '.'", id="hidden"),
        pytest.param("a/.b.sha256", "starting with '.'", id="checksum-name"),
        pytest.param("x" * (MAX_SEGMENT_BYTES + 1), "segment longer", id="long-segment"),
        pytest.param("/".join(["y" * 100] * 11), "at most 1024 bytes", id="too-long"),
        # 605 characters, which would fit the column, but 1205 bytes.
        pytest.param("/".join(["é" * 100] * 6), "at most 1024 bytes", id="too-long-in-bytes"),
        pytest.param("a\udc80", "lone surrogate", id="surrogate"),
    ],
)
def test_invalid_keys_are_rejected_with_a_message_naming_the_key(key: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_key(key)
    assert caught.value.field == "key"
    assert rule in caught.value.problem
    # The key is quoted (repr, so a NUL or newline shows), cut short if long.
    assert repr(key)[:40] in caught.value.message


def test_a_long_invalid_key_is_quoted_cut_short() -> None:
    key = "../" + "z" * 5000
    with pytest.raises(InvalidInput) as caught:
        validate_key(key)
    assert caught.value.message.startswith("key: '../zzz")
    assert "...'" in caught.value.message
    assert len(caught.value.message) < 200


def test_a_key_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="must be a string, not bytes"):
        validate_key(b"a/b")


def test_prefixes_are_keys_with_an_optional_trailing_slash() -> None:
    assert validate_prefix("documents/x/") == "documents/x"
    assert validate_prefix("documents/x") == "documents/x"
    with pytest.raises(InvalidInput, match="every blob of the tenant") as caught:
        validate_prefix("")
    assert caught.value.field == "prefix"
    with pytest.raises(InvalidInput, match="must be relative") as caught:
        validate_prefix("/")
    assert caught.value.field == "prefix"
    with pytest.raises(InvalidInput, match=re.escape("'..' segments")):
        validate_prefix("../")


@pytest.mark.parametrize(
    ("key", "prefix", "under"),
    [
        ("a/b", "a/b", True),
        ("a/b/c", "a/b", True),
        ("a/b/c/d", "a", True),
        ("a/bc", "a/b", False),
        ("a/bc/d", "a/b", False),
        ("a", "a/b", False),
    ],
)
def test_key_is_under_works_by_whole_segments(key: str, prefix: str, under: bool) -> None:
    assert key_is_under(key, prefix) is under


def test_stored_blob_validates_its_fields() -> None:
    blob = StoredBlob("a/b", 0, EMPTY_SHA256)
    assert (blob.key, blob.size_bytes, blob.sha256) == ("a/b", 0, EMPTY_SHA256)
    with pytest.raises(InvalidInput, match="sha256"):
        StoredBlob("a/b", 0, EMPTY_SHA256.upper())
    with pytest.raises(InvalidInput, match="size_bytes"):
        StoredBlob("a/b", -1, EMPTY_SHA256)
    with pytest.raises(InvalidInput, match=re.escape("'../b'")):
        StoredBlob("../b", 0, EMPTY_SHA256)


def test_blob_corrupted_names_the_key_and_both_checksums() -> None:
    error = BlobCorrupted("a/b", "it changed", expected="e" * 64, actual="a" * 64)
    assert error.code == "blob_corrupted"
    assert error.message == "blob 'a/b' is corrupted: it changed"
    assert error.details == {"key": "a/b", "expected_sha256": "e" * 64, "actual_sha256": "a" * 64}
