"""Rows to entities and back: one declaration per table.

No ORM: entities are frozen attrs classes whose validation runs on construction,
so a row that comes back from the database is re-validated like any other input,
and JSON columns are decoded into fresh dicts (nothing is shared with a cache).

An entity's fields are its table's columns, by name, and ``Mapper`` checks that
when it is declared, so a field added to one and not the other fails at import.
Values pass unchanged, except that enums are stored as their values (the entities'
converters read them back) and a ``Convert`` may be given per column for the rest.
What a key means (rules, messages, parents) is read from the schema: constraints.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Generic, TypeVar

import attrs
from sqlalchemy import Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.types import TypeEngine

from tenantrag.adapters.sql import constraints, schema
from tenantrag.adapters.sql.constraints import Reference, UniqueRule
from tenantrag.adapters.sql.dialect import EmbeddingCodec
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.audit_entry import AuditEntry
from tenantrag.domain.model.chat import ChatSession, Message
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.model.evaluation_run import EvaluationRun
from tenantrag.domain.model.invitation import Invitation
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.query_log import QueryLog, SourceRef
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.ports.repositories import StoredEntity

E = TypeVar("E", bound=StoredEntity)
Row = RowMapping


@attrs.frozen
class Convert:
    """How one column differs from its field: functions each way, and the type to bind
    and read it with when that is not the schema's (the dialect's embeddings)."""

    to_column: Callable[[Any], Any] | None = None
    from_column: Callable[[Any], Any] | None = None
    column_type: TypeEngine[Any] | None = None


class Mapper(Generic[E]):
    def __init__(self, entity: type[E], table: Table, **converters: Convert) -> None:
        fields = {field.name for field in attrs.fields(entity)}  # type: ignore[arg-type]
        columns = set(table.columns.keys())
        if fields != columns or not set(converters) <= columns:
            raise TypeError(
                f"{entity.__name__} and table {table.name} differ: fields only {sorted(fields - columns)},"
                f" columns only {sorted(columns - fields)}, converters {sorted(set(converters) - columns)}"
            )
        self.entity = entity
        self.table = table
        self.noun = constraints.noun(table)
        rules = constraints.rules(table)
        # Keyed by the constraint's columns, as a database error names them.
        self.uniques = rules.uniques
        self.references: tuple[Reference, ...] = rules.references
        self.column_types = {
            name: c.column_type for name, c in converters.items() if c.column_type is not None
        }
        names = list(table.columns.keys())
        self._to = [(name, converters[name].to_column if name in converters else None) for name in names]
        self._from = [(name, converters[name].from_column if name in converters else None) for name in names]
        # Statements built once for this table and reused with new bind values (tables.Rows):
        # building one cost more than a primary-key lookup on the server.
        self.statements: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.table.name

    def to_row(self, entity: E) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, convert in self._to:
            value = getattr(entity, name)
            if convert is not None:
                value = convert(value)
            elif isinstance(value, Enum):
                value = value.value
            row[name] = value
        return row

    def from_row(self, row: Row) -> E:
        return self.entity(
            **{name: row[name] if convert is None else convert(row[name]) for name, convert in self._from}
        )

    def unique(self, columns: Iterable[str]) -> UniqueRule | None:
        """The rule a unique violation on ``columns`` broke (the primary key is ``<table>.id``)."""
        return self.uniques.get(frozenset(columns))

    def __repr__(self) -> str:
        return f"Mapper({self.entity.__name__}, {self.table.name})"


def _sources_to_json(sources: tuple[SourceRef, ...]) -> list[dict[str, Any]]:
    return [{"chunk_id": str(s.chunk_id), "score": s.score} for s in sources]


def _sources_from_json(sources: list[dict[str, Any]]) -> tuple[SourceRef, ...]:
    return tuple(SourceRef(uuid.UUID(s["chunk_id"]), s["score"]) for s in sources)


EMBEDDING_MODELS = Mapper(EmbeddingModel, schema.embedding_models)
TENANTS = Mapper(Tenant, schema.tenants)
USERS = Mapper(User, schema.users)
MEMBERSHIPS = Mapper(Membership, schema.memberships)
DOCUMENTS = Mapper(Document, schema.documents, tags=Convert(to_column=list))
DOCUMENT_VERSIONS = Mapper(DocumentVersion, schema.document_versions)
API_KEYS = Mapper(ApiKey, schema.api_keys)
JOBS = Mapper(Job, schema.jobs)
QUERY_LOGS = Mapper(QueryLog, schema.query_logs, sources=Convert(_sources_to_json, _sources_from_json))
CHAT_SESSIONS = Mapper(ChatSession, schema.chat_sessions)
MESSAGES = Mapper(Message, schema.messages)
EVALUATION_RUNS = Mapper(EvaluationRun, schema.evaluation_runs)
INVITATIONS = Mapper(Invitation, schema.invitations)
AUDIT_ENTRIES = Mapper(AuditEntry, schema.audit_entries)


# Every mapping declared above, by entity, for the generic repository (repository_for).
MAPPERS: dict[type[Any], Mapper[Any]] = {
    m.entity: m for m in list(globals().values()) if isinstance(m, Mapper)
}


def chunk_mapper(codec: EmbeddingCodec) -> Mapper[Chunk]:
    """Chunks depend on the dialect for their embedding column."""
    return Mapper(
        Chunk,
        schema.chunks,
        embedding=Convert(codec.encode, codec.decode, column_type=codec.column_type),
    )
