"""``python -m bench quality``: retrieval quality on a test collection (CISI), tenantrag
side by side with its peers on the same text, in one run.

Systems: bm25s (the text peer), and as a diagnostic bm25s over tenantrag's chunks (a
document at its best chunk: chunking's cost apart from the ranking function's); exact NumPy
cosine over the chunks tenantrag stored, embedded by the same embedder the container builds
(``--embedder``), a document at its best chunk; bm25s and cosine fused by reciprocal rank
(rrf_k 60, equal weights, top 100 of each, per document); tenantrag on SQLite
(a temporary file) and on PostgreSQL (the embedded server, or ``--database-url``) in modes
text, vector and hybrid. Every ranking is scored by ``tenantrag.domain.evaluation`` (nDCG@10,
Recall@100, MRR@10). Writes ``quality.json`` and ``quality.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from bench import quality_report
from bench.eval_collections import DEFAULT_CISI, Collection, load_cisi
from bench.quality_peers import (
    Ranking,
    bm25s_chunk_rankings,
    bm25s_rankings,
    cosine_rankings,
    fused_rankings,
)
from bench.quality_report import BM25_CHUNKS, FUSION
from bench.quality_tenantrag import MODES, BackendRun, ModeRun, run_backend, settings_for
from tenantrag.domain.evaluation import METRICS, NDCG, mean_scores, score_ranking
from tenantrag.domain.search import MAX_QUERY_TEXT_LENGTH
from tenantrag.entrypoints.embedders import close_embedder, make_embedder

DEPTH = 100
BACKENDS = ("sqlite", "postgresql")


def embedder_settings(value: str | None, dimension: int | None) -> dict[str, Any]:
    """``--embedder NAME[:MODEL]`` (``hashing``, ``sentence-transformers:/models/x``,
    ``openai:text-embedding-3-small``) as Settings fields; none: the embedder a deployment
    configured here gets (``EMBEDDER`` and ``EMBEDDING_*`` from the environment, else the default)."""
    found: dict[str, Any] = {}
    if value is not None:
        name, _, model = value.partition(":")
        found["embedder"] = name
        if model:
            found["embedding_model"] = model
    if dimension is not None:
        found["embedding_dimension"] = dimension
    return found


def searchable(text: str) -> str:
    """The query as search takes it: cut at the last space before its length limit (the rule
    the evaluation harness applies; the peers see the same text)."""
    if len(text) <= MAX_QUERY_TEXT_LENGTH:
        return text
    head = text[: MAX_QUERY_TEXT_LENGTH + 1].rpartition(" ")[0]
    return (head or text[:MAX_QUERY_TEXT_LENGTH]).rstrip()


def peer_row(
    system: str, mode: str, rankings: Mapping[str, Ranking], collection: Collection, seconds: float
) -> dict[str, Any]:
    """A peer's row: each query's ranking scored by domain/evaluation (none found scores 0)."""
    per_query = {
        query: score_ranking(rankings.get(query, []), dict.fromkeys(relevant, 1))
        for query, relevant in collection.qrels.items()
    }
    means = mean_scores(per_query.values())
    return {
        "system": system, "mode": mode, **{metric: float(means[metric]) for metric in METRICS},
        "queries": int(means["queries"]), "no_hit": sum(1 for q in collection.qrels if not rankings.get(q)),
        "seconds": seconds, "ndcg_per_query": {q: s[NDCG] for q, s in per_query.items() if s is not None},
    }  # fmt: skip


def tenantrag_row(backend: str, mode: str, measured: ModeRun) -> dict[str, Any]:
    """tenantrag's row: what its evaluation run measured and stored."""
    m = measured.metrics
    return {
        "system": f"tenantrag {backend}", "mode": mode, **{metric: float(m[metric]) for metric in METRICS},
        "queries": int(m["queries"]), "no_hit": int(m["no_hits"]),
        "seconds": float(m["mean_latency_ms"]) * int(m["queries"]) / 1000,
        "ndcg_per_query": {q: s[NDCG] for q, s in measured.per_query.items()},
    }  # fmt: skip


async def measure(
    collection: Collection, *, backends: list[str], embedder: dict[str, Any], database_url: str | None
) -> dict[str, Any]:
    runs: dict[str, BackendRun] = {}
    with tempfile.TemporaryDirectory(prefix="tenantrag-quality-") as folder:
        if "sqlite" in backends:
            sqlite = settings_for(f"sqlite:///{folder}/quality.db", embedder)
            runs["sqlite"] = await run_backend("sqlite", sqlite, collection, depth=DEPTH)
    if "postgresql" in backends:
        runs["postgresql"] = await _postgres(collection, embedder, database_url)
    chunks = next(iter(runs.values())).chunks
    started = time.perf_counter()
    lexical = bm25s_rankings(collection.documents, collection.queries, DEPTH)
    rows = [peer_row("bm25s", "text", lexical, collection, time.perf_counter() - started)]
    started = time.perf_counter()
    by_chunk = bm25s_chunk_rankings(chunks, collection.queries, DEPTH)
    rows.append(peer_row(BM25_CHUNKS, "text", by_chunk, collection, time.perf_counter() - started))
    peer_embedder = await asyncio.to_thread(make_embedder, settings_for("memory://", embedder))
    try:
        started = time.perf_counter()
        dense = await cosine_rankings(peer_embedder, chunks, collection.queries, DEPTH)
        name = f"numpy cosine ({peer_embedder.name})"
        rows.append(peer_row(name, "vector", dense, collection, time.perf_counter() - started))
    finally:
        await close_embedder(peer_embedder)
    started = time.perf_counter()
    fused = fused_rankings(lexical, dense, DEPTH)
    rows.append(peer_row(FUSION, "hybrid", fused, collection, time.perf_counter() - started))
    rows += [tenantrag_row(name, mode, m) for name, run in runs.items() for mode, m in run.modes.items()]
    return {
        "rows": rows,
        "backends": {
            name: {
                "ingest_seconds": run.ingest_seconds, "evaluation_seconds": run.evaluation_seconds,
                "documents": run.documents, "chunks": len(run.chunks), "warnings": run.warnings,
            }
            for name, run in runs.items()
        },
        "embedder": peer_embedder.name,
    }  # fmt: skip


async def _postgres(collection: Collection, embedder: dict[str, Any], database_url: str | None) -> BackendRun:
    from bench.server import Databases, running_server

    with running_server(database_url) as server:
        databases = Databases(server)
        try:
            url = databases.create("quality")
            return await run_backend("postgresql", settings_for(url, embedder), collection, depth=DEPTH)
        finally:
            databases.drop_all()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench quality", description=__doc__)
    p.add_argument("--collection", type=Path, default=DEFAULT_CISI, help="the CISI folder")
    p.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgresql")
    p.add_argument(
        "--embedder",
        default=None,
        help="NAME[:MODEL], as EMBEDDER and EMBEDDING_MODEL (default: the settings')",
    )
    p.add_argument("--embedding-dimension", type=int, default=None, help="as EMBEDDING_DIMENSION")
    p.add_argument("--database-url", default=None, help="a PostgreSQL server of one's own")
    p.add_argument("--documents", type=int, default=None, help="a subset: this many documents")
    p.add_argument("--queries", type=int, default=None, help="a subset: this many queries")
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="the output folder")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    if not backends or set(backends) - set(BACKENDS):
        parser().error(f"--backends: a comma-separated choice of {', '.join(BACKENDS)}")
    loaded = load_cisi(args.collection)
    queries = {q: searchable(text) for q, text in loaded.queries.items()}
    cut = sorted(q for q in queries if queries[q] != loaded.queries[q])
    collection = attrs.evolve(loaded, queries=queries)
    if args.documents or args.queries:
        collection = collection.subset(
            documents=args.documents or len(collection.documents),
            queries=args.queries or len(collection.queries),
        )
    embedder = embedder_settings(args.embedder, args.embedding_dimension)
    started = time.perf_counter()
    results = asyncio.run(
        measure(collection, backends=backends, embedder=embedder, database_url=args.database_url)
    )
    results |= {
        "collection": {
            "name": collection.name, "documents": len(collection.documents),
            "queries": len(collection.queries), "judgements": sum(len(r) for r in collection.qrels.values()),
            "queries_cut": [q for q in cut if q in collection.queries], "query_limit": MAX_QUERY_TEXT_LENGTH,
        },
        "modes": list(MODES), "depth": DEPTH, "seconds": time.perf_counter() - started,
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "commit": _commit(),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
    }  # fmt: skip
    results["ratios"] = quality_report.ratios(results["rows"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = quality_report.markdown(results)
    (args.out / "quality.md").write_text(markdown)
    print(markdown)
    return 0


def _commit() -> str | None:
    """HEAD's short hash, with ``+modified`` when tracked files differ from it."""
    git = shutil.which("git")
    if git is None:
        return None
    where = Path(__file__).resolve().parent
    try:
        head = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=where,
            timeout=10,
        ).stdout.strip()
        changed = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "diff", "--quiet", "HEAD", "--"], capture_output=True, check=False, cwd=where, timeout=30
        ).returncode
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+modified" if head and changed else head or None


if __name__ == "__main__":
    sys.exit(main())
