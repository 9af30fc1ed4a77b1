"""Blobs in a dict: the blob store of ``memory://`` and ``bootstrap()``, and of tests.

It keeps every promise of the port (tests/contract/test_contract_blob_store.py runs
the same suite against it and the local store), including the ones that only a file
system makes necessary, such as refusing a key that is both a blob and a folder: a
test that passes against memory must not fail against disk.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.model.document import sha256_hex
from tenantrag.domain.ports.blob_store import (
    BlobEntry,
    StoredBlob,
    check_tenant_id,
    key_is_under,
    validate_key,
    validate_prefix,
)


class MemoryBlobStore:
    """A :class:`~tenantrag.domain.ports.blob_store.BlobStore` holding bytes in memory."""

    def __init__(self) -> None:
        # One dict per tenant: scoping is structural, no lookup can cross tenants.
        # The bytes are immutable, so nothing can change them behind the checksum:
        # get needs no verification here.
        self._tenants: dict[uuid.UUID, dict[str, bytes]] = {}
        self._written: dict[tuple[uuid.UUID, str], datetime] = {}

    def _blobs(self, tenant_id: uuid.UUID) -> dict[str, bytes]:
        return self._tenants.get(check_tenant_id(tenant_id), {})

    async def put(self, tenant_id: uuid.UUID, key: str, data: bytes) -> StoredBlob:
        tenant_id, key = check_tenant_id(tenant_id), validate_key(key)
        data = bytes(data)  # a bytearray the caller changes later must not change the blob
        blobs = self._tenants.setdefault(tenant_id, {})
        for existing in blobs:
            if existing != key and (key_is_under(existing, key) or key_is_under(key, existing)):
                raise Conflict(
                    f"blob key {key!r} clashes with {existing!r}: a key is a blob or a folder, not both"
                )
        blobs[key] = data
        self._written[tenant_id, key] = datetime.now(UTC)
        return StoredBlob(key, len(data), sha256_hex(data))

    async def get(self, tenant_id: uuid.UUID, key: str) -> bytes:
        key = validate_key(key)
        try:
            return self._blobs(tenant_id)[key]
        except KeyError:
            raise NotFound("blob", repr(key)) from None

    async def exists(self, tenant_id: uuid.UUID, key: str) -> bool:
        key = validate_key(key)
        return key in self._blobs(tenant_id)

    async def delete(self, tenant_id: uuid.UUID, key: str) -> bool:
        key = validate_key(key)
        self._written.pop((tenant_id, key), None)
        return self._blobs(tenant_id).pop(key, None) is not None

    async def delete_prefix(self, tenant_id: uuid.UUID, prefix: str) -> int:
        prefix = validate_prefix(prefix)
        blobs = self._blobs(tenant_id)
        doomed = [key for key in blobs if key_is_under(key, prefix)]
        for key in doomed:
            del blobs[key]
            self._written.pop((tenant_id, key), None)
        return len(doomed)

    async def entries(self, tenant_id: uuid.UUID) -> list[BlobEntry]:
        tenant_id = check_tenant_id(tenant_id)
        blobs = self._blobs(tenant_id)
        return [BlobEntry(key, len(blobs[key]), self._written[tenant_id, key]) for key in sorted(blobs)]

    async def tenant_ids(self) -> list[uuid.UUID]:
        return sorted(tenant for tenant, blobs in self._tenants.items() if blobs)
