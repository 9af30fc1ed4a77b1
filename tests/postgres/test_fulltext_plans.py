"""Full-text search keeps its GIN index under row-level security, hybrid included.

Row-level security lets the planner evaluate a query's own conditions before the policy's
only when their functions are LEAKPROOF; ``tsvector @@ tsquery`` is not in a stock
PostgreSQL, so a tenant's full-text query could not use ``ix_chunks_search_vector``.
Provisioning (as the test server's superuser here) marks it; these tests read the catalog,
EXPLAIN the statements a search really sends (as the runtime role, with the tenant bound,
policies on), and show the index lost again when the mark is taken away (in a transaction
that is rolled back).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantrag.adapters.postgres import PostgresOptions, PostgresUnitOfWorkFactory, open_postgres
from tenantrag.adapters.postgres.engine import create_postgres_engine
from tenantrag.adapters.postgres.provision import (
    LEAKPROOF_FUNCTIONS,
    not_leakproof,
    provision_leakproof,
    search_problems,
)
from tenantrag.domain.model.document import sha256_hex
from tenantrag.domain.search import HybridQuery, SearchFilter, SearchQuery, TextQuery, VectorQuery
from tests.contract.factories import DIMENSION, basis, make_chunk, make_document, seed_tenant

pytestmark = pytest.mark.postgres

ROLE = PostgresOptions().runtime_role
INDEX = "ix_chunks_fts_search_vector"
FILLER = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "kilo")


@attrs.frozen
class Corpus:
    factory: PostgresUnitOfWorkFactory
    url: str
    big: uuid.UUID  # 3000 chunks, "zeppelin" in three of them
    small: uuid.UUID  # 30 chunks, "zeppelin" in every one


async def _fill(factory: PostgresUnitOfWorkFactory, count: int, rare_every: int) -> uuid.UUID:
    tenant_id = (await seed_tenant(factory)).tenant.id
    document = make_document(tenant_id, tags=("manual",), metadata={"year": 2024})
    chunks = []
    for i in range(count):
        words = [FILLER[(i * 7 + j) % len(FILLER)] for j in range(12)]
        if i % rare_every == 0:
            words[5] = "zeppelin"
        content = f"{' '.join(words)} {i}"
        # Distinct vectors, so that no vector search has to widen past ties.
        vector = tuple(1.0 if d == i % DIMENSION else (i * (d + 1) % 997) / 997 for d in range(DIMENSION))
        chunk = make_chunk(document, i, vector, metadata={"year": 2024, "i": i})
        chunks.append(attrs.evolve(chunk, content=content, content_sha256=sha256_hex(content)))
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        await uow.commit()
    return tenant_id


@pytest.fixture
async def corpus(postgres_database: Callable[[int], str]) -> AsyncIterator[Corpus]:
    url = postgres_database(DIMENSION)
    factory = await open_postgres(url, DIMENSION, migrate=False)
    try:
        big = await _fill(factory, 3000, rare_every=1000)
        small = await _fill(factory, 30, rare_every=1)
        async with factory.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
        yield Corpus(factory, url, big, small)
    finally:
        await factory.dispose()


@contextmanager
def recorded(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and parameters) sent on ``engine`` while the block runs."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def search_statement(corpus: Corpus, tenant_id: uuid.UUID, query: SearchQuery) -> tuple[str, Any]:
    """The statement a search computes its hits with (the last it sends)."""
    async with corpus.factory.tenant(tenant_id, read_only=True) as uow:
        with recorded(corpus.factory.runtime_engine) as sent:
            await uow.chunks.search(query)
    return sent[-1]


async def explain(connection: AsyncConnection, statement: tuple[str, Any], *, analyze: bool = False) -> str:
    """The plan of ``statement``, sequential scans discouraged: the full-text table is narrow,
    so for a corpus this small a scan of it can be the cheaper plan; what is checked is
    whether the GIN index can be used at all under row-level security."""
    await connection.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
    options = "ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON" if analyze else "COSTS OFF"
    lines = await connection.exec_driver_sql(f"EXPLAIN ({options}) {statement[0]}", statement[1])
    return "\n".join(row[0] for row in lines)


async def explain_as_tenant(corpus: Corpus, tenant_id: uuid.UUID, statement: tuple[str, Any]) -> str:
    """EXPLAIN as a unit of work runs it: the runtime role, the tenant bound, policies on."""
    async with corpus.factory.tenant(tenant_id, read_only=True) as uow:
        connection = uow._session.connection()
        assert await connection.scalar(text("SELECT current_user")) == ROLE
        return await explain(connection, statement)


async def test_provisioning_marked_the_full_text_match_leakproof(corpus: Corpus) -> None:
    async with corpus.factory.engine.connect() as connection:
        for function in LEAKPROOF_FUNCTIONS:
            marked = await connection.scalar(
                text("SELECT proleakproof FROM pg_catalog.pg_proc WHERE oid = CAST(:f AS regprocedure)"),
                {"f": function},
            )
            assert marked is True, function
        assert await not_leakproof(connection) == ()
        assert await search_problems(connection) == {}


async def test_a_tenant_s_full_text_query_uses_the_gin_index_under_row_level_security(corpus: Corpus) -> None:
    query = TextQuery(text="zeppelin", k=5, filter=SearchFilter.from_json({"metadata.year": 2024}))
    statement = await search_statement(corpus, corpus.big, query)
    assert "websearch_to_tsquery" in statement[0]
    plan = await explain_as_tenant(corpus, corpus.big, statement)
    assert INDEX in plan, plan


async def test_without_leakproof_the_index_is_unusable(corpus: Corpus) -> None:
    """The control: the same statement, with the mark taken away in a rolled-back transaction."""
    statement = await search_statement(corpus, corpus.big, TextQuery(text="zeppelin", k=5))
    engine = create_postgres_engine(corpus.url)
    try:
        async with engine.connect() as connection:
            for function in LEAKPROOF_FUNCTIONS:
                await connection.execute(text(f"ALTER FUNCTION {function} NOT LEAKPROOF"))
            await corpus.factory.dialect.begin(connection, corpus.big)  # role and signed tenant
            plan = await explain(connection, statement)
            await connection.rollback()
    finally:
        await engine.dispose()
    assert INDEX not in plan, plan


async def test_each_mode_computes_its_hits_in_one_statement_and_hybrid_in_two(corpus: Corpus) -> None:
    hybrid = HybridQuery(embedding=basis(1), text="zeppelin", k=5)
    for query in (hybrid, VectorQuery(embedding=basis(1), k=5), TextQuery(text="zeppelin", k=5)):
        corpus.factory.chunk_search.sizes.forget(corpus.big)
        for count_known in (False, True):
            async with corpus.factory.tenant(corpus.big, read_only=True) as uow:
                with recorded(corpus.factory.runtime_engine) as sent:
                    hits = await uow.chunks.search(query)
            assert len(hits) == (3 if isinstance(query, TextQuery) else 5)
            # Vector and text compute their hits in one statement each, hybrid in both (the
            # domain fuses them). Before them, only when the tenant's count is not known yet
            # (3000 chunks: the exact path), the statement that counts them and sets the
            # index path's settings.
            statements = [s for s, _ in sent if "set_config" not in s]
            assert len(statements) == (2 if isinstance(query, HybridQuery) else 1), statements
            counted = not count_known and not isinstance(query, TextQuery)
            assert ("set_config" in sent[0][0]) is counted
    text_part = await search_statement(corpus, corpus.big, hybrid)  # the last one: the text list
    assert "websearch_to_tsquery" in text_part[0]
    plan = await explain_as_tenant(corpus, corpus.big, text_part)
    assert INDEX in plan, plan


async def test_a_small_tenant_gets_its_own_matches_only(corpus: Corpus) -> None:
    async with corpus.factory.tenant(corpus.small, read_only=True) as uow:
        hits = await uow.chunks.search(TextQuery(text="zeppelin", k=100))
    assert len(hits) == 30
    async with corpus.factory.tenant(corpus.big, read_only=True) as uow:
        assert len(await uow.chunks.search(TextQuery(text="zeppelin", k=100))) == 3


async def test_provisioning_without_a_superuser_says_what_to_run(
    corpus: Corpus, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_postgres_engine(corpus.url)
    try:
        async with engine.connect() as connection:
            for function in LEAKPROOF_FUNCTIONS:
                await connection.execute(text(f"ALTER FUNCTION {function} NOT LEAKPROOF"))
            with caplog.at_level(logging.WARNING, logger="tenantrag.adapters.postgres.provision"):
                sql = await provision_leakproof(connection, is_superuser=False)
            assert sql == [f"ALTER FUNCTION {function} LEAKPROOF" for function in LEAKPROOF_FUNCTIONS]
            assert "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF" in caplog.text
            problems = await search_problems(connection)
            assert problems["full_text_index_unused_under_rls"] is True
            assert await provision_leakproof(connection, is_superuser=True) == []
            assert await not_leakproof(connection) == ()  # and again: idempotent
            assert await provision_leakproof(connection, is_superuser=True) == []
            await connection.rollback()
    finally:
        await engine.dispose()
