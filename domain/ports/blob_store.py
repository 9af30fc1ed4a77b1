"""The blob store port: where the original bytes of uploaded documents are kept.

The database holds a document's metadata; its original bytes live in a blob store
under ``Document.storage_key``. Keeping them lets a document be re-parsed or
re-embedded later (a better parser, a new embedding model) without asking the
user to upload it again.

Every store keeps these promises, checked by tests/contract/test_contract_blob_store.py:

* Tenant scoping: every call names the tenant, and the same key in two tenants is
  two unrelated blobs. A store cannot be asked for a blob without saying whose.
* Keys are relative, ``/``-separated paths that :func:`validate_key` accepts. The
  rules live here, not in each store, so a key one backend accepts every backend
  accepts, and a file-system backend never sees ``..``, an absolute path or a NUL.
* Integrity: a store records each blob's SHA-256 when it is written and checks it
  on every read, raising :class:`BlobCorrupted` rather than returning changed bytes.
* A key is either a blob or a folder of blobs, never both (file systems cannot do
  both), so every store refuses the clash with :class:`Conflict`.

Stores raise :class:`InvalidInput` for a bad key, :class:`NotFound` for a missing
blob, :class:`Conflict` for the clash above and :class:`Unavailable` when their
storage fails (a full disk, a permission problem).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Protocol

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput, TenantRagError
from tenantrag.domain.model.document import MAX_STORAGE_KEY_LENGTH

# Bytes, not characters: then a key fits documents.storage_key (1024 characters) and
# object stores such as S3, whose limit is 1024 bytes of UTF-8.
MAX_KEY_BYTES = MAX_STORAGE_KEY_LENGTH
# File systems limit one name to 255 bytes; a store may add a few bytes to name its
# own files beside a blob (a checksum, a temporary copy), so keys leave it room.
MAX_SEGMENT_BYTES = 200
# How much of an extension survives when blob_key shortens a long file name.
MAX_EXTENSION_CHARS = 16
DOCUMENTS_FOLDER = "documents"
FALLBACK_FILENAME = "file"

# A separator of either family: browsers and clients sometimes send a whole path
# ("C:\\fakepath\\scan.pdf"), of which only the last part is the file's name.
_SEPARATORS = re.compile(r"[/\\]")
_SHOWN_KEY_CHARS = 80


class BlobCorrupted(TenantRagError):
    """A stored blob no longer matches the SHA-256 recorded when it was written.

    Neither the caller's fault nor worth retrying: the bytes changed at rest (a disk
    error, a manual edit, a partial restore). Entrypoints that do not know the code
    answer it as a server error, which it is. Writing the blob again repairs it.
    """

    code = "blob_corrupted"

    def __init__(self, key: str, problem: str, *, expected: str | None = None, actual: str | None = None):
        super().__init__(
            f"blob {key!r} is corrupted: {problem}",
            details={"key": key, "expected_sha256": expected, "actual_sha256": actual},
        )
        self.key = key


def _valid_key(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    validate_key(value)


@attrs.frozen
class StoredBlob:
    """What a store reports after writing: callers record it on the Document."""

    key: str = attrs.field(validator=_valid_key)
    size_bytes: int = attrs.field(validator=v.is_count())
    sha256: str = attrs.field(validator=v.is_sha256())


@attrs.frozen
class BlobEntry:
    """One stored blob, as a listing shows it (for ``tenantrag blobs check``)."""

    key: str
    size_bytes: int
    modified_at: datetime


class BlobStore(Protocol):
    """Original document bytes, per tenant, by key (see the module docstring for the rules)."""

    async def put(self, tenant_id: uuid.UUID, key: str, data: bytes) -> StoredBlob:
        """Store ``data`` under ``key``, replacing any blob there: readers see the old
        bytes or the new, never a mix. Conflict if ``key`` is a folder of blobs or lies
        under a blob."""
        ...

    async def get(self, tenant_id: uuid.UUID, key: str) -> bytes:
        """The bytes under ``key``. NotFound if there are none; BlobCorrupted if they no
        longer match the checksum recorded when they were written."""
        ...

    async def exists(self, tenant_id: uuid.UUID, key: str) -> bool:
        """Whether a blob is stored under ``key`` (without reading or checking it)."""
        ...

    async def delete(self, tenant_id: uuid.UUID, key: str) -> bool:
        """Remove the blob under ``key``: True if one was there, False if not, so a
        retried delete is harmless."""
        ...

    async def delete_prefix(self, tenant_id: uuid.UUID, prefix: str) -> int:
        """Remove the blob named ``prefix`` and every blob under ``prefix/`` (whole path
        segments: ``a/b`` does not reach ``a/bc``), returning how many were removed.
        ``document_prefix(document_id)`` names every version of one document."""
        ...

    async def entries(self, tenant_id: uuid.UUID) -> list[BlobEntry]:
        """Every blob of the tenant, by key (the store's own files are not blobs)."""
        ...

    async def tenant_ids(self) -> list[uuid.UUID]:
        """The tenants the store holds blobs for, in order."""
        ...


# --- keys ---------------------------------------------------------------------------


def _shown(key: str) -> str:
    """The key as error messages quote it: repr (so NUL and newlines are visible), cut short."""
    shown = repr(key)
    return shown if len(shown) <= _SHOWN_KEY_CHARS else shown[: _SHOWN_KEY_CHARS - 4] + "...'"


def _key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid blob key, or None if it is."""
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        return "must be valid Unicode (it holds a lone surrogate)"
    segments = key.split("/")
    # In order: the first rule broken is the one reported.
    rules = (
        (not key, "must not be empty"),
        (size > MAX_KEY_BYTES, f"must be at most {MAX_KEY_BYTES} bytes of UTF-8 (got {size})"),
        ("\x00" in key, "must not contain NUL characters"),
        (
            any(unicodedata.category(char) == "Cc" for char in key),
            "must not contain control characters (newlines, tabs, escapes)",
        ),
        ("\\" in key, "must separate folders with '/', not backslashes"),
        (key.startswith("/"), "must be relative, not start with '/'"),
        ("" in segments, "must not have empty segments ('//' or a trailing '/')"),
        (any(s in {".", ".."} for s in segments), "must not contain '.' or '..' segments"),
        # A leading dot is reserved for the stores' own files (checksums, temporary
        # copies): then no key can ever name one of them.
        (any(s.startswith(".") for s in segments), "must not have a segment starting with '.'"),
        (
            any(len(s.encode()) > MAX_SEGMENT_BYTES for s in segments),
            f"must not have a segment longer than {MAX_SEGMENT_BYTES} bytes of UTF-8",
        ),
    )
    return next((problem for broken, problem in rules if broken), None)


def validate_key(key: object, *, field: str = "key") -> str:
    """Return ``key`` if it is a valid blob key, else raise InvalidInput quoting it."""
    if not isinstance(key, str):
        raise InvalidInput(field, f"must be a string, not {type(key).__name__}")
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidInput(field, f"{_shown(key)} {problem}")
    return key


def validate_prefix(prefix: object) -> str:
    """A prefix is a key (one trailing '/' tolerated); empty is refused, as it would
    mean every blob of the tenant, which no caller should reach by accident."""
    if isinstance(prefix, str) and prefix.endswith("/") and prefix != "/":
        prefix = prefix[:-1]
    if prefix == "":
        raise InvalidInput("prefix", "'' must not be empty (it would name every blob of the tenant)")
    return validate_key(prefix, field="prefix")


def key_is_under(key: str, prefix: str) -> bool:
    """Whether ``delete_prefix(prefix)`` reaches ``key``: by whole segments, so that
    ``a/b`` reaches ``a/b`` and ``a/b/c`` but not ``a/bc``."""
    return key == prefix or key.startswith(prefix + "/")


def check_tenant_id(tenant_id: object) -> uuid.UUID:
    """Stores name folders and map keys after the tenant id: only a real UUID will do."""
    if not isinstance(tenant_id, uuid.UUID):
        raise InvalidInput("tenant_id", f"must be a UUID, got {tenant_id!r:.60}")
    return tenant_id


def _truncate_utf8(text: str, max_bytes: int) -> str:
    # errors="ignore" drops a character cut in half rather than leaving invalid UTF-8.
    return text.encode()[:max_bytes].decode(errors="ignore")


def _shorten(name: str) -> str:
    """Cut ``name`` to MAX_SEGMENT_BYTES, keeping a short extension so the type stays visible."""
    if len(name.encode()) <= MAX_SEGMENT_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION_CHARS:
        return _truncate_utf8(name, MAX_SEGMENT_BYTES)
    suffix = dot + extension
    return _truncate_utf8(stem, MAX_SEGMENT_BYTES - len(suffix.encode())) + suffix


def _is_safe_char(char: str) -> bool:
    # Letters, digits and combining marks of any script (so a Hindi or Japanese name
    # keeps its characters), and the three punctuation marks every file system takes.
    return unicodedata.category(char)[0] in "LNM" or char in "-_."


def safe_filename(filename: str) -> str:
    """The last part of ``filename``, reduced to characters safe in any file system and URL.

    NFC-normalised (so the same name typed on macOS and Linux gives the same key), every
    run of other characters (spaces, slashes, controls, emoji, bidi overrides) becomes one
    ``_``, leading dots and dashes go (hidden files, command-line options) and so do
    trailing dots (Windows drops them). Never empty, never longer than MAX_SEGMENT_BYTES,
    and idempotent. The original name is kept on the Document; this one is only for keys.
    """
    parts = [part for part in _SEPARATORS.split(unicodedata.normalize("NFC", filename)) if part]
    base = parts[-1] if parts else ""
    cleaned: list[str] = []
    replacing = False
    for char in base:
        if _is_safe_char(char):
            cleaned.append(char)
        elif not replacing:
            cleaned.append("_")
        # Only runs of replaced characters collapse: an "_" of the original is kept,
        # which is what makes the function idempotent.
        replacing = not _is_safe_char(char)
    name = "".join(cleaned).lstrip(".-").rstrip(".")
    name = _shorten(name).rstrip(".")
    return name or FALLBACK_FILENAME


def document_prefix(document_id: uuid.UUID) -> str:
    """The prefix holding every version of one document's original, for delete_prefix."""
    if not isinstance(document_id, uuid.UUID):
        raise InvalidInput("document_id", f"must be a UUID, got {document_id!r:.60}")
    return f"{DOCUMENTS_FOLDER}/{document_id}"


def blob_key(document_id: uuid.UUID, upload_id: uuid.UUID, filename: str) -> str:
    """The key of one upload of a document's original: ``documents/<id>/<upload id>/<name>``.

    ``upload_id`` is new for every submit (``new_id()``), so no two writers ever share a
    key: two requests racing to give one document new content cannot overwrite each
    other's bytes, whichever transaction wins, and a submit whose transaction fails
    deletes only its own blob. A folder per document, so deleting it is one
    delete_prefix. The name is :func:`safe_filename` of ``filename``. (Keys written
    before this scheme, ``documents/<id>/v<version>/<name>``, stay valid: the key is
    recorded on the version.)
    """
    prefix = document_prefix(document_id)
    if not isinstance(upload_id, uuid.UUID):
        raise InvalidInput("upload_id", f"must be a UUID, got {upload_id!r:.60}")
    name = safe_filename(v.text("filename", filename))
    return validate_key(f"{prefix}/{upload_id}/{name}")
