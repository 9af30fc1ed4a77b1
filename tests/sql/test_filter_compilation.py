"""Compiled filters select exactly the rows ``Filter.matches`` selects, on SQLite and PostgreSQL.

One database per backend for the module: the corpus of ``tests/filter_strategies.py`` is
stored once through the backend's own repositories (so JSON is written as it is in
production), then every filter, hand-written or generated, is compiled and run as a plain
SELECT over chunks joined with documents. The PostgreSQL connection is the test server's
superuser, which row-level security lets through: compilation is what is tested here.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from sqlalchemy import Engine, and_, create_engine, select

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.filters import INLINE_IN, compile_filter
from tenantrag.domain.filtering import Filter, parse_filter
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import DIMENSION, make_chunk, make_document, seed_tenant
from tests.filter_strategies import CORPUS, CORPUS_IDS, PATHS, SCALARS, filters
from tests.postgres_server import Databases, admin_engine

chunks, documents = schema.chunks, schema.documents


@attrs.frozen
class World:
    """The corpus stored in one backend, and the rows it was made of."""

    dialect: str
    engine: Engine
    tenant_id: Any
    rows: tuple[tuple[Chunk, Document], ...]

    def selected(self, filter: Filter) -> set[Any]:
        condition = compile_filter(filter, chunks=chunks, documents=documents, dialect_name=self.dialect)
        joined = chunks.join(
            documents,
            and_(documents.c.tenant_id == chunks.c.tenant_id, documents.c.id == chunks.c.document_id),
        )
        statement = (
            select(chunks.c.id).select_from(joined).where(chunks.c.tenant_id == self.tenant_id, condition)
        )
        with self.engine.connect() as connection:
            return set(connection.scalars(statement))

    def expected(self, filter: Filter) -> set[Any]:
        return {chunk.id for chunk, document in self.rows if filter.matches(chunk, document)}


def corpus_rows(tenant_id: uuid.UUID) -> list[tuple[Chunk, Document]]:
    rows = []
    for spec in CORPUS:
        status = DocumentStatus(spec.status)
        document = make_document(tenant_id, tags=spec.tags, status=status, created_at=spec.created_at)
        document = attrs.evolve(document, id=spec.id)
        rows += [
            (make_chunk(document, i, metadata=metadata), document) for i, metadata in enumerate(spec.chunks)
        ]
    return rows


async def store_corpus(factory: UnitOfWorkFactory) -> tuple[Any, list[tuple[Chunk, Document]]]:
    tenant_id = (await seed_tenant(factory)).tenant.id
    rows = corpus_rows(tenant_id)
    async with factory.tenant(tenant_id) as uow:
        for document in {document.id: document for _, document in rows}.values():
            await uow.documents.add(document)
        await uow.chunks.add_many([chunk for chunk, _ in rows])
        await uow.commit()
    return tenant_id, rows


def run(coroutine_function: Callable[[], Any]) -> Any:
    """Run async set-up code to completion, outside whatever event loop pytest may hold."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()


def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from tenantrag.adapters.sql import migrations
    from tenantrag.adapters.sqlite import open_sqlite

    path: Path = tmp_path_factory.mktemp("filters") / "filters.sqlite"
    url = f"sqlite:///{path}"
    migrations.upgrade(url, embedding_dimension=DIMENSION)

    async def fill() -> tuple[Any, list[tuple[Chunk, Document]]]:
        factory = await open_sqlite(url, DIMENSION, migrate=False)
        try:
            return await store_corpus(factory)
        finally:
            await factory.dispose()

    tenant_id, rows = run(fill)
    engine = create_engine(url)
    try:
        yield World("sqlite", engine, tenant_id, tuple(rows))
    finally:
        engine.dispose()
        shutil.rmtree(path.parent, ignore_errors=True)


def postgres_world(databases: Databases, template: Callable[[int], str]) -> Iterator[World]:
    from tenantrag.adapters.postgres import open_postgres

    url = databases.create(template=template(DIMENSION))

    async def fill() -> tuple[Any, list[tuple[Chunk, Document]]]:
        factory = await open_postgres(url, DIMENSION, migrate=False)
        try:
            return await store_corpus(factory)
        finally:
            await factory.dispose()

    tenant_id, rows = run(fill)
    engine = admin_engine(url)
    try:
        yield World("postgresql", engine, tenant_id, tuple(rows))
    finally:
        engine.dispose()
        databases.drop(url)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "sqlite":
        yield from sqlite_world(tmp_path_factory)
    else:
        yield from postgres_world(
            request.getfixturevalue("postgres_databases"), request.getfixturevalue("postgres_template")
        )


# Cases random filters may take long to meet; each is checked against matches() and, where
# the right answer is plain, against a count of the corpus chunks it must select.
CASES: list[dict[str, Any]] = [
    {},
    {"$not": {}},
    {"metadata.flag": True},
    {"metadata.flag": 1},
    {"metadata.flag": 1.0},
    {"metadata.year": None},
    {"metadata.year": {"$ne": None}},
    {"metadata.year": 1},
    {"metadata.list": 1},
    {"metadata.list": "a"},
    {"metadata.list": {"$in": ["a", 1, True, None]}},
    {"metadata.list.0": 1},
    {"metadata.list.0": {"$exists": True}},
    {"metadata.nested.k": {"$exists": True}},
    {"metadata.nested.k": {"$exists": False}},
    {"metadata.nested.deep.x": {"$gte": 0}},
    {"metadata.nested.list": {"$nin": [1, 2]}},
    {"metadata.nested.ключ": 0},
    {"metadata.ключ": "ключ"},
    {'metadata.we"ird': {"$gte": 1}},
    {"metadata.back\\slash": "a"},
    {"metadata.tab\t": None},
    {"metadata.title": {"$lt": "a"}},
    {"metadata.title": {"$gt": "z"}},
    {"metadata.title": {"$gte": "e", "$lt": "f"}},
    {"metadata.title": {"$in": ["é", "e\u0301", "😀", 'qu"ote']}},
    {"metadata.year": {"$gt": 0, "$lt": 1}},
    {"metadata.year": {"$gte": 9007199254740992}},
    {"metadata.score": {"$lte": -9007199254740992.0}},
    {"metadata.score": {"$gt": 0, "$lt": 1e-299}},
    {"metadata.score": 0},
    {"metadata.score": {"$gt": 9007199254740992.0}},
    {"metadata.score": {"$lt": -9007199254740992}},
    {"metadata.nested.k": {"$gt": 9007199254740992}},
    {"metadata.year": {"$ne": 9007199254740992}},
    {"metadata.title": {"$gt": "😀"}},
    {"metadata.year": 0.1},
    {"metadata.score": 1e-300},
    {"metadata.nested.ключ": -0.0},
    {"metadata.year": {"$in": [0.1, 1e-300, 9007199254740992.0]}},
    {"metadata.year": {"$in": list(SCALARS)}},
    {"metadata.year": {"$nin": list(SCALARS)}},
    {"metadata.title": {"$in": [s for s in SCALARS if isinstance(s, str)][: INLINE_IN + 1]}},
    {"metadata.absent": {"$nin": [None]}},
    {"tags": {"$any": []}},
    {"tags": {"$all": []}},
    {"tags": {"$all": ["red", "blue"]}},
    {"tags": {"$any": ["Blau", "ünï"]}},
    {"tags": "red", "status": {"$in": ["pending", "failed"]}},
    {"document_id": {"$in": list(CORPUS_IDS[:3])}},
    {"document_id": {"$nin": list(CORPUS_IDS[:3])}},
    {"document_id": CORPUS_IDS[4]},
    {"created_at": {"$gte": "2025-01-01T12:00:00.000001Z"}},
    {"created_at": {"$lt": "2025-01-01T17:00:00+05:00"}},
    {"$or": [{"metadata.absent": 1}, {"$not": {"metadata.absent": {"$lt": 1}}}]},
]


def test_the_cases_cover_the_corpus_edges() -> None:
    """The hand-written cases are not vacuous: the corpus holds what they probe."""
    rows = corpus_rows(uuid.uuid4())
    every = parse_filter({})
    assert all(every.matches(chunk, document) for chunk, document in rows)
    assert len(rows) == sum(len(spec.chunks) for spec in CORPUS) >= 50
    for probe in ({"metadata.flag": True}, {"metadata.list": {"$exists": True}}, {"metadata.ключ": "ключ"}):
        assert any(parse_filter(probe).matches(chunk, document) for chunk, document in rows)
    holding_one = [chunk for chunk, _ in rows if chunk.metadata.get("list") == ["a", 1, True, None]]
    equal_to_one = parse_filter({"metadata.list": 1})
    assert holding_one
    assert not any(equal_to_one.matches(chunk, document) for chunk in holding_one for _, document in rows[:1])


@pytest.mark.parametrize("case", CASES, ids=[repr(case)[:60] for case in CASES])
def test_hand_written_filters_select_what_matches_selects(world: World, case: dict[str, Any]) -> None:
    parsed = parse_filter(case)
    assert world.selected(parsed) == world.expected(parsed)


@settings(max_examples=60, deadline=None)
@given(filter_json=filters())
def test_generated_filters_select_what_matches_selects(world: World, filter_json: dict[str, Any]) -> None:
    parsed = parse_filter(filter_json)
    assert world.selected(parsed) == world.expected(parsed)


@settings(max_examples=60, deadline=None)
@given(filter_json=filters(depth=1))
def test_negated_filters_select_the_complement(world: World, filter_json: dict[str, Any]) -> None:
    selected = world.selected(parse_filter(filter_json))
    complement = world.selected(parse_filter({"$not": filter_json}))
    assert selected.isdisjoint(complement)
    assert selected | complement == {chunk.id for chunk, _ in world.rows}


# --- only bound parameters ------------------------------------------------------------------

HOSTILE = "x'); DROP TABLE chunks; --"
# Dialects to compile with; no connection is made.
POSTGRESQL = create_engine("postgresql+psycopg://").dialect
SQLITE = create_engine("sqlite://").dialect


@pytest.mark.parametrize("dialect", [POSTGRESQL, SQLITE], ids=["postgresql", "sqlite"])
def test_values_keys_and_paths_are_bound_never_written_into_the_sql(dialect: Any) -> None:
    parsed = parse_filter(
        {
            f"metadata.{HOSTILE}.é": {"$eq": HOSTILE, "$lt": HOSTILE, "$in": [HOSTILE] * (INLINE_IN + 1)},
            "metadata.plain": {"$ne": 12345.5, "$gte": 67890},
            'metadata.q"k': {"$exists": True},
            "tags": {"$any": [HOSTILE], "$all": ["zyxw"]},
            "status": "failed",
            "document_id": {"$in": list(CORPUS_IDS[:2])},
        }
    )
    condition = compile_filter(parsed, chunks=chunks, documents=documents, dialect_name=dialect.name)
    compiled = condition.compile(dialect=dialect)
    sql = str(compiled)
    for secret in (HOSTILE, "DROP", "12345", "67890", "plain", "zyxw", "failed", 'q"k', "é", CORPUS_IDS[0]):
        assert secret not in sql
    bound = repr(compiled.params)
    for secret in ("DROP", "12345.5", "67890", "zyxw", "failed"):
        assert secret in bound


def test_postgresql_orders_strings_by_code_point_whatever_the_database_collation() -> None:
    """The test server's databases are C.UTF-8, which orders as "C" does, so a missing
    COLLATE "C" would go unnoticed by the queries above; production ones often are not."""
    parsed = parse_filter({"metadata.title": {"$lt": "a"}})
    condition = compile_filter(parsed, chunks=chunks, documents=documents, dialect_name="postgresql")
    assert 'COLLATE "C"' in str(condition.compile(dialect=POSTGRESQL))


def test_other_dialects_are_refused() -> None:
    with pytest.raises(ValueError, match="'mysql'"):
        compile_filter(parse_filter({}), chunks=chunks, documents=documents, dialect_name="mysql")


def test_the_vocabulary_reaches_both_sqlite_routes() -> None:
    """Keys of plain ASCII use json_extract paths; the others json_each (see the module)."""
    plain = parse_filter({"metadata.nested.k": 1})
    other = parse_filter({"metadata.nested.ключ": 1})
    compiled = [
        str(
            compile_filter(f, chunks=chunks, documents=documents, dialect_name="sqlite").compile(
                dialect=SQLITE
            )
        )
        for f in (plain, other)
    ]
    assert "json_extract(chunks.metadata, ?)" in compiled[0]
    assert "json_each" not in compiled[0]
    assert "json_each(chunks.metadata)" in compiled[1]
    assert any(not path.isascii() for path in PATHS)
