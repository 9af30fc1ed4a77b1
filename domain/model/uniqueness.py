"""The data model's uniqueness rules: one name and one message per rule.

Every backend reports a clash as ``Conflict`` with ``details["rule"]`` set to the
rule's name, so callers (and the contract suite) can tell the rules apart whatever
the backend. The keys each rule covers live with each backend's schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs

from tenantrag.domain.errors import Conflict
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User

E = TypeVar("E")


@attrs.frozen
class UniqueRule(Generic[E]):
    rule: str
    describe: Callable[[E], str]

    def conflict(self, entity: E) -> Conflict:
        return Conflict(self.describe(entity), details={"rule": self.rule})


def primary_key(table: str, noun: str) -> UniqueRule[Any]:
    return UniqueRule(f"{table}.id", lambda e: f"a {noun} with id {e.id} already exists")


TENANT_SLUG = UniqueRule[Tenant]("tenants.slug", lambda t: f"a tenant with slug {t.slug!r} already exists")
USER_EMAIL = UniqueRule[User]("users.email", lambda u: f"a user with email {u.email!r} already exists")
MEMBERSHIP_TENANT_USER = UniqueRule[Membership](
    "memberships.tenant_user", lambda m: f"user {m.user_id} is already a member of tenant {m.tenant_id}"
)
DOCUMENT_STORAGE_KEY = UniqueRule[Document](
    "documents.storage_key",
    lambda d: f"a document with storage key {d.storage_key!r} already exists in this tenant",
)
DOCUMENT_SOURCE_KEY = UniqueRule[Document](
    "documents.source_key",
    lambda d: f"a document with source key {d.source_key!r} already exists in this tenant",
)
DOCUMENT_VERSION = UniqueRule[DocumentVersion](
    "document_versions.document_version",
    lambda dv: f"document {dv.document_id} already has a version {dv.version}",
)
CHUNK_DOCUMENT_ORDINAL = UniqueRule[Chunk](
    "chunks.document_ordinal",
    lambda c: f"document {c.document_id} already has a chunk with ordinal {c.ordinal}",
)
API_KEY_PREFIX = UniqueRule[ApiKey](
    "api_keys.prefix", lambda k: f"an API key with prefix {k.prefix!r} already exists"
)
