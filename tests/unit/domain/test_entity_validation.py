"""Every entity refuses bad values with an InvalidInput that names the field."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.api_key import ApiKey, generate_key
from tenantrag.domain.model.chat import Message
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.model.embedding_model import MAX_DIMENSION, EmbeddingModel
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.model.tenant import Tenant, slugify
from tenantrag.domain.model.user import User

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ID = uuid.uuid4()


def valid() -> dict[str, Any]:
    key = generate_key()
    return {
        "tenant": Tenant(id=ID, name="Acme", slug="acme", created_at=T0, updated_at=T0),
        "user": User(id=ID, email="a@example.com", created_at=T0, updated_at=T0),
        "membership": Membership(
            id=ID, tenant_id=ID, user_id=ID, role="member", created_at=T0, updated_at=T0
        ),
        "document": Document(
            id=ID, tenant_id=ID, filename="a.txt", storage_key="k", created_at=T0, updated_at=T0
        ),
        "chunk": Chunk(
            id=ID,
            tenant_id=ID,
            document_id=ID,
            ordinal=0,
            content="x",
            content_sha256=sha256_hex("x"),
            embedding=(1.0, 0.0),
            created_at=T0,
        ),
        "api_key": ApiKey(
            id=ID,
            tenant_id=ID,
            user_id=ID,
            name="ci",
            prefix=key.prefix,
            secret_hash=key.secret_hash,
            role_cap="viewer",
            created_at=T0,
        ),
        "query_log": QueryLog(id=ID, tenant_id=ID, query="q", created_at=T0),
        "message": Message(id=ID, tenant_id=ID, session_id=ID, role="user", content="hi", created_at=T0),
        "embedding_model": EmbeddingModel(name="hashing", dimension=MAX_DIMENSION, created_at=T0),
    }


BAD = [
    ("tenant", "slug", "Not A Slug"),
    ("tenant", "slug", "-edge-"),
    ("tenant", "name", "   "),
    ("tenant", "name", "x" * 300),
    ("tenant", "id", "not-a-uuid"),
    ("tenant", "created_at", datetime(2026, 1, 1)),  # naive
    ("tenant", "settings", {"when": datetime(2026, 1, 1, tzinfo=UTC)}),
    ("tenant", "settings", {"big": "x" * 70_000}),
    ("tenant", "settings", {"nan": math.nan}),
    ("user", "email", "not-an-email"),
    ("user", "email", "two@@example.com"),
    ("membership", "role", "superboss"),
    ("document", "status", "exploded"),
    ("document", "size_bytes", -1),
    ("document", "version", 0),
    ("document", "media_type", "plain"),
    ("document", "content_sha256", "abc"),
    ("document", "tags", ["x" * 65]),
    ("document", "filename", "a\x00b"),
    ("chunk", "embedding", (1.0, math.nan)),
    ("chunk", "embedding", (math.inf, 0.0)),
    ("chunk", "embedding", ()),
    ("chunk", "embedding", ("a", "b")),
    ("chunk", "ordinal", -1),
    ("chunk", "metadata", {"x": object()}),
    ("api_key", "prefix", "SHORT"),
    ("api_key", "role_cap", "god"),
    ("api_key", "expires_at", T0),
    ("query_log", "quality_score", 1.5),
    ("query_log", "feedback", "meh"),
    ("query_log", "latency_ms", -3),
    ("message", "role", "robot"),
    ("message", "content", ""),
    ("embedding_model", "dimension", 0),
    ("embedding_model", "dimension", MAX_DIMENSION + 1),
    ("embedding_model", "name", "x" * 256),
]


@pytest.mark.parametrize(
    ("entity", "field", "value"), BAD, ids=[f"{e}.{f}-{i}" for i, (e, f, _) in enumerate(BAD)]
)
def test_bad_value_is_refused_naming_the_field(entity: str, field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        attrs.evolve(valid()[entity], **{field: value})
    assert raised.value.field == field
    assert field in str(raised.value)


def test_values_are_normalised() -> None:
    entities = valid()
    user = attrs.evolve(entities["user"], email="  Alice@Example.COM ")
    assert user.email == "alice@example.com"
    document = attrs.evolve(entities["document"], tags=["b", "a", "b", " a "], media_type="Text/Markdown")
    assert document.tags == ("a", "b")
    assert document.media_type == "text/markdown"


def test_json_fields_are_copied_so_callers_cannot_mutate_an_entity() -> None:
    settings = {"nested": {"k": 1}}
    tenant = attrs.evolve(valid()["tenant"], settings=settings)
    settings["nested"]["k"] = 2
    assert tenant.settings == {"nested": {"k": 1}}


def test_slugify_makes_url_safe_slugs() -> None:
    assert slugify("Demo Workspace") == "demo-workspace"
    assert slugify("  Café   Crème!! ") == "cafe-creme"
    with pytest.raises(InvalidInput):
        slugify("!!!")
