"""Blob stores: where the original bytes of uploaded documents are kept.

Two implementations of :class:`tenantrag.domain.ports.blob_store.BlobStore`, held to
the same contract suite (tests/contract/test_contract_blob_store.py):

* :class:`LocalBlobStore`: files under ``<root>/<tenant_id>/<key>``, written atomically,
  with a SHA-256 checked on every read. For the SQLite and PostgreSQL backends on one host.
* :class:`MemoryBlobStore`: a dict, for ``memory://``, ``bootstrap()`` and tests.

    store = LocalBlobStore(Path("/var/lib/tenantrag/blobs"))
    key = blob_key(document.id, document.version, document.filename)
    stored = await store.put(tenant_id, key, data)
"""

from tenantrag.adapters.blobs.local import LocalBlobStore
from tenantrag.adapters.blobs.memory import MemoryBlobStore

__all__ = ["LocalBlobStore", "MemoryBlobStore"]
