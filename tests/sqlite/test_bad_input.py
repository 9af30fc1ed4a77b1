"""Bad input is refused before any SQL runs, and leaves the database exactly as it was."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import event

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.search import VectorQuery
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.validation import MAX_JSON_BYTES
from tenantrag.entrypoints.bootstrap import bootstrap
from tests.contract.factories import NOW, make_chunk, make_document, seed_tenant
from tests.sqlite.conftest import DIMENSION, dump

pytestmark = pytest.mark.sqlite


@contextmanager
def writes_seen(factory: SqliteUnitOfWorkFactory) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    engine = factory.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def forced(chunk: Chunk, **changes: Any) -> Chunk:
    """A chunk with fields its validators would refuse, as a buggy caller might build one."""
    bad = attrs.evolve(chunk)
    for name, value in changes.items():
        object.__setattr__(bad, name, value)
    return bad


async def test_bad_embeddings_are_refused_before_any_sql(
    factory: SqliteUnitOfWorkFactory, database: Path
) -> None:
    seeded = await seed_tenant(factory)
    document = make_document(seeded.tenant.id)
    async with factory.tenant(seeded.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many([make_chunk(document, 0)])
        await uow.commit()
    before = dump(database)
    good = make_chunk(document, 1)
    bad_batches = {
        "too long": [good, make_chunk(document, 2, [1.0] * (DIMENSION + 1))],
        "too short": [make_chunk(document, 2, [1.0] * (DIMENSION - 1))],
        "NaN": [good, forced(make_chunk(document, 2), embedding=(math.nan,) * DIMENSION)],
        "infinity": [forced(make_chunk(document, 2), embedding=(math.inf,) + (0.0,) * (DIMENSION - 1))],
    }
    with writes_seen(factory) as writes:
        async with factory.tenant(seeded.tenant.id) as uow:
            for name, batch in bad_batches.items():
                with pytest.raises(InvalidInput) as caught:
                    await uow.chunks.add_many(batch)
                assert caught.value.field == "embedding", name
            with pytest.raises(InvalidInput):
                await uow.chunks.search(VectorQuery(embedding=[1.0] * (DIMENSION + 1)))
            assert await uow.chunks.count() == 1
            await uow.commit()
    assert writes == []
    assert dump(database) == before


def test_nan_never_gets_as_far_as_a_repository() -> None:
    with pytest.raises(InvalidInput, match="finite"):
        VectorQuery(embedding=[math.nan] * DIMENSION)
    with pytest.raises(InvalidInput, match="finite"):
        make_chunk(make_document(uuid.uuid4()), 0, [math.nan] * DIMENSION)


async def test_failed_use_cases_leave_the_database_as_it_was(
    factory: SqliteUnitOfWorkFactory, database: Path
) -> None:
    app = bootstrap(
        uow=factory,
        embedder=HashingEmbedder(dimension=DIMENSION),
        hasher=PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        clock=ManualClock(NOW),
    )
    owner = await app.users.register(email="owner@example.com", password="a long passphrase")
    me = Principal.user(owner.id)
    tenant = await app.tenants.create(me, name="Acme")
    submitted = await app.ingestion.submit(me, tenant.id, filename="a.txt", data=b"some text", tags=["x"])
    document = submitted.document
    before = dump(database)

    oversized = {"blob": "x" * (MAX_JSON_BYTES + 1)}
    with pytest.raises(InvalidInput) as caught:
        await app.ingestion.submit(me, tenant.id, filename="b.txt", data=b"more text", metadata=oversized)
    assert caught.value.field == "metadata"
    with pytest.raises(InvalidInput):
        await app.search.search(me, tenant.id, embedding=[1.0] * (DIMENSION + 1), k=3)
    with pytest.raises(InvalidInput):
        await app.search.search(me, tenant.id, embedding=[math.nan] * DIMENSION, k=3)
    with pytest.raises(InvalidInput):
        await app.tenants.create(me, name="Acme 2", settings={"x": math.nan})
    assert dump(database) == before
    assert (await app.documents.get(me, tenant.id, document.id)) == document
