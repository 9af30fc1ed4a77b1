"""Get-by-id and list: tenantrag's repositories against raw psycopg, in microseconds per call.

On the database tenantrag's PostgreSQL contender loaded, ``prepare`` (untimed) adds
``documents_per_tenant`` documents to every tenant through the API. Then, interleaved
(the order alternating every repetition), over the same documents:

- ``unit_of_work``: one call each with everything an RLS application must do around it.
  tenantrag: ``async with factory.tenant(t, read_only=True) as uow: await
  uow.documents.get(id)`` (a pooled connection, its begin statement binding role and
  tenant, the SELECT, the row made a ``Document``, rollback). Raw psycopg (async, one
  connection, its defaults: text results, statements prepared after 5 runs):
  ``BEGIN``; ``SELECT set_config('role', ...), tenantrag_bind(<the signed tenant>)``;
  ``SELECT * FROM documents WHERE tenant_id = %s AND id = %s``; ``COMMIT``; a tuple.
- ``bare``: the repository call inside a unit of work already open, against the bare
  SELECT inside a transaction already open (role and tenant bound); a unit of work and a
  transaction per ``BARE_BATCH`` calls.

``list`` is the same with the first page (``PageRequest(limit=LIST_LIMIT)``, keyset order
by ``created_at, id``) against ``... WHERE tenant_id = %s ORDER BY created_at, id LIMIT
LIST_LIMIT + 1``. tenantrag's units of work are also timed with ``pool_pre_ping`` off (a
second factory), to show what the default's check of every pooled connection costs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import psycopg

from bench import corpus as corpora
from bench.contenders._tenantrag import NOW
from bench.measure import percentile
from bench.server import libpq_url
from tenantrag.adapters.postgres import PostgresOptions, PostgresUnitOfWorkFactory, open_postgres
from tenantrag.domain.model.document import Document
from tenantrag.domain.pagination import PageRequest

LIST_LIMIT = 50
BARE_BATCH = 50
WARM_UP = 20
# The role and the signed tenant binding (adapters/postgres/binding.py), as tenantrag's begin.
_ROLE_AND_TENANT = (
    "SELECT set_config('role', %s, true),"
    " tenantrag_bind(ARRAY['current_tenant_id'], ARRAY[%s::text], ARRAY[%s::text])"
)
_GET = "SELECT * FROM documents WHERE tenant_id = %s AND id = %s"
_LIST = "SELECT * FROM documents WHERE tenant_id = %s ORDER BY created_at, id LIMIT %s"


async def bind_raw(
    raw: psycopg.AsyncConnection[Any], factory: PostgresUnitOfWorkFactory, tenant: uuid.UUID
) -> None:
    key = factory.dialect.keys.key
    assert key is not None  # read by open_postgres
    token = key.token("current_tenant_id", str(tenant))
    await raw.execute(_ROLE_AND_TENANT, (factory.options.runtime_role, str(tenant), token))


def documents(tenant: uuid.UUID, count: int) -> list[Document]:
    return [
        Document(
            id=uuid.uuid5(tenant, f"crud-{i}"),
            tenant_id=tenant,
            filename=f"crud-{i}.txt",
            title=f"Document {i}",
            storage_key=f"bench/crud/{tenant}/{i}",
            size_bytes=1000 + i,
            metadata={"source": "bench", "index": i},
            tags=("bench", f"group-{i % 5}"),
            created_at=NOW + timedelta(seconds=i),
            updated_at=NOW + timedelta(seconds=i),
        )
        for i in range(count)
    ]


async def prepare(
    factory: PostgresUnitOfWorkFactory, tenants: list[uuid.UUID], count: int
) -> list[uuid.UUID]:
    """Add ``count`` documents to every tenant (untimed); their ids, tenant by tenant."""
    ids: list[uuid.UUID] = []
    for tenant in tenants:
        batch = documents(tenant, count)
        async with factory.tenant(tenant) as uow:
            for document in batch:
                await uow.documents.add(document)
            await uow.commit()
        ids += [d.id for d in batch]
    return ids


Call = Callable[[uuid.UUID, uuid.UUID], Awaitable[object]]


async def _interleaved(
    contenders: Mapping[str, Call], work: list[tuple[uuid.UUID, uuid.UUID]]
) -> dict[str, list[float]]:
    """Microseconds per call of each contender on each (tenant, id), the order rotating."""
    names = list(contenders)
    found: dict[str, list[float]] = {name: [] for name in names}
    for rep, (tenant, key) in enumerate(work):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter_ns()
            result = await contenders[name](tenant, key)
            found[name].append((time.perf_counter_ns() - start) / 1000)
            if result is None:
                raise RuntimeError(f"{name} found nothing for {key} of tenant {tenant}")
    return found


def _summary(times: dict[str, list[float]], baseline: str) -> dict[str, Any]:
    p50 = {name: percentile(values, 50) for name, values in times.items()}
    return {
        "p50_us": p50,
        "mean_us": {name: sum(values) / len(values) for name, values in times.items()},
        "ratio": {name: p50[name] / p50[baseline] for name in times if name != baseline},
    }


async def _measure(url: str, corpus: corpora.Corpus, per_tenant: int, repetitions: int) -> dict[str, Any]:
    factory = await open_postgres(url, corpus.dimension, migrate=False)
    no_ping = await open_postgres(
        url, corpus.dimension, migrate=False, options=PostgresOptions(pool_pre_ping=False)
    )
    role = factory.options.runtime_role
    raw = await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True)
    try:
        ids = await prepare(factory, corpus.tenants, per_tenant)
        owners = [t for t in corpus.tenants for _ in range(per_tenant)]
        # A seeded walk over every document, so no call is answered by a cache of the last.
        order = [(owners[i], ids[i]) for i in _shuffled(len(ids), repetitions)]

        async def tenantrag_get(tenant: uuid.UUID, key: uuid.UUID) -> object:
            async with factory.tenant(tenant, read_only=True) as uow:
                return await uow.documents.get(key)

        async def no_ping_get(tenant: uuid.UUID, key: uuid.UUID) -> object:
            async with no_ping.tenant(tenant, read_only=True) as uow:
                return await uow.documents.get(key)

        async def raw_get(tenant: uuid.UUID, key: uuid.UUID) -> object:
            async with raw.transaction():
                await bind_raw(raw, factory, tenant)
                cursor = await raw.execute(_GET, (tenant, key))
                return await cursor.fetchone()

        async def tenantrag_list(tenant: uuid.UUID, _key: uuid.UUID) -> object:
            async with factory.tenant(tenant, read_only=True) as uow:
                page = await uow.documents.list(PageRequest(limit=LIST_LIMIT))
                return page if len(page) == LIST_LIMIT else None

        async def no_ping_list(tenant: uuid.UUID, _key: uuid.UUID) -> object:
            async with no_ping.tenant(tenant, read_only=True) as uow:
                page = await uow.documents.list(PageRequest(limit=LIST_LIMIT))
                return page if len(page) == LIST_LIMIT else None

        async def raw_list(tenant: uuid.UUID, _key: uuid.UUID) -> object:
            async with raw.transaction():
                await bind_raw(raw, factory, tenant)
                cursor = await raw.execute(_LIST, (tenant, LIST_LIMIT + 1))
                rows = await cursor.fetchall()
                return rows if len(rows) == LIST_LIMIT + 1 else None

        uow_get = {"tenantrag": tenantrag_get, "tenantrag_no_pre_ping": no_ping_get, "raw_psycopg": raw_get}
        uow_list = {
            "tenantrag": tenantrag_list,
            "tenantrag_no_pre_ping": no_ping_list,
            "raw_psycopg": raw_list,
        }
        await _interleaved(uow_get, order[:WARM_UP])
        await _interleaved(uow_list, order[:WARM_UP])
        get_times = await _interleaved(uow_get, order)
        list_times = await _interleaved(uow_list, order)
        bare_get, bare_list = await _bare(factory, raw, role, order)
    finally:
        await raw.close()
        await factory.dispose()
        await no_ping.dispose()
    return {
        "method": "microseconds per call, interleaved; raw psycopg is async (psycopg 3"
        " AsyncConnection, one connection, default text results and prepare threshold)",
        "documents": len(ids),
        "repetitions": repetitions,
        "list_limit": LIST_LIMIT,
        "get_by_id": {
            "unit_of_work": _summary(get_times, "raw_psycopg"),
            "bare": _summary(bare_get, "raw_psycopg"),
        },
        "list": {
            "unit_of_work": _summary(list_times, "raw_psycopg"),
            "bare": _summary(bare_list, "raw_psycopg"),
        },
    }


async def _bare(
    factory: PostgresUnitOfWorkFactory,
    raw: psycopg.AsyncConnection[Any],
    role: str,
    order: list[tuple[uuid.UUID, uuid.UUID]],
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The calls alone, inside a unit of work and a raw transaction open for the tenant."""
    get_times: dict[str, list[float]] = {"tenantrag": [], "raw_psycopg": []}
    list_times: dict[str, list[float]] = {"tenantrag": [], "raw_psycopg": []}
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = {}
    for tenant, key in order:
        by_tenant.setdefault(tenant, []).append(key)
    batches = [
        (tenant, keys[start : start + BARE_BATCH])
        for tenant, keys in by_tenant.items()
        for start in range(0, len(keys), BARE_BATCH)
    ]
    for tenant, keys in batches:
        async with factory.tenant(tenant, read_only=True) as uow, raw.transaction():
            await bind_raw(raw, factory, tenant)

            async def tenantrag_get(_tenant: uuid.UUID, key: uuid.UUID) -> object:
                return await uow.documents.get(key)

            async def raw_get(tenant: uuid.UUID, key: uuid.UUID) -> object:
                cursor = await raw.execute(_GET, (tenant, key))
                return await cursor.fetchone()

            async def tenantrag_list(_tenant: uuid.UUID, _key: uuid.UUID) -> object:
                return await uow.documents.list(PageRequest(limit=LIST_LIMIT))

            async def raw_list(tenant: uuid.UUID, _key: uuid.UUID) -> object:
                cursor = await raw.execute(_LIST, (tenant, LIST_LIMIT + 1))
                return await cursor.fetchall()

            work = [(tenant, key) for key in keys]
            found = await _interleaved({"tenantrag": tenantrag_get, "raw_psycopg": raw_get}, work)
            listed = await _interleaved({"tenantrag": tenantrag_list, "raw_psycopg": raw_list}, work)
        for name in get_times:
            get_times[name] += found[name]
            list_times[name] += listed[name]
    return get_times, list_times


def _shuffled(count: int, length: int) -> list[int]:
    import numpy as np

    rng = np.random.default_rng(7)
    picks = np.concatenate([rng.permutation(count) for _ in range(length // count + 1)])
    return [int(i) for i in picks[:length]]


def measure(
    url: str, corpus: corpora.Corpus, *, documents_per_tenant: int, repetitions: int
) -> dict[str, Any]:
    return asyncio.run(_measure(url, corpus, documents_per_tenant, repetitions))
