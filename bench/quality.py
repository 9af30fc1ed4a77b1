"""``python -m bench quality``: retrieval quality on a test collection (CISI), tenantrag
side by side with its peers on the same text, in one run.

Systems: bm25s (the text peer); exact NumPy cosine over the chunks tenantrag stored, embedded
by the same embedder the container builds (``--embedder``), a document at its best chunk;
their reciprocal-rank fusion (rrf_k 60, equal weights, top 100 of each); tenantrag on SQLite
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

from bench import quality_report
from bench.eval_collections import DEFAULT_CISI, Collection, load_cisi
from bench.quality_peers import Ranking, bm25s_rankings, cosine_rankings, fused_rankings
from bench.quality_tenantrag import MODES, BackendRun, run_backend, settings_for
from tenantrag.domain.evaluation import METRICS, mean_scores, score_ranking
from tenantrag.entrypoints.embedders import close_embedder, make_embedder

DEPTH = 100
BACKENDS = ("sqlite", "postgresql")


def embedder_settings(value: str, dimension: int | None) -> dict[str, Any]:
    """``--embedder NAME[:MODEL]`` (``hashing``, ``sentence-transformers:/models/x``,
    ``openai:text-embedding-3-small``) as Settings fields."""
    name, _, model = value.partition(":")
    found: dict[str, Any] = {"embedder": name}
    if model:
        found["embedding_model"] = model
    if dimension is not None:
        found["embedding_dimension"] = dimension
    return found


def score(rankings: Mapping[str, Ranking], collection: Collection) -> dict[str, Any]:
    """The means over the collection's queries (a query with no ranking scores 0), and how
    many found nothing."""
    scores = [
        score_ranking(rankings.get(query, []), dict.fromkeys(relevant, 1))
        for query, relevant in collection.qrels.items()
    ]
    means = mean_scores(scores)
    return {
        **{metric: float(means[metric]) for metric in METRICS},
        "queries": int(means["queries"]),
        "no_hit": sum(1 for query in collection.qrels if not rankings.get(query)),
    }


def row(
    system: str, mode: str, rankings: Mapping[str, Ranking], collection: Collection, **extra: Any
) -> dict[str, Any]:
    return {"system": system, "mode": mode, **score(rankings, collection), **extra}


async def measure(
    collection: Collection, *, backends: list[str], embedder: dict[str, Any], database_url: str | None
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    runs: dict[str, BackendRun] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tenantrag-quality-") as folder:
        if "sqlite" in backends:
            runs["sqlite"] = await run_backend(
                "sqlite", settings_for(f"sqlite:///{folder}/quality.db", embedder), collection, depth=DEPTH
            )
        if "postgresql" in backends:
            runs["postgresql"] = await _postgres(collection, embedder, database_url)
    first = next(iter(runs.values()))
    started = time.perf_counter()
    lexical = bm25s_rankings(collection.documents, collection.queries, DEPTH)
    rows.append(row("bm25s", "text", lexical, collection, seconds=time.perf_counter() - started))
    settings = settings_for("memory://", embedder)
    peer_embedder = await asyncio.to_thread(make_embedder, settings)
    try:
        started = time.perf_counter()
        dense = await cosine_rankings(peer_embedder, first.chunks, collection.queries, DEPTH)
        name = f"numpy cosine ({peer_embedder.name})"
        rows.append(row(name, "vector", dense, collection, seconds=time.perf_counter() - started))
    finally:
        await close_embedder(peer_embedder)
    started = time.perf_counter()
    fused = fused_rankings(lexical, dense, DEPTH)
    rows.append(row("bm25s + cosine RRF", "hybrid", fused, collection, seconds=time.perf_counter() - started))
    for backend, run in runs.items():
        for mode, measured in run.modes.items():
            name = f"tenantrag {backend}"
            refused = len(measured.refused)
            rows.append(
                row(name, mode, measured.rankings, collection, seconds=measured.seconds, refused=refused)
            )
    return {
        "rows": rows,
        "backends": {
            name: {
                "ingest_seconds": run.ingest_seconds,
                "documents": run.documents,
                "chunks": len(run.chunks),
            }
            for name, run in runs.items()
        },
        "empty_reasons": {
            f"{name} {mode}": measured.empty
            for name, run in runs.items()
            for mode, measured in run.modes.items()
            if measured.empty
        },
        "refusals": {
            f"{name} {mode}": dict(measured.refused)
            for name, run in runs.items()
            for mode, measured in run.modes.items()
            if measured.refused
        },
        "errors": errors,
        "embedder": peer_embedder.name,
    }


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
    p.add_argument("--embedder", default="hashing", help="NAME[:MODEL], as EMBEDDER and EMBEDDING_MODEL")
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
    collection = load_cisi(args.collection)
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
    git = shutil.which("git")
    if git is None:
        return None
    try:
        found = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
