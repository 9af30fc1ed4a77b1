"""What row-level security costs a search: the same SQL under RLS and as the table owner.

On the database tenantrag's PostgreSQL contender loaded, for each size class's tenant and
each kind of query (vector; full text with a common and with a rare word; hybrid with
each), tenantrag's public API runs the search once while an SQLAlchemy
``before_cursor_execute`` listener records the statements it sends: its begin statement,
the search's settings statement if it sends one (``plan_cache_mode``, ``hnsw.*``; the
tenant's count) and the statement(s) computing the hits, which already carry an explicit
``tenant_id = ...`` predicate.

Those statements, with their parameters, are then replayed with raw psycopg on ONE
connection set up as tenantrag's (async, binary results, tenantrag's vector adapters,
statements prepared after 5 runs), each repetition in a transaction of its own, in two
modes. Each mode's statements end in a comment naming it, so that each has prepared
statements of its own: a statement prepared under row-level security is re-planned when
it runs as another role, which never happens on tenantrag's connections. (One connection,
not one per mode: the two modes then share a server process, and the noise of a busy
machine.)

- ``rls``: ``BEGIN``, tenantrag's own begin statement as recorded (search_path, ``role``,
  the signed tenant binding through ``tenantrag_bind``, timeout), the settings statement if
  any, the search, ``COMMIT``: the policies apply, each calling ``tenantrag_claim`` once per
  statement to check the binding (adapters/postgres/binding.py);
- ``owner``: ``BEGIN``, the settings statement if any, the search, ``COMMIT`` as the connecting
  user, the bench server's superuser who owns the tables, to whom no policy applies (the
  tables FORCE row-level security, which binds an owner but not a superuser).

Repetitions alternate the two modes (rls first, then owner first) over a few distinct
queries per kind, and every repetition checks both return the same rows. The overhead is
``p50(rls) / p50(owner) - 1`` of the search statement(s) alone; the same ratio of the whole
transaction (which under RLS has one more round trip, the role and tenant) is reported too.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import psycopg
from sqlalchemy import event

from bench import corpus as corpora
from bench.isolated import ClassQueries
from bench.measure import percentile
from bench.server import libpq_url
from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory, open_postgres
from tenantrag.adapters.postgres.engine import BinaryCursor, register_vector
from tenantrag.adapters.postgres.provision import LEAKPROOF_FUNCTIONS
from tenantrag.domain.search import HybridQuery, SearchQuery, TextQuery, VectorQuery

K = 10
# Distinct queries per size class and kind; the repetitions cycle through them.
DISTINCT = 10
WARM_UP = 8
# psycopg's default, and tenantrag's (adapters/postgres/engine.py).
PREPARE_THRESHOLD = 5
# The targets' three modes, and the kinds of query each is measured with.
MODES = {
    "vector": ("vector",),
    "full_text": ("text_common", "text_rare"),
    "hybrid": ("hybrid_common", "hybrid_rare"),
}

Params = dict[str, Any] | Sequence[Any] | None


@attrs.frozen
class Captured:
    """What tenantrag sent for one search: the settings statement and the search itself."""

    # tenantrag's begin statement (role and signed tenant binding), the statements setting
    # the search up (none when tenantrag needs none), then the statement(s) computing the hits.
    begin: tuple[str, Params]
    settings: list[tuple[str, Params]]
    searches: list[tuple[str, Params]]


def queries(
    corpus: corpora.Corpus, tenant: int, vectors: list[list[float]], kind: str, count: int = DISTINCT
) -> list[SearchQuery]:
    """``count`` queries of ``kind`` for the tenant: its own query vectors, a common word
    of the vocabulary, a rare word one of its rows has."""
    rows = corpus.rows_of(tenant)
    found: list[SearchQuery] = []
    for i in range(count):
        vector = vectors[i % len(vectors)]
        common = corpora.COMMON_WORDS[i % len(corpora.COMMON_WORDS)]
        rare = corpus.texts[int(rows[(i * 7919) % len(rows)])].split()[-1]
        word = common if kind.endswith("common") else rare
        if kind == "vector":
            found.append(VectorQuery(embedding=vector, k=K))
        elif kind.startswith("text"):
            found.append(TextQuery(text=word, k=K))
        else:
            found.append(HybridQuery(embedding=vector, text=word, k=K))
    return found


async def capture(factory: PostgresUnitOfWorkFactory, tenant: uuid.UUID, query: SearchQuery) -> Captured:
    sent: list[tuple[str, Params]] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Params, _context: Any, _many: bool
    ) -> None:
        sent.append((statement, parameters))

    engine = factory.runtime_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with factory.tenant(tenant, read_only=True) as uow:
            await uow.chunks.search(query)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    begin = next(i for i, (statement, _) in enumerate(sent) if "set_config('role'" in statement)
    after = sent[begin + 1 :]
    settings = [(s, p) for s, p in after if "set_config(" in s]
    searches = [(s, p) for s, p in after if "set_config(" not in s]
    if not searches:
        raise RuntimeError(f"no search statement from tenantrag's search: {[s for s, _ in sent]}")
    return Captured(sent[begin], settings, searches)


async def _once(
    connection: psycopg.AsyncConnection[Any], captured: Captured, *, role: str | None, tenant: uuid.UUID
) -> tuple[float, float, list[Any]]:
    """One transaction: (seconds of the search statements, seconds of it all, the row ids)."""
    tag = f"\n/* bench: {'rls' if role is not None else 'owner'} */"
    start = time.perf_counter_ns()
    await connection.execute("BEGIN")
    if role is not None:
        await connection.execute(*captured.begin)
    for statement, params in captured.settings:
        await connection.execute(statement + tag, params)
    search_start = time.perf_counter_ns()
    ids: list[Any] = []
    for statement, params in captured.searches:
        cursor = await connection.execute(statement + tag, params)
        ids = [row[0] for row in await cursor.fetchall()]
    search_end = time.perf_counter_ns()
    await connection.execute("COMMIT")
    end = time.perf_counter_ns()
    return (search_end - search_start) / 1e9, (end - start) / 1e9, ids


def _overhead(rls: float, owner: float) -> float | None:
    return rls / owner - 1 if owner > 0 else None


async def _measure(
    url: str, corpus: corpora.Corpus, class_queries: ClassQueries, repetitions: int
) -> dict[str, Any]:
    factory = await open_postgres(url, corpus.dimension, migrate=False)
    role = factory.options.runtime_role
    # As tenantrag's connections: binary results, its vector adapters, statements prepared
    # after PREPARE_THRESHOLD runs (unless it is configured not to prepare).
    threshold = PREPARE_THRESHOLD if factory.options.prepared_statements else None
    connection = await psycopg.AsyncConnection.connect(
        libpq_url(url), autocommit=True, prepare_threshold=threshold, cursor_factory=BinaryCursor
    )
    try:
        await register_vector(connection)
        cursor = await connection.execute(
            "SELECT bool_and(p.proleakproof), current_user,"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
            " FROM unnest(%s::text[]) AS f JOIN pg_proc p ON p.oid = to_regprocedure(f)",
            (list(LEAKPROOF_FUNCTIONS),),
        )
        leakproof, owner, superuser = await cursor.fetchone() or (None, None, None)
        classes: dict[str, Any] = {}
        for class_name, (tenant, vectors, _) in class_queries.items():
            index = corpus.tenants.index(tenant)
            kinds: dict[str, Any] = {}
            for kind in (k for ks in MODES.values() for k in ks):
                wanted = queries(corpus, index, vectors, kind, min(DISTINCT, max(1, repetitions)))
                for query in wanted[:2]:  # the tenant's size and the text configuration
                    await capture(factory, tenant, query)
                captured = [await capture(factory, tenant, query) for query in wanted]
                for rep in range(WARM_UP):  # and past the prepare threshold
                    c = captured[rep % len(captured)]
                    await _once(connection, c, role=role, tenant=tenant)
                    await _once(connection, c, role=None, tenant=tenant)
                times: dict[str, tuple[list[float], list[float]]] = {"rls": ([], []), "owner": ([], [])}
                mismatches = 0
                rows = 0
                for rep in range(repetitions):
                    c = captured[rep % len(captured)]
                    found = {}
                    for mode in ("rls", "owner") if rep % 2 == 0 else ("owner", "rls"):
                        search, whole, ids = await _once(
                            connection, c, role=role if mode == "rls" else None, tenant=tenant
                        )
                        times[mode][0].append(search * 1000)
                        times[mode][1].append(whole * 1000)
                        found[mode] = ids
                    mismatches += found["rls"] != found["owner"]
                    rows += len(found["rls"])
                p50 = {mode: percentile(t[0], 50) for mode, t in times.items()}
                p50_all = {mode: percentile(t[1], 50) for mode, t in times.items()}
                kinds[kind] = {
                    "rls_p50_ms": p50["rls"],
                    "owner_p50_ms": p50["owner"],
                    "overhead": _overhead(p50["rls"], p50["owner"]),
                    "rls_transaction_p50_ms": p50_all["rls"],
                    "owner_transaction_p50_ms": p50_all["owner"],
                    "transaction_overhead": _overhead(p50_all["rls"], p50_all["owner"]),
                    # The median of each repetition's own ratio: less moved by a busy machine.
                    "paired_overhead": percentile(
                        [
                            a / b - 1
                            for a, b in zip(*(times[m][0] for m in ("rls", "owner")), strict=True)
                            if b > 0
                        ],
                        50,
                    ),
                    "mean_rows": rows / repetitions if repetitions else 0,
                    "mismatches": mismatches,
                }
            classes[class_name] = kinds
    finally:
        await connection.close()
        await factory.dispose()
    overheads: dict[str, float | None] = {}
    for mode, kinds_of_mode in MODES.items():
        values = [classes[c][k]["overhead"] for c in classes for k in kinds_of_mode]
        overheads[mode] = None if not values or None in values else max(values)
    return {
        "method": "tenantrag's own SQL replayed with raw psycopg (async, one connection set up as"
        " tenantrag's, prepared after 5 runs, per mode), in a transaction as the runtime role with the"
        " tenant bound vs as the owner (superuser), interleaved; overhead = p50 under RLS / p50 as"
        " owner - 1 of the search statements",
        "prepare_threshold": threshold,
        "runtime_role": role,
        "owner": owner,
        "owner_is_superuser": superuser,
        "text_match_leakproof": leakproof,
        "repetitions": repetitions,
        "classes": classes,
        # Per mode, the worst over size classes and kinds of query.
        "overhead": overheads,
    }


def measure(
    url: str, corpus: corpora.Corpus, class_queries: ClassQueries, *, repetitions: int
) -> dict[str, Any]:
    return asyncio.run(_measure(url, corpus, class_queries, repetitions))
