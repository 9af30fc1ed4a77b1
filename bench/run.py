"""One benchmark run: every contender, every dimension, the same corpus and queries.

Each contender is measured in a process of its own (isolated.py); then, on the database
tenantrag's PostgreSQL contender loaded, the row-level security overhead (rls.py) and
get-by-id and list against raw psycopg (crud.py).
"""

from __future__ import annotations

import platform
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import corpus as corpora
from bench import crud, rls
from bench.contenders import NAMES
from bench.isolated import ClassQueries, K, measure_isolated, write_inputs
from bench.server import Databases, running_server

TENANTRAG_POSTGRES = "tenantrag_postgres"


def run_dimension(
    *,
    dimension: int,
    scale: int,
    seed: int,
    queries_per_class: int,
    spread_queries: int,
    databases: Databases,
    workdir: str,
    rls_repetitions: int,
    crud_documents: int,
    crud_repetitions: int,
) -> dict[str, Any]:
    corpus = corpora.generate(scale, dimension, seed)
    rng = np.random.default_rng([seed, dimension, 1])
    class_queries: ClassQueries = {}
    for name, tenant in corpus.classes.items():
        vectors = corpora.queries(corpus, tenant, queries_per_class, rng)
        truth = corpora.exact_top_k(corpus, tenant, vectors, K)
        class_queries[name] = (corpus.tenants[tenant], vectors.tolist(), truth)
    spread = [
        (
            corpus.tenants[i % len(corpus.tenants)],
            corpora.queries(corpus, i % len(corpus.tenants), 1, rng)[0].tolist(),
        )
        for i in range(spread_queries)
    ]
    inputs = Path(workdir) / f"inputs-{dimension}.pickle"
    write_inputs(inputs, corpus, class_queries, spread)
    contenders: dict[str, Any] = {}
    tenantrag_url: str | None = None
    for name in NAMES:
        print(f"[{dimension}] {name} ...", flush=True)
        result, created = measure_isolated(
            name, inputs=inputs, server_url=databases.server_url, workdir=workdir
        )
        databases.adopt(created)
        contenders[name] = result
        if name == TENANTRAG_POSTGRES and "error" not in result and created:
            tenantrag_url = databases.url(created[0])
    inputs.unlink()
    rls_result = _extra(
        "row-level security",
        tenantrag_url,
        lambda url: rls.measure(url, corpus, class_queries, repetitions=rls_repetitions),
    )
    crud_result = _extra(
        "CRUD",
        tenantrag_url,
        lambda url: crud.measure(
            url, corpus, documents_per_tenant=crud_documents, repetitions=crud_repetitions
        ),
    )
    return {
        "rows": corpus.rows,
        "tenants": len(corpus.tenants),
        "tenant_sizes": corpus.tenant_sizes(),
        "contenders": contenders,
        "rls": rls_result,
        "crud": crud_result,
    }


def _extra(what: str, url: str | None, measure: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """A measure on tenantrag's loaded database; its error, if any, is its result."""
    if url is None:
        return {"error": f"{TENANTRAG_POSTGRES} failed, so there is no database to measure {what} on"}
    print(f"  {what} ...", flush=True)
    try:
        return measure(url)
    except Exception as error:
        traceback.print_exc()
        return {"error": repr(error)}


def run(
    *,
    scale: int,
    dimensions: list[int],
    seed: int,
    database_url: str | None,
    queries_per_class: int,
    spread_queries: int,
    rls_repetitions: int = 200,
    crud_documents: int = 125,
    crud_repetitions: int = 2000,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "scale": scale,
        "seed": seed,
        "k": K,
        "queries_per_class": queries_per_class,
        "spread_queries": spread_queries,
        "rls_repetitions": rls_repetitions,
        "crud_documents_per_tenant": crud_documents,
        "crud_repetitions": crud_repetitions,
        "dimensions": {},
    }
    with (
        running_server(database_url) as server,
        tempfile.TemporaryDirectory(prefix="tenantrag-bench-") as workdir,
    ):
        databases = Databases(server)
        try:
            results["server"] = server_versions(databases)
            for dimension in dimensions:
                results["dimensions"][str(dimension)] = run_dimension(
                    dimension=dimension,
                    scale=scale,
                    seed=seed,
                    queries_per_class=queries_per_class,
                    spread_queries=spread_queries,
                    databases=databases,
                    workdir=workdir,
                    rls_repetitions=rls_repetitions,
                    crud_documents=crud_documents,
                    crud_repetitions=crud_repetitions,
                )
        finally:
            databases.drop_all()
    return results


def server_versions(databases: Databases) -> dict[str, str]:
    import psycopg

    from bench.server import libpq_url

    url = databases.create("versions")
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        row = connection.execute(
            "SELECT current_setting('server_version'), extversion FROM pg_extension WHERE extname = 'vector'"
        ).fetchone()
    assert row is not None
    return {"postgresql": str(row[0]), "pgvector": str(row[1])}
