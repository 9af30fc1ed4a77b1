"""A single write on SQLite runs without a SAVEPOINT (a failed statement undoes itself,
triggers included, and the transaction goes on); a batch (executemany) keeps one, so a
row that fails part-way leaves none of the batch behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory
from tenantrag.domain.errors import Conflict
from tests.contract.factories import make_chunk, make_document, seed_tenant

pytestmark = pytest.mark.sqlite


async def test_a_failed_single_write_undoes_only_itself_without_a_savepoint(
    factory: SqliteUnitOfWorkFactory,
) -> None:
    tenant_id = (await seed_tenant(factory)).tenant.id
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    document, other = make_document(tenant_id), make_document(tenant_id)
    chunks = [make_chunk(document, 0), make_chunk(document, 1)]
    event.listen(factory.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with factory.tenant(tenant_id) as uow:
            await uow.documents.add(document)
            with pytest.raises(Conflict):
                await uow.documents.add(document)  # the same id: refused, alone
            await uow.chunks.add_many(chunks)  # fires the full-text triggers
            with pytest.raises(Conflict):
                await uow.chunks.add_many([make_chunk(document, 2), chunks[0]])  # the second row fails
            await uow.documents.add(other)
            await uow.commit()
    finally:
        event.remove(factory.engine.sync_engine, "before_cursor_execute", record)
    # The two batches, and the replay that finds the failed batch's row: none for the
    # three single INSERTs.
    assert statements.count("SAVEPOINT") == 3
    async with factory.tenant(tenant_id) as uow:
        assert await uow.documents.get(document.id) == document
        assert await uow.documents.get(other.id) == other
        stored = await uow.chunks.list_for_document(document.id)
        assert [c.id for c in stored] == [c.id for c in chunks]  # nothing of the failed batch
        assert await uow.chunks.count() == 2
