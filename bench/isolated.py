"""One contender measured in a process of its own, so that its peak memory is its own.

The parent writes the corpus and the queries once per dimension (a pickle in the run's
temporary folder) and runs ``python -m bench.isolated SPEC RESULT`` for each contender.
The child loads them, lowers its peak resident set size to what it holds then (the
interpreter, NumPy and the corpus: the same for every contender), builds the contender
(importing its libraries), measures it (:func:`measure_contender`), and writes the result
with its peak RSS, that baseline and the growth above it, plus the databases it created
(the parent drops them at the end, and runs the row-level security and CRUD measures
against tenantrag's).

Only NumPy and the corpus module are imported before the baseline is taken.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench import corpus as corpora
from bench.measure import peak_rss_mb, percentile, recall, reset_peak_rss, rss_mb, timed

if TYPE_CHECKING:
    from bench.contenders import Contender

K = 10
WARM_UP = 3

ClassQueries = dict[str, tuple[uuid.UUID, list[list[float]], list[list[uuid.UUID]]]]
Spread = list[tuple[uuid.UUID, list[float]]]


def measure_contender(
    contender: Contender, corpus: corpora.Corpus, class_queries: ClassQueries, spread: Spread
) -> dict[str, Any]:
    """Ingest (timed), then recall and latency per size class, then QPS over ``spread``."""
    contender.prepare(corpus)
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
    return result


def write_inputs(path: Path, corpus: corpora.Corpus, class_queries: ClassQueries, spread: Spread) -> None:
    with path.open("wb") as file:
        pickle.dump((corpus, class_queries, spread), file, protocol=pickle.HIGHEST_PROTOCOL)


def measure_isolated(
    name: str, *, inputs: Path, server_url: str, workdir: str
) -> tuple[dict[str, Any], list[str]]:
    """Run contender ``name`` in a child process: its result, and the databases it created."""
    folder = Path(workdir)
    spec = folder / f"spec-{name}-{uuid.uuid4().hex[:8]}.json"
    out = spec.with_suffix(".result.json")
    spec.write_text(
        json.dumps({"name": name, "inputs": str(inputs), "server_url": server_url, "workdir": workdir})
    )
    env = dict(os.environ)
    # The child imports ``bench`` from where the parent did (a checkout, not a package).
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    completed = subprocess.run(  # noqa: S603 - this interpreter, this module, our own files
        [sys.executable, "-m", "bench.isolated", str(spec), str(out)], env=env, check=False
    )
    try:
        found = json.loads(out.read_text())
    except (OSError, ValueError):
        error = f"the contender's process ended with exit status {completed.returncode} and no result"
        return {"error": error}, []
    finally:
        spec.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
    result: dict[str, Any] = found["result"]
    databases: list[str] = found["databases"]
    return result, databases


def child(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    with Path(spec["inputs"]).open("rb") as file:
        corpus, class_queries, spread = pickle.load(file)  # noqa: S301 - the parent wrote it
    # What every contender's process holds before the contender: interpreter, NumPy, corpus.
    baseline = rss_mb() if reset_peak_rss() else None
    baseline_peak = peak_rss_mb()

    from bench.contenders import make_contender
    from bench.server import Databases

    databases = Databases(spec["server_url"])
    result: dict[str, Any]
    contender = None
    try:
        contender = make_contender(spec["name"], databases, spec["workdir"])
        result = measure_contender(contender, corpus, class_queries, spread)
    except Exception as error:
        traceback.print_exc()
        result = {"error": repr(error)}
    finally:
        if contender is not None:
            contender.close()
    if contender is not None:
        result["description"] = contender.description
    peak = peak_rss_mb()
    result["peak_rss_mb"] = peak
    # Without a reset (not Linux) the baseline is the peak so far, not the size then.
    result["baseline_rss_mb"] = baseline if baseline is not None else baseline_peak
    result["peak_rss_growth_mb"] = peak - result["baseline_rss_mb"]
    Path(out_path).write_text(json.dumps({"result": result, "databases": databases.created}))
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1], sys.argv[2]))
