"""What the schema's keys mean (adapters/sql/constraints.py) and the mappings (rows.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

import attrs
import pytest
from sqlalchemy import Column, ForeignKeyConstraint, Integer, MetaData, PrimaryKeyConstraint, Table, Uuid
from sqlalchemy import UniqueConstraint as Unique

from tenantrag.adapters.sql import constraints, rows, schema
from tenantrag.adapters.sql.repository import repository_for
from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.chat import ChatSession
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.repositories import Repository
from tests.contract.factories import NOW, make_tenant

# The rule names clients see in details["rule"]: released, so they stay.
RELEASED = {
    "tenants.slug",
    "users.email",
    "memberships.tenant_user",
    "documents.storage_key",
    "documents.source_key",
    "document_versions.document_version",
    "chunks.document_ordinal",
    "api_keys.prefix",
    "invitations.tenant_email",
}


def test_every_key_of_the_schema_has_a_rule_named_after_its_table() -> None:
    names = set()
    for table in schema.metadata.tables.values():
        keys = [[c.name for c in table.primary_key.columns]]
        keys += [[c.name for c in k.columns] for k in table.constraints if isinstance(k, Unique)]
        keys += [[c.name for c in index.columns] for index in table.indexes if index.unique]
        row: defaultdict[str, object] = defaultdict(lambda: "x", id=uuid.uuid4())
        for columns in keys:
            rule = constraints.unique_rule(table.name, columns)
            assert rule is not None, (table.name, columns)
            assert rule.rule.startswith(f"{table.name}.")
            conflict = rule.conflict(row)  # the message formats with the row's columns only
            assert conflict.details == {"rule": rule.rule}
            names.add(rule.rule)
    assert names - {f"{name}.id" for name in schema.metadata.tables} == RELEASED


def test_every_foreign_key_names_its_parent_and_the_tenant_comes_first() -> None:
    for table in schema.metadata.tables.values():
        references = constraints.rules(table).references
        for key in table.foreign_key_constraints:
            columns = [c.name for c in key.columns]
            reference = constraints.reference(table.name, columns)
            assert reference is not None, (table.name, columns)
            assert reference.parent is key.referred_table
            assert reference.same_tenant == (columns[0] == "tenant_id" and len(columns) == 2)
        if "tenant_id" in table.c:
            assert references[0].parent is schema.tenants
    messages = constraints.rules(schema.messages).references
    assert [(r.column, r.noun, r.same_tenant) for r in messages] == [
        ("tenant_id", "tenant", False),
        ("session_id", "chat session", True),
    ]


def test_a_constraint_is_found_by_the_name_the_database_reports() -> None:
    assert constraints.constraint_named("uq_documents_tenant_id_storage_key") == (
        "documents",
        ("tenant_id", "storage_key"),
    )
    assert constraints.constraint_named("ix_documents_tenant_id_source_key") == (
        "documents",
        ("tenant_id", "source_key"),
    )
    assert constraints.constraint_named("fk_messages_tenant_id_session_id_chat_sessions") == (
        "messages",
        ("tenant_id", "session_id"),
    )
    assert constraints.constraint_named("ck_jobs_progress") == ("jobs", ())
    assert constraints.constraint_named("nothing") is None


def test_a_new_table_gets_rules_and_parents_without_another_edit() -> None:
    metadata = MetaData(naming_convention=schema.NAMING)
    parents = Table(
        "chat_threads",
        metadata,
        Column("tenant_id", Uuid(), nullable=False),
        Column("id", Uuid(), nullable=False),
        PrimaryKeyConstraint("tenant_id", "id"),
    )
    notes = Table(
        "thread_notes",
        metadata,
        Column("tenant_id", Uuid(), nullable=False),
        Column("id", Uuid(), nullable=False),
        Column("thread_id", Uuid(), nullable=False),
        Column("position", Integer(), nullable=False),
        PrimaryKeyConstraint("tenant_id", "id"),
        Unique("tenant_id", "thread_id", "position"),
        ForeignKeyConstraint(["tenant_id", "thread_id"], ["chat_threads.tenant_id", "chat_threads.id"]),
    )
    read = constraints.read_rules(notes)
    thread = uuid.uuid4()
    rule = read.uniques[frozenset({"tenant_id", "thread_id", "position"})]
    conflict = rule.conflict({"tenant_id": uuid.uuid4(), "thread_id": thread, "position": 2})
    assert conflict.details == {"rule": "thread_notes.thread_position"}
    assert (
        conflict.message
        == f"a thread note with thread id {thread} and position 2 already exists in this tenant"
    )
    assert [(r.column, r.parent, r.noun, r.same_tenant) for r in read.references] == [
        ("tenant_id", schema.tenants, "tenant", False),
        ("thread_id", parents, "chat thread", True),
    ]


def test_a_mapping_round_trips_its_entity_and_stores_enums_by_value() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    session = ChatSession(
        id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        title="t",
        created_at=now,
        updated_at=now,
    )
    row = rows.CHAT_SESSIONS.to_row(session)
    assert set(row) == set(schema.chat_sessions.c.keys())
    assert rows.CHAT_SESSIONS.from_row(row) == session  # type: ignore[arg-type]
    assert rows.MEMBERSHIPS.noun == "membership"
    assert rows.API_KEYS.noun == "API key"


def test_a_mapping_refuses_an_entity_that_differs_from_its_table() -> None:
    @attrs.frozen
    class Thread:
        id: uuid.UUID
        created_at: datetime
        colour: str

    with pytest.raises(TypeError, match=r"fields only \['colour'\], columns only \['tenant_id', 'title'"):
        rows.Mapper(Thread, schema.chat_sessions)


async def test_the_generic_repository_serves_any_mapped_entity_through_the_generic_port() -> None:
    from tenantrag.adapters.sqlite.memory import open_memory_sqlite_async

    factory = await open_memory_sqlite_async(8)
    try:
        tenant = make_tenant()
        async with factory.system() as system:
            await system.tenants.add(tenant)
            await system.commit()
        log = QueryLog(id=uuid.uuid4(), tenant_id=tenant.id, query="q", created_at=NOW)
        async with factory.tenant(tenant.id) as uow:
            session = uow._session
            logs: Repository[QueryLog] = uow.repository(QueryLog)
            await logs.add(log)
            await logs.update(attrs.evolve(log, response="a"))
            assert await logs.get(log.id) == attrs.evolve(log, response="a")
            assert [q.id for q in (await logs.list(PageRequest())).items] == [log.id]
            await logs.delete(log.id)
            with pytest.raises(NotFound, match="query log"):
                await logs.delete(log.id)
            with pytest.raises(TypeError, match="tenant"):
                repository_for(QueryLog, session, None)
            with pytest.raises(LookupError):
                repository_for(Chunk, session, tenant.id)  # per dialect: not in rows.MAPPERS
    finally:
        await factory.dispose()
