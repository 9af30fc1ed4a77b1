"""Rows for the SQLite integrity tests: one tenant with a row in every tenant table, owned by one
user, with counts per tenant table, and the file behind a SQLite URL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.sql import schema

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


# --- rows ------------------------------------------------------------------------------------------


def _tenant() -> dict[str, Any]:
    tenant_id = uuid.uuid4()
    return {
        "id": tenant_id,
        "name": "Acme",
        "slug": f"acme-{tenant_id.hex[:8]}",
        "settings": {},
        "created_at": NOW,
        "updated_at": NOW,
    }


def _user() -> dict[str, Any]:
    user_id = uuid.uuid4()
    return {
        "id": user_id,
        "email": f"{user_id.hex[:8]}@example.com",
        "full_name": "Ada",
        "password_hash": None,
        "is_active": True,
        "is_superuser": False,
        "last_login_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _document(tenant_id: uuid.UUID, user_id: uuid.UUID | None) -> dict[str, Any]:
    document_id = uuid.uuid4()
    return {
        "tenant_id": tenant_id,
        "id": document_id,
        "uploaded_by": user_id,
        "filename": "cats.md",
        "title": "Cats",
        "media_type": "text/markdown",
        "size_bytes": 10,
        "status": "completed",
        "error_message": None,
        "storage_key": f"{tenant_id}/{document_id}",
        "content_sha256": None,
        "version": 1,
        "metadata": {},
        "tags": ["demo"],
        "chunk_count": 1,
        "processed_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _chunk(tenant_id: uuid.UUID, document_id: uuid.UUID) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": uuid.uuid4(),
        "document_id": document_id,
        "ordinal": 0,
        "content": "Cats purr.",
        "content_sha256": "0" * 64,
        "embedding": (1.0,) + (0.0,) * (schema.DEFAULT_DIMENSION - 1),
        "token_count": 2,
        "metadata": {},
        "created_at": NOW,
    }


def _job(tenant_id: uuid.UUID, document_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": uuid.uuid4(),
        "document_id": document_id,
        "kind": "ingest",
        "status": "succeeded",
        "progress": 100,
        "summary": "",
        "attempts": 1,
        "lease_expires_at": None,
        "error": None,
        "created_at": NOW,
        "updated_at": NOW,
        "started_at": NOW,
        "finished_at": NOW,
    }


async def _seed(connection: AsyncConnection) -> dict[str, Any]:
    """One tenant with a row in every tenant table, owned by one user."""
    tenant, user = _tenant(), _user()
    t, u = tenant["id"], user["id"]
    document = _document(t, u)
    session_id = uuid.uuid4()
    rows: list[tuple[sa.Table, dict[str, Any]]] = [
        (schema.tenants, tenant),
        (schema.users, user),
        (
            schema.memberships,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "role": "owner",
                "is_active": True,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),
        (schema.documents, document),
        (
            schema.document_versions,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "document_id": document["id"],
                "version": 1,
                "status": "active",
                "content_sha256": "0" * 64,
                "size_bytes": 0,
                "media_type": "text/plain",
                "storage_key": f"documents/{document['id']}/v1/a.txt",
                "chunk_count": 1,
                "reused_chunks": 0,
                "error": None,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),
        (schema.chunks, _chunk(t, document["id"])),
        (schema.jobs, _job(t, document["id"])),
        (schema.jobs, _job(t, None)),
        (
            schema.api_keys,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "name": "ci",
                "prefix": uuid.uuid4().hex[:12],
                "secret_hash": "0" * 64,
                "role_cap": "member",
                "created_at": NOW,
                "last_used_at": None,
                "usage_count": 0,
                "expires_at": None,
                "revoked_at": None,
            },
        ),
        (
            schema.query_logs,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "query": "why do cats purr?",
                "response": None,
                "sources": [],
                "latency_ms": None,
                "token_count": None,
                "quality_score": None,
                "feedback": None,
                "metadata": {},
                "created_at": NOW,
            },
        ),
        (
            schema.chat_sessions,
            {
                "tenant_id": t,
                "id": session_id,
                "user_id": u,
                "title": "Cats",
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),
        (
            schema.messages,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "session_id": session_id,
                "role": "user",
                "content": "hello",
                "created_at": NOW,
            },
        ),
        (
            schema.evaluation_runs,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "parameters": {"modes": ["hybrid"]},
                "metrics": {"hybrid": {"ndcg@10": 0.5}},
                "per_query": {"hybrid": {"q1": {"ndcg@10": 0.5}}},
                "created_at": NOW,
            },
        ),
        (
            schema.invitations,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "email": "invitee@example.com",
                "role": "member",
                "invited_by": u,
                "created_at": NOW,
                "expires_at": NOW,
            },
        ),
        (
            schema.audit_entries,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "actor_kind": "user",
                "actor_id": u,
                "action": "member.add",
                "target_kind": "user",
                "target_id": u,
                "outcome": "succeeded",
                "details": {"role": "owner"},
                "created_at": NOW,
            },
        ),
    ]
    for table, row in rows:
        await connection.execute(table.insert().values(row))
    return {"tenant_id": t, "user_id": u, "document_id": document["id"], "session_id": session_id}


async def _count(connection: AsyncConnection, table: sa.Table, tenant_id: uuid.UUID) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
    return int((await connection.execute(query)).scalar_one())


async def _counts(connection: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, int]:
    return {table.name: await _count(connection, table, tenant_id) for table in schema.TENANT_TABLES}
