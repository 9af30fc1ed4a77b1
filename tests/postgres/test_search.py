"""PostgreSQL's search plans: exact for small tenants, the HNSW index for large ones.

The contract suite already holds every search on small tenants to an exact cosine
(tests/search_reference.py). Here: which plan each tenant gets (EXPLAIN), that the index plan keeps
its recall for tenants of very different sizes, and that prepared statements do
not freeze a plan chosen for another tenant.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import attrs
import pytest
from sqlalchemy import bindparam, text

from tenantrag.adapters.postgres import (
    PostgresOptions,
    PostgresUnitOfWorkFactory,
    VectorIndexState,
    open_postgres,
)
from tenantrag.adapters.postgres.search import _statement
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import SearchFilter, VectorQuery
from tests.contract.factories import make_chunk, make_document, seed_tenant
from tests.postgres.test_fulltext_plans import recorded
from tests.search_reference import exact_top_k

pytestmark = pytest.mark.postgres

DIMENSION = 16
EXACT_LIMIT = 100
SIZES = {"tiny": 20, "small": 90, "large": 600, "largest": 2400}
EXACT_ORDER = "+ 0"  # the exact plan's ORDER BY, which no index can supply
CENTRES = [tuple(random.Random(centre).gauss(0, 1) for _ in range(DIMENSION)) for centre in range(12)]


def clustered(rng: random.Random, count: int, centres: Sequence[Sequence[float]]) -> list[tuple[float, ...]]:
    vectors = []
    for _ in range(count):
        centre = rng.choice(centres)
        vectors.append(tuple(c + rng.gauss(0, 0.35) for c in centre))
    return vectors


@attrs.frozen
class Tenant:
    id: uuid.UUID
    document: Document
    chunks: list[Chunk]


@attrs.frozen
class Corpus:
    factory: PostgresUnitOfWorkFactory
    tenants: dict[str, Tenant]


@pytest.fixture(scope="module")
def rng() -> random.Random:
    return random.Random(20261124)


@pytest.fixture
async def corpus(postgres_database: Callable[[int], str], rng: random.Random) -> AsyncIterator[Corpus]:
    options = PostgresOptions(exact_search_limit=EXACT_LIMIT)
    factory = await open_postgres(postgres_database(DIMENSION), DIMENSION, migrate=False, options=options)
    tenants: dict[str, Tenant] = {}
    try:
        for name, size in SIZES.items():
            seeded = await seed_tenant(factory)
            document = make_document(seeded.tenant.id)
            chunks = [make_chunk(document, i, v) for i, v in enumerate(clustered(rng, size, CENTRES))]
            async with factory.tenant(seeded.tenant.id) as uow:
                await uow.documents.add(document)
                await uow.chunks.add_many(chunks)
                await uow.commit()
            tenants[name] = Tenant(seeded.tenant.id, document, chunks)
        async with factory.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
        yield Corpus(factory, tenants)
    finally:
        await factory.dispose()


async def plan(factory: PostgresUnitOfWorkFactory, tenant_id: uuid.UUID, *, exact: bool) -> str:
    codec = factory.dialect.embeddings
    q = bindparam("query", codec.encode([1.0] * DIMENSION), type_=codec.column_type)
    statement = _statement(tenant_id, SearchFilter(), q, factory.options.distance, exact=exact, limit=18)
    async with factory.tenant(tenant_id) as uow:
        connection = uow._session.connection()
        compiled = statement.compile(dialect=connection.dialect)
        await connection.execute(text("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"))
        lines = await connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        return "\n".join(row[0] for row in lines)


async def test_small_tenants_are_scanned_exactly_and_large_ones_use_the_hnsw_index(corpus: Corpus) -> None:
    tiny, largest = corpus.tenants["tiny"].id, corpus.tenants["largest"].id
    assert "ix_chunks_embedding_hnsw" not in await plan(corpus.factory, tiny, exact=True)
    assert "ix_chunks_embedding_hnsw" in await plan(corpus.factory, largest, exact=False)


async def test_recall_at_10_holds_for_every_tenant_size(corpus: Corpus, rng: random.Random) -> None:
    for name, tenant in corpus.tenants.items():
        rows = [(chunk, tenant.document) for chunk in tenant.chunks]
        found = expected = 0
        for _ in range(15):
            query = VectorQuery(embedding=tuple(rng.gauss(0, 1) for _ in range(DIMENSION)), k=10)
            truth = {hit.chunk_id for hit in exact_top_k(query, rows)}
            async with corpus.factory.tenant(tenant.id) as uow:
                hits = await uow.chunks.search(query)
            assert len(hits) == 10, name
            found += len(truth & {hit.chunk_id for hit in hits})
            expected += len(truth)
        assert found / expected >= 0.98, (name, found / expected)


async def test_a_search_prepared_by_psycopg_still_plans_for_each_tenant(corpus: Corpus) -> None:
    query = VectorQuery(embedding=(1.0,) * DIMENSION, k=5)
    # Past psycopg's prepare threshold (5), alternating tenants of both plans.
    for round_ in range(4):
        for name in ("tiny", "largest"):
            tenant = corpus.tenants[name]
            async with corpus.factory.tenant(tenant.id) as uow:
                hits = await uow.chunks.search(query)
                connection = uow._session.connection()
                mode = await connection.scalar(text("SELECT current_setting('plan_cache_mode')"))
            if name == "largest":  # the index path: planned for this tenant every time
                assert mode == "force_custom_plan"
            elif round_ > 0:  # the exact path, its count known: no settings, cached plans serve
                assert mode == "auto"
            assert {hit.chunk_id for hit in hits} <= {chunk.id for chunk in tenant.chunks}
            assert len(hits) == 5


async def search_as_sent(corpus: Corpus, name: str, query: VectorQuery) -> tuple[set[uuid.UUID], str]:
    """The hits' ids, and the statement that computed them."""
    async with corpus.factory.tenant(corpus.tenants[name].id, read_only=True) as uow:
        with recorded(corpus.factory.runtime_engine) as sent:
            hits = await uow.chunks.search(query)
    return {hit.chunk_id for hit in hits}, sent[-1][0]


async def test_without_a_valid_vector_index_every_tenant_is_searched_exactly(corpus: Corpus) -> None:
    """Drop the index for a large load, and searches stay correct (exact) until it is rebuilt."""
    factory, largest = corpus.factory, corpus.tenants["largest"]
    query = VectorQuery(embedding=CENTRES[0], k=10)
    rows = [(chunk, largest.document) for chunk in largest.chunks]
    truth = {hit.chunk_id for hit in exact_top_k(query, rows)}
    assert await factory.vector_index_state() is VectorIndexState.READY
    _, statement = await search_as_sent(corpus, "largest", query)
    assert EXACT_ORDER not in statement  # the index path

    await factory.drop_vector_index()
    assert await factory.vector_index_state() is VectorIndexState.MISSING
    found, statement = await search_as_sent(corpus, "largest", query)
    assert EXACT_ORDER in statement
    assert found == truth

    assert await factory.build_vector_index(memory="64MB") is VectorIndexState.READY
    found, statement = await search_as_sent(corpus, "largest", query)
    assert EXACT_ORDER not in statement
    assert len(found & truth) >= 9
    assert "ix_chunks_embedding_hnsw" in await plan(factory, largest.id, exact=False)
    assert await factory.build_vector_index() is VectorIndexState.READY  # there already: nothing to do


async def test_the_full_text_index_keeps_a_small_pending_list_merged_by_a_build(corpus: Corpus) -> None:
    async def pending_pages_merged() -> int:
        async with corpus.factory.engine.connect() as connection:
            merged = await connection.scalar(
                text("SELECT gin_clean_pending_list('ix_chunks_fts_search_vector')")
            )
            await connection.commit()
        return int(merged)

    async with corpus.factory.engine.connect() as connection:
        options = await connection.scalar(
            text("SELECT reloptions FROM pg_class WHERE oid = 'ix_chunks_fts_search_vector'::regclass")
        )
    assert options == ["gin_pending_list_limit=256"]
    async with corpus.factory.engine.connect() as connection:
        # Autovacuum may merge the list at any moment; here only the test's own steps may.
        await connection.execute(text("ALTER TABLE chunks SET (autovacuum_enabled = false)"))
        await connection.commit()
    await pending_pages_merged()  # whatever the corpus's load left

    async def write_chunks(first: int) -> None:
        extra = make_document(corpus.tenants["tiny"].id)
        async with corpus.factory.tenant(extra.tenant_id) as uow:
            await uow.documents.add(extra)
            await uow.chunks.add_many([make_chunk(extra, first + i, CENTRES[i % 12]) for i in range(200)])
            await uow.commit()

    await write_chunks(0)
    assert await pending_pages_merged() > 0  # new entries wait in the list, well under 256 kB
    await corpus.factory.drop_vector_index()
    await write_chunks(200)
    await corpus.factory.build_vector_index()
    assert await pending_pages_merged() == 0


async def test_an_index_left_invalid_by_a_failed_build_is_not_used_and_is_rebuilt(corpus: Corpus) -> None:
    factory = corpus.factory
    async with factory.engine.connect() as connection:
        # What a CREATE INDEX CONCURRENTLY that failed half-way leaves behind.
        await connection.execute(
            text(
                "UPDATE pg_index SET indisvalid = false"
                " WHERE indexrelid = 'ix_chunks_embedding_hnsw'::regclass"
            )
        )
        await connection.commit()
    assert await factory.vector_index_state() is VectorIndexState.NOT_VALID
    _, statement = await search_as_sent(corpus, "largest", VectorQuery(embedding=CENTRES[1], k=5))
    assert EXACT_ORDER in statement
    assert await factory.build_vector_index(concurrently=False) is VectorIndexState.READY
    _, statement = await search_as_sent(corpus, "largest", VectorQuery(embedding=CENTRES[1], k=5))
    assert EXACT_ORDER not in statement


async def test_a_bad_build_memory_is_refused_by_name(corpus: Corpus) -> None:
    with pytest.raises(InvalidInput) as raised:
        await corpus.factory.build_vector_index(memory="1GB; DROP TABLE chunks")
    assert raised.value.field == "memory"
    assert await corpus.factory.vector_index_state() is VectorIndexState.READY


async def test_large_embeddings_stay_in_the_tables_own_pages(postgres_database: Callable[[int], str]) -> None:
    """1536 dimensions (6 kB) are past TOAST's default threshold: the table keeps such rows
    whole, so an exact scan does not fetch every embedding through the TOAST table (and a
    short content is not moved out of line either)."""
    dimension = 1536
    factory = await open_postgres(postgres_database(dimension), dimension, migrate=False)
    try:
        seeded = await seed_tenant(factory)
        document = make_document(seeded.tenant.id)
        rng = random.Random(7)
        chunks = [make_chunk(document, i, [rng.gauss(0, 1) for _ in range(dimension)]) for i in range(80)]
        async with factory.tenant(seeded.tenant.id) as uow:
            await uow.documents.add(document)
            await uow.chunks.add_many(chunks)  # the COPY path
            await uow.chunks.add_many([make_chunk(document, 80, [1.0] * dimension)])  # a plain INSERT
            await uow.commit()
        async with factory.engine.connect() as connection:
            storage, toasted = (
                await connection.execute(
                    text(
                        "SELECT a.attstorage, pg_relation_size(c.reltoastrelid) FROM pg_class c"
                        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'embedding'"
                        " WHERE c.oid = 'chunks'::regclass"
                    )
                )
            ).one()
        assert storage == "m"
        assert toasted == 0
        async with factory.tenant(seeded.tenant.id, read_only=True) as uow:
            hits = await uow.chunks.search(VectorQuery(embedding=[1.0] * dimension, k=1))
        assert hits[0].ordinal == 80
    finally:
        await factory.dispose()
