"""Which rows a SQLite search may return: the tenant's chunks joined to their documents,
narrowed by the search's filter, compiled by the one filter compiler (adapters/sql/filters.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.filters import compile_filter
from tenantrag.domain.search import SearchFilter

Condition = ColumnElement[bool]
chunks, documents = schema.chunks, schema.documents


def joined() -> Any:
    """chunks JOIN documents on their key (tenant_id, document_id)."""
    c, d = chunks.c, documents.c
    return chunks.join(documents, and_(d.tenant_id == c.tenant_id, d.id == c.document_id))


def conditions(tenant_id: uuid.UUID, wanted: SearchFilter) -> list[Condition]:
    """The tenant (on both tables: each statement binds it, as the isolation tests check)
    and the filter, all values bound."""
    found: list[Condition] = [chunks.c.tenant_id == tenant_id, documents.c.tenant_id == tenant_id]
    if wanted.where is not None:
        found.append(compile_filter(wanted.where, chunks=chunks, documents=documents, dialect_name="sqlite"))
    return found
