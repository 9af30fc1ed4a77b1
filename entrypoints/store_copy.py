"""Moving a store to another database: ``tenantrag copy SOURCE TARGET``.

The growth path out of the embedded default: a SQLite file (or one PostgreSQL database)
copied into PostgreSQL (or back), whole or some tenants, with the originals. The rows
travel through ``adapters/sql/store_copy.py`` (every table and column, ids kept, in
resumable batches); the target's schema is made (``init``) first with the source's
embedding dimension, and its embedder record must match the source's. At the end the
copy is verified: rows per table and tenant, every user and tenant present, every
original present, and the same searches on a sample of each side answered alike (text
search exactly, within float tolerance; vector search by its top hit and recall, since
PostgreSQL may answer a large tenant from its approximate index).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import attrs
from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.blobs import LocalBlobStore
from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql import store_copy as tables
from tenantrag.adapters.sql.migration_engine import create_migration_engine
from tenantrag.adapters.sql.types import Embedding
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, TenantRagError
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import SearchHit, TextQuery, VectorQuery
from tenantrag.entrypoints.backends import (
    DatabaseUnavailable,
    close_backend,
    create_schema,
    open_backend,
    require_current_schema,
)
from tenantrag.entrypoints.settings import Settings

#: Scores of one search on the two sides may differ by this share: SQLite and PostgreSQL count a
#: chunk's words for BM25's length normalisation slightly differently (within about 1%), and
#: sum float32 vectors in another order.
SCORE_TOLERANCE = 0.02
#: Share of the source's vector hits the target must return (approximate index allowed).
MIN_VECTOR_RECALL = 0.9
SAMPLED_CHUNKS_PER_TENANT = 3
_QUERY_WORDS = 12


class CopyMismatch(TenantRagError):
    """The target does not hold what the source holds after a copy."""

    code = "copy_mismatch"


@attrs.frozen
class CopyReport:
    source: str
    target: str
    tenants: int
    rows: dict[str, int]
    blobs_copied: int
    blobs_present: int
    searches_compared: int


async def copy_store(
    source: Settings,
    target: Settings,
    *,
    tenants: Sequence[str] = (),
    batch_size: int = 500,
    originals: bool = True,
    verify: bool = True,
    sample_tenants: int = 5,
    progress: tables.Progress | None = None,
) -> CopyReport:
    """Copy ``tenants`` (slugs or ids; every tenant when empty) from ``source`` to ``target``.

    Run it again after an interruption: it goes on where it stopped. Raises
    :class:`CopyMismatch` (details name each difference) when verification fails.
    """
    _check_pair(source, target)
    if isinstance(sample_tenants, bool) or not isinstance(sample_tenants, int) or sample_tenants < 0:
        raise InvalidInput("sample_tenants", f"must be a whole number, 0 or more, got {sample_tenants!r}")
    source_engine = await _source_engine(source)
    target_engine: AsyncEngine | None = None
    try:
        record = await tables.embedder_record(source_engine)
        dimension = source.embedding_dimension if record is None else record.dimension
        target = target.model_copy(update={"embedding_dimension": dimension})
        await create_schema(target)
        target_engine = create_migration_engine(target.database_url)
        theirs = await tables.embedder_record(target_engine)
        if theirs is not None and record is not None and theirs != record:
            raise Conflict(
                f"the target's vectors come from {theirs.name} ({theirs.dimension} dimensions), the"
                f" source's from {record.name} ({record.dimension}): copy into an empty database"
            )
        ids = await (
            tables.resolve_tenants(source_engine, tenants) if tenants else tables.all_tenants(source_engine)
        )
        copier = tables.TableCopier(
            source_engine,
            target_engine,
            dimension=dimension,
            tenants=ids,
            whole_store=not tenants,
            batch_size=batch_size,
            progress=progress,
        )
        rows = await copier.run()
        copied, present = (0, 0)
        if originals:
            copied, present = await _copy_originals(source, target, source_engine, ids)
        compared = 0
        if verify:
            await _verify_rows(source_engine, target_engine, ids, whole_store=not tenants)
            compared = await _verify_searches(
                source, target, source_engine, tenants=ids, dimension=dimension, sample_tenants=sample_tenants
            )
        return CopyReport(
            source.redacted_database_url,
            target.redacted_database_url,
            len(ids),
            rows,
            copied,
            present,
            compared,
        )
    finally:
        await source_engine.dispose()
        if target_engine is not None:
            await target_engine.dispose()


def _check_pair(source: Settings, target: Settings) -> None:
    for field, settings in (("source", source), ("target", target)):
        if settings.backend == "memory":
            raise InvalidInput(
                field, "memory:// lives in one process only: copy from or into a file or PostgreSQL"
            )
    same_file = source.sqlite_path is not None and source.sqlite_path.resolve() == _resolved(
        target.sqlite_path
    )
    if same_file or source.database_url == target.database_url:
        raise InvalidInput("target", f"is the source itself ({source.redacted_database_url})")


def _resolved(path: Path | None) -> Path | None:
    return None if path is None else path.resolve()


async def _source_engine(source: Settings) -> AsyncEngine:
    if source.sqlite_path is not None and not source.sqlite_path.exists():
        raise DatabaseUnavailable(f"no database at {source.redacted_database_url} to copy from")
    await require_current_schema(
        source, "upgrade the source first (`tenantrag db upgrade --database-url ...`)"
    )
    return create_migration_engine(source.database_url)


async def _copy_originals(
    source: Settings, target: Settings, engine: AsyncEngine, tenants: Sequence[uuid.UUID]
) -> tuple[int, int]:
    """Every original the copied documents name, into the target's blob folder: (copied,
    already there). A missing or corrupted original is a mismatch, named."""
    source_folder, target_folder = source.blob_store_folder, target.blob_store_folder
    if source_folder is None or target_folder is None:
        return 0, 0
    source_blobs, target_blobs = LocalBlobStore(source_folder), LocalBlobStore(target_folder)
    copied = present = 0
    missing: list[str] = []
    for tenant in tenants:
        for key in await tables.storage_keys(engine, tenant):
            if await target_blobs.exists(tenant, key):
                present += 1
                continue
            try:
                data = await source_blobs.get(tenant, key)
            except NotFound:
                missing.append(f"{tenant}/{key}")
                continue
            await target_blobs.put(tenant, key, data)
            copied += 1
    if missing:
        raise CopyMismatch(
            f"{len(missing)} original(s) are missing from {source_folder} (the rows were copied; pass"
            " --no-originals to copy without them)",
            details={"missing_originals": missing[:100]},
        )
    return copied, present


async def _verify_rows(
    source: AsyncEngine, target: AsyncEngine, tenants: Sequence[uuid.UUID], *, whole_store: bool
) -> None:
    problems: list[str] = []
    theirs = await tables.count_rows(target, tenants)
    for table, per_tenant in (await tables.count_rows(source, tenants)).items():
        for tenant, count in per_tenant.items():
            # Fewer is a loss. More is allowed: a target already in service gains rows (query
            # logs) between two copies, and no row can arrive twice (primary keys).
            found = theirs.get(table, {}).get(tenant, 0)
            if found < count:
                problems.append(f"{table} of tenant {tenant}: {count} in the source, {found} in the target")
    if await tables.count_present(target, schema.tenants, list(tenants)) != len(tenants):
        problems.append("tenants: not every copied tenant is in the target")
    if whole_store:
        async with source.connect() as connection:
            users = list((await connection.scalars(select(schema.users.c.id))).all())
        if await tables.count_present(target, schema.users, users) != len(users):
            problems.append("users: not every user of the source is in the target")
    if problems:
        raise CopyMismatch(f"the copy differs from the source: {problems[0]}", details={"problems": problems})


async def _verify_searches(
    source: Settings,
    target: Settings,
    engine: AsyncEngine,
    *,
    tenants: Sequence[uuid.UUID],
    dimension: int,
    sample_tenants: int,
) -> int:
    """The same text and vector searches, on up to ``sample_tenants`` tenants, on both sides."""
    sides: list[UnitOfWorkFactory] = []
    problems: list[str] = []
    compared = 0
    try:
        for settings in (source, target):  # one at a time: each must be closed if the next fails
            sides.append(await open_backend(settings.model_copy(update={"embedding_dimension": dimension})))  # noqa: PERF401
        for tenant in tenants[:sample_tenants]:
            for content, embedding in await _sample_chunks(engine, tenant, dimension):
                text_query = TextQuery(text=" ".join(content.split()[:_QUERY_WORDS]) or "x", k=10)
                found = [await _search(side, tenant, text_query) for side in sides]
                if not _same_ranking(*found):
                    problems.append(f"tenant {tenant}: text search {text_query.text!r} differs")
                vector = [
                    await _search(side, tenant, VectorQuery(embedding=embedding, k=10)) for side in sides
                ]
                if not _similar_ranking(*vector):
                    problems.append(f"tenant {tenant}: vector search for a chunk differs")
                compared += 2
    finally:
        for side in sides:
            await close_backend(side)
    if problems:
        raise CopyMismatch(f"searches differ after the copy: {problems[0]}", details={"problems": problems})
    return compared


async def _sample_chunks(
    engine: AsyncEngine, tenant: uuid.UUID, dimension: int
) -> list[tuple[str, tuple[float, ...]]]:
    chunks = schema.chunks
    embedding = type_coerce(chunks.c.embedding, Embedding(dimension)).label("embedding")
    query = (
        select(chunks.c.content, embedding)
        .where(chunks.c.tenant_id == tenant)
        .order_by(func.random())
        .limit(SAMPLED_CHUNKS_PER_TENANT)
    )
    async with engine.connect() as connection:
        await tables.bind_tenant(connection, tenant)
        rows = (await connection.execute(query)).all()
        await connection.rollback()
    return [(row.content, row.embedding) for row in rows if any(row.embedding)]


async def _search(
    factory: UnitOfWorkFactory, tenant: uuid.UUID, query: TextQuery | VectorQuery
) -> list[SearchHit]:
    async with factory.tenant(tenant, read_only=True) as uow:
        return list(await uow.chunks.search(query))


def _same_ranking(ours: list[SearchHit], theirs: list[SearchHit]) -> bool:
    """The same chunks with the same scores (ties may come in another order)."""
    mine = {hit.chunk_id: hit.score for hit in ours}
    other = {hit.chunk_id: hit.score for hit in theirs}
    return mine.keys() == other.keys() and all(_close(mine[key], other[key]) for key in mine)


def _similar_ranking(ours: list[SearchHit], theirs: list[SearchHit]) -> bool:
    if not ours:
        return not theirs
    if not theirs or not _close(ours[0].score, theirs[0].score):
        return False
    found = {hit.chunk_id for hit in theirs}
    return sum(hit.chunk_id in found for hit in ours) >= MIN_VECTOR_RECALL * len(ours)


def _close(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= SCORE_TOLERANCE * max(abs(ours), abs(theirs), 0.05)
