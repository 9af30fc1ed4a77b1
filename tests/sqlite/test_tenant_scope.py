"""Every statement a tenant unit of work sends is scoped to its tenant, and every unique
constraint of the schema is reported under a rule name."""

from __future__ import annotations

import re
import uuid
from typing import Any

import attrs
import pytest
from sqlalchemy import event

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.search import SearchFilter, VectorQuery
from tests.contract.factories import (
    basis,
    make_api_key,
    make_chat_session,
    make_chunk,
    make_document,
    make_job,
    make_message,
    make_query_log,
    make_user,
    seed_tenant,
)

pytestmark = pytest.mark.sqlite

_HOUSEKEEPING = re.compile(r"^\s*(PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


async def test_every_statement_of_a_tenant_unit_of_work_names_the_tenant(
    factory: SqliteUnitOfWorkFactory,
) -> None:
    seeded = await seed_tenant(factory)
    tenant_id = seeded.tenant.id
    user = make_user()
    async with factory.system() as system:
        await system.users.add(user)
        await system.commit()
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if not _HOUSEKEEPING.match(statement):
            statements.append((statement, parameters))

    event.listen(factory.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with factory.tenant(tenant_id) as uow:
            document = make_document(tenant_id, tags=["t"], metadata={"lang": "en"})
            session = make_chat_session(tenant_id, seeded.owner.id)
            job, log = make_job(tenant_id, document_id=document.id), make_query_log(tenant_id)
            key = make_api_key(tenant_id, seeded.owner.id)
            await uow.tenant.get()
            await uow.tenant.update(attrs.evolve(seeded.tenant, name="Renamed"))
            await uow.memberships.add(attrs.evolve(seeded.membership, id=uuid.uuid4(), user_id=user.id))
            await uow.memberships.get(user.id)
            await uow.memberships.list(PageRequest())
            await uow.memberships.count_active_owners()
            await uow.documents.add(document)
            await uow.documents.get(document.id)
            await uow.documents.update(attrs.evolve(document, title="T"))
            await uow.documents.list(PageRequest(limit=1), tag="t")
            await uow.chunks.add_many([make_chunk(document, 0, basis(0), metadata={"lang": "en"})])
            await uow.chunks.list_for_document(document.id)
            await uow.chunks.count()
            await uow.chunks.search(
                VectorQuery(
                    embedding=basis(0),
                    filter=SearchFilter.from_json(
                        {"document_id": str(document.id), "tags": {"$any": ["t"]}, "metadata.lang": "en"}
                    ),
                )
            )
            await uow.api_keys.add(key)
            await uow.api_keys.get(key.id)
            await uow.api_keys.update(attrs.evolve(key, name="renamed"))
            await uow.api_keys.list(PageRequest())
            await uow.jobs.add(job)
            await uow.jobs.update(job.start(now=job.created_at, lease_until=job.created_at))
            await uow.jobs.get(job.id)
            await uow.jobs.list(PageRequest(), document_id=document.id)
            await uow.query_logs.add(log)
            await uow.query_logs.update(attrs.evolve(log, response="r"))
            await uow.query_logs.get(log.id)
            await uow.query_logs.list(PageRequest())
            await uow.chat_sessions.add(session)
            await uow.chat_sessions.update(attrs.evolve(session, title="t"))
            await uow.messages.add(make_message(session))
            await uow.messages.list(session.id, PageRequest())
            await uow.chat_sessions.list(PageRequest(), user_id=seeded.owner.id)
            await uow.chat_sessions.delete(session.id)
            await uow.chunks.delete_for_document(document.id)
            await uow.documents.delete(document.id)
            await uow.memberships.delete(user.id)
            await uow.tenant.delete()
            await uow.commit()
    finally:
        event.remove(factory.engine.sync_engine, "before_cursor_execute", record)

    bound = uuid.UUID(str(tenant_id)).hex
    assert len(statements) > 30
    for statement, parameters in statements:
        values = _values(parameters)
        if statement.lstrip().upper().startswith("INSERT"):
            assert "tenant_id" in statement, statement
            assert bound in values, statement
        else:
            assert re.search(r"\btenant_id = \?|\btenants\.id = \?", statement), statement
            assert bound in values, statement


def _values(parameters: Any) -> list[Any]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    if parameters and isinstance(parameters[0], (list, tuple, dict)):
        return [v for p in parameters for v in _values(p)]
    return list(parameters or ())
