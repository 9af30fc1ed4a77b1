"""One benchmark run: every contender, every dimension, the same corpus and queries."""

from __future__ import annotations

import platform
import tempfile
import traceback
import uuid
from typing import Any

import numpy as np

from bench import corpus as corpora
from bench.contenders import Contender, all_contenders
from bench.measure import peak_rss_mb, percentile, recall, timed
from bench.server import Databases, running_server

K = 10
WARM_UP = 3


def measure_contender(
    contender: Contender,
    corpus: corpora.Corpus,
    class_queries: dict[str, tuple[uuid.UUID, list[list[float]], list[list[uuid.UUID]]]],
    spread: list[tuple[uuid.UUID, list[float]]],
) -> dict[str, Any]:
    contender.prepare(corpus)
    rss_before = peak_rss_mb()
    _, seconds = timed(lambda: contender.ingest(corpus))
    result: dict[str, Any] = {
        "description": contender.description,
        "ingest_seconds": seconds,
        "ingest_rows_per_second": corpus.rows / seconds,
    }
    for tenant, vectors, _ in class_queries.values():
        for vector in vectors[:WARM_UP]:
            contender.search(tenant, vector, K)
    classes: dict[str, Any] = {}
    for name, (tenant, vectors, truth) in class_queries.items():
        latencies, recalls = [], []
        for vector, expected in zip(vectors, truth, strict=True):
            found, took = timed(lambda t=tenant, v=vector: contender.search(t, v, K))  # type: ignore[misc]
            latencies.append(took * 1000)
            recalls.append(recall(found, expected))
        classes[name] = {
            "rows": int(np.count_nonzero(corpus.tenant_of == corpus.classes[name])),
            "recall_at_10": float(np.mean(recalls)),
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
        }
    result["classes"] = classes
    _, seconds = timed(lambda: [contender.search(t, v, K) for t, v in spread])
    result["qps"] = len(spread) / seconds
    result["peak_rss_mb"] = peak_rss_mb()
    result["peak_rss_growth_mb"] = peak_rss_mb() - rss_before
    return result


def run_dimension(
    *,
    dimension: int,
    scale: int,
    seed: int,
    queries_per_class: int,
    spread_queries: int,
    databases: Databases,
    workdir: str,
) -> dict[str, Any]:
    corpus = corpora.generate(scale, dimension, seed)
    rng = np.random.default_rng([seed, dimension, 1])
    class_queries = {}
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
    contenders: dict[str, Any] = {}
    for contender in all_contenders(databases, workdir):
        print(f"[{dimension}] {contender.name} ...", flush=True)
        try:
            contenders[contender.name] = measure_contender(contender, corpus, class_queries, spread)
        except Exception as error:
            traceback.print_exc()
            contenders[contender.name] = {"description": contender.description, "error": repr(error)}
        finally:
            contender.close()
    return {
        "rows": corpus.rows,
        "tenants": len(corpus.tenants),
        "tenant_sizes": corpus.tenant_sizes(),
        "contenders": contenders,
    }


def run(
    *,
    scale: int,
    dimensions: list[int],
    seed: int,
    database_url: str | None,
    queries_per_class: int,
    spread_queries: int,
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
