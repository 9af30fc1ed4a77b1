"""``python -m bench fulltext [--scale N] [--dimensions D] [--backends ...]``: full-text search
speed on each backend, through the library as an application calls it.

The corpus is the suite's word mix (bench/corpus.py: seven of eight common words and one
of 200 rare ones per chunk) in two tenants, 40% and 60% of ``--scale`` chunks. For the 40%
tenant it times, p50 of 15 searches each, one word found in about 60% of its chunks
(``cat``), a rare word (``rare042``, about 0.5%), and two-word questions of each kind. To
compare with another version of tenantrag, run this file at that commit (it uses only the
library and the test suite's factories): the numbers in bench/RESULTS.md were taken that way.

PostgreSQL rows are written with SQL (as a superuser, the chunks' embeddings all the same),
so that loading takes a minute; SQLite's go through the unit of work.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.corpus import COMMON_WORDS, RARE_WORDS
from bench.server import Databases, running_server

QUERIES = ("cat", "rare042", "cat dog", "river rare042")
REPEATS = 15

_DOCUMENTS = (
    "INSERT INTO documents (tenant_id, id, filename, title, media_type, size_bytes, status,"
    " storage_key, version, metadata, tags, chunk_count, created_at, updated_at)"
    " SELECT :t, d, 'f', 't', 'text/plain', 1, 'completed', d::text, 1, '{}', '[]', 1, now(), now()"
    " FROM (SELECT gen_random_uuid() AS d FROM generate_series(1, :n / 10)) AS x"
)
_CHUNKS = (
    "INSERT INTO chunks (tenant_id, id, document_id, ordinal, content, content_sha256, embedding,"
    " token_count, metadata, created_at)"
    " SELECT :t, gen_random_uuid(), docs.id, g.i, g.content, 'x', v.e, 8, '{{}}', now()"
    " FROM (SELECT i, i / 10 AS doc, (SELECT string_agg((CAST(:common AS text[]))"
    "[1 + floor(random() * 8)::int], ' ') FROM generate_series(1, 7) WHERE i >= 0)"
    " || ' rare' || lpad(floor(random() * {rare})::int::text, 3, '0') AS content"
    " FROM generate_series(0, :n - 1) AS i) AS g"
    " JOIN (SELECT id, row_number() OVER () - 1 AS n FROM documents WHERE tenant_id = :t) AS docs"
    " ON docs.n = g.doc"
    " CROSS JOIN (SELECT array_agg(random())::vector AS e FROM generate_series(1, {dim})) AS v"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench fulltext", description=__doc__)
    p.add_argument("--scale", type=int, default=100_000, help="chunks in all (default 100000)")
    p.add_argument("--dimensions", type=int, default=384)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--database-url", default=None, help="a PostgreSQL server of one's own")
    return p


async def _timed(factory: Any, tenant_id: uuid.UUID) -> dict[str, float]:
    from tenantrag.domain.search import TextQuery

    found: dict[str, float] = {}
    for words in QUERIES:
        times = []
        for _ in range(REPEATS):
            async with factory.tenant(tenant_id, read_only=True) as uow:
                started = time.perf_counter()
                await uow.chunks.search(TextQuery(text=words, k=10))
                times.append(time.perf_counter() - started)
        found[words] = statistics.median(times) * 1000
    return found


async def postgresql(scale: int, dimension: int, database_url: str | None) -> dict[str, float]:
    from tenantrag.adapters.postgres import open_postgres
    from tenantrag.adapters.postgres.engine import create_postgres_engine
    from tests.contract.factories import seed_tenant

    with running_server(database_url) as server:
        databases = Databases(server)
        try:
            url = databases.create("fulltext")
            factory = await open_postgres(url, dimension, migrate=True)
            big = (await seed_tenant(factory)).tenant.id
            other = (await seed_tenant(factory)).tenant.id
            raw = create_postgres_engine(url)
            chunks = _CHUNKS.format(rare=len(RARE_WORDS), dim=dimension)
            async with raw.begin() as connection:
                for tenant_id, count in ((big, scale * 2 // 5), (other, scale - scale * 2 // 5)):
                    values = {"t": tenant_id, "n": count, "common": list(COMMON_WORDS)}
                    await connection.execute(text(_DOCUMENTS), values)
                    await connection.execute(text(chunks), values)
            async with raw.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
                await connection.execute(text("VACUUM ANALYZE"))
            await raw.dispose()
            try:
                return await _timed(factory, big)
            finally:
                await factory.dispose()
        finally:
            databases.drop_all()


async def sqlite(scale: int, dimension: int) -> dict[str, float]:
    import attrs
    import numpy as np

    from tenantrag.adapters.sqlite import open_sqlite
    from tenantrag.domain.model.document import sha256_hex
    from tests.contract.factories import make_chunk, make_document, seed_tenant

    rng = np.random.default_rng(7)
    vector = (1.0,) + (0.0,) * (dimension - 1)
    with tempfile.TemporaryDirectory(prefix="tenantrag-bench-fts-") as folder:
        factory = await open_sqlite(f"sqlite:///{Path(folder) / 'bench.db'}", dimension)
        try:
            big = (await seed_tenant(factory)).tenant.id
            other = (await seed_tenant(factory)).tenant.id
            for tenant_id, count in ((big, scale * 2 // 5), (other, scale - scale * 2 // 5)):
                for start in range(0, count, 1000):
                    document = make_document(tenant_id)
                    batch = []
                    for ordinal in range(min(1000, count - start)):
                        common = rng.integers(0, len(COMMON_WORDS), size=7)
                        rare = RARE_WORDS[int(rng.integers(0, len(RARE_WORDS)))]
                        content = " ".join([*(COMMON_WORDS[w] for w in common), rare])
                        chunk = make_chunk(document, ordinal, vector)
                        batch.append(attrs.evolve(chunk, content=content, content_sha256=sha256_hex(content)))
                    async with factory.tenant(tenant_id) as uow:
                        await uow.documents.add(document)
                        await uow.chunks.add_many(batch)
                        await uow.commit()
            return await _timed(factory, big)
        finally:
            await factory.dispose()


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    print(
        f"p50 ms of {REPEATS} text searches, k=10, in a tenant of {args.scale * 2 // 5} chunks"
        f" (of {args.scale}), {args.dimensions} dimensions"
    )
    print("| backend | " + " | ".join(f"`{q}`" for q in QUERIES) + " |")
    print("| --- |" + " --- |" * len(QUERIES))
    for backend in backends:
        if backend == "postgresql":
            found = asyncio.run(postgresql(args.scale, args.dimensions, args.database_url))
        elif backend == "sqlite":
            found = asyncio.run(sqlite(args.scale, args.dimensions))
        else:
            parser().error(f"--backends: unknown backend {backend!r} (sqlite, postgresql)")
        print(f"| {backend} | " + " | ".join(f"{found[q]:.2f}" for q in QUERIES) + " |", flush=True)
    return 0
