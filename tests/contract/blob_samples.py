"""Sample values the blob store tests share: two tenants, two documents, a key, and the SHA-256
of b"abc" with the function that computes such digests."""

from __future__ import annotations

import hashlib
import uuid

from tenantrag.domain.ports.blob_store import blob_key

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


TENANT_A = uuid.UUID("0190f3a2-0000-7000-8000-00000000000a")
TENANT_B = uuid.UUID("0190f3a2-0000-7000-8000-00000000000b")
DOC_1 = uuid.UUID("0190f3a2-0000-7000-8000-000000000001")
DOC_2 = uuid.UUID("0190f3a2-0000-7000-8000-000000000002")
UPLOAD_1 = uuid.UUID("0190f3a2-0000-7000-8000-0000000000f1")
UPLOAD_2 = uuid.UUID("0190f3a2-0000-7000-8000-0000000000f2")
KEY = blob_key(DOC_1, UPLOAD_1, "report.pdf")
