"""The quality benchmark's table, and the issue's targets as ratios of nDCG@10 (PASS/MISS)."""

from __future__ import annotations

from typing import Any

from bench.measure import finite
from tenantrag.domain.evaluation import MRR, NDCG, RECALL

BM25 = "bm25s"
FUSION = "bm25s + cosine RRF"
BM25_CHUNKS = "bm25s on tenantrag's chunks"  # a diagnostic: chunking's cost, apart from ranking


def _ndcg(rows: list[dict[str, Any]], system: str, mode: str) -> float | None:
    for r in rows:
        if r["system"] == system and r["mode"] == mode:
            return float(r[NDCG])
    return None


def _target(name: str, value: float | None, bound: float, *, at_most: bool = False) -> dict[str, Any]:
    if value is None:
        status = "NOT MEASURED"
    else:
        status = "PASS" if (value <= bound if at_most else value >= bound) else "MISS"
    return {
        "target": name,
        "value": value,
        "bound": f"{'<=' if at_most else '>='} {bound:g}",
        "status": status,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and b > 0 else None


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 14's quality targets, per tenantrag backend: text / bm25s >= 0.97; hybrid / the
    better of its own text and vector >= 1; hybrid / the peers' fusion >= 0.97; and
    |SQLite - PostgreSQL| <= 0.02 per mode (all nDCG@10)."""
    backends = list(dict.fromkeys(r["system"] for r in rows if r["system"].startswith("tenantrag ")))
    found: list[dict[str, Any]] = []
    for system in backends:
        text, vector, hybrid = (_ndcg(rows, system, mode) for mode in ("text", "vector", "hybrid"))
        legs = max((x for x in (text, vector) if x is not None), default=None)
        found += [
            _target(f"{system} text / bm25s", _ratio(text, _ndcg(rows, BM25, "text")), 0.97),
            _target(f"{system} hybrid / max(own text, own vector)", _ratio(hybrid, legs), 1.0),
            _target(f"{system} hybrid / peers' fusion", _ratio(hybrid, _ndcg(rows, FUSION, "hybrid")), 0.97),
        ]
    if {"tenantrag sqlite", "tenantrag postgresql"} <= set(backends):
        for mode in ("text", "vector", "hybrid"):
            a, b = _ndcg(rows, "tenantrag sqlite", mode), _ndcg(rows, "tenantrag postgresql", mode)
            gap = abs(a - b) if a is not None and b is not None else None
            found.append(
                _target(f"SQLite vs PostgreSQL, {mode}: absolute difference", gap, 0.02, at_most=True)
            )
    return found


def _fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if finite(value) else "—"


def markdown(results: dict[str, Any]) -> str:
    c = results["collection"]
    lines = [
        f"# Retrieval quality ({c['name']})",
        "",
        f"{c['documents']} documents, {c['queries']} queries with judgements ({c['judgements']} relevant"
        f" pairs); embedder {results['embedder']}; commit {results.get('commit') or '?'}, {results['when']};"
        f" {results['machine']['platform']}, Python {results['machine']['python']}. A document ranks at its"
        f" best chunk. Queries longer than search takes ({c.get('query_limit', '?')} characters) are cut at"
        f" a space for every system: {len(c.get('queries_cut', []))} of them.",
        "",
        "| system | mode | nDCG@10 | Recall@100 | MRR@10 | queries with no hit | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['system']} | {r['mode']} | {_fmt(r[NDCG])} | {_fmt(r[RECALL])} | {_fmt(r[MRR])} |"
        f" {r['no_hit']} | {_fmt(r['seconds'], 2)} |"
        for r in results["rows"]
    ]
    ingest = "; ".join(
        f"{name}: {b['documents']} documents, {b['chunks']} chunks, ingest {_fmt(b['ingest_seconds'], 1)} s"
        for name, b in results["backends"].items()
    )
    lines += [
        "",
        f"tenantrag {ingest}. Seconds: a peer's whole work (bm25s indexes, the cosine peer embeds every"
        " chunk); tenantrag's searches in that mode, one after another (the evaluation run embeds each"
        " query once beforehand).",
        "",
    ]
    lines += ["| target (nDCG@10) | measured | bound | status |", "| --- | --- | --- | --- |"]
    for t in results["ratios"]:
        lines.append(f"| {t['target']} | {_fmt(t['value'])} | {t['bound']} | {t['status']} |")
    warnings = {w for b in results["backends"].values() for w in b.get("warnings", [])}
    if warnings:
        lines += ["", "The evaluation runs warned:", "", *(f"- {w}" for w in sorted(warnings))]
    return "\n".join(lines) + "\n"
