"""The targets (as ratios, PASS/MISS), the Markdown table, and the PNG chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.measure import finite

TENANTRAG = "tenantrag_postgres"


def _get(contenders: dict[str, Any], name: str, key: str) -> float | None:
    value = contenders.get(name, {}).get(key)
    return float(value) if finite(value) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b is not None and b > 0 else None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue per dimension: the measured value (a ratio), the bound, PASS/MISS.

    A target whose measure is not implemented yet, or whose contender failed, is
    ``NOT MEASURED`` (value null).
    """
    found: list[dict[str, Any]] = []
    for dimension, run in results["dimensions"].items():
        c = run["contenders"]

        def add(
            name: str, value: float | None, bound: float, *, at_most: bool = False, dimension: str = dimension
        ) -> None:
            if value is None:
                status = "NOT MEASURED"
            else:
                status = "PASS" if (value <= bound if at_most else value >= bound) else "MISS"
            found.append(
                {
                    "dimension": int(dimension),
                    "target": name,
                    "value": value,
                    "bound": f"{'<=' if at_most else '>='} {bound:g}",
                    "status": status,
                }
            )

        classes = c.get(TENANTRAG, {}).get("classes", {})
        recalls = [v["recall_at_10"] for v in classes.values()]
        add("tenantrag recall@10, worst size class", min(recalls) if recalls else None, 0.98)
        add(
            "QPS / langchain-postgres",
            _ratio(_get(c, TENANTRAG, "qps"), _get(c, "langchain_pgvector", "qps")),
            3,
        )
        add(
            "QPS / pgvector iterative",
            _ratio(_get(c, TENANTRAG, "qps"), _get(c, "pgvector_hnsw_iterative", "qps")),
            1.5,
        )
        ingest = "ingest_rows_per_second"
        add(
            "ingest / langchain-postgres",
            _ratio(_get(c, TENANTRAG, ingest), _get(c, "langchain_pgvector", ingest)),
            20,
        )
        add(
            "ingest / raw binary COPY", _ratio(_get(c, TENANTRAG, ingest), _get(c, "exact_copy", ingest)), 0.5
        )
        overhead = run.get("rls", {}).get("overhead", {})
        for mode, label in (("vector", "vector"), ("full_text", "full text"), ("hybrid", "hybrid")):
            value = overhead.get(mode)
            add(f"RLS overhead, {label}", float(value) if finite(value) else None, 0.10, at_most=True)
        get_by_id = run.get("crud", {}).get("get_by_id", {})
        add(
            "get-by-id time / raw psycopg",
            _crud_ratio(get_by_id, "unit_of_work"),
            2,
            at_most=True,
        )
        add(
            "get-by-id time / raw psycopg, bare call in an open transaction",
            _crud_ratio(get_by_id, "bare"),
            2,
            at_most=True,
        )
        add(
            "SQLite top-10 time / NumPy (QPS ratio)",
            _ratio(_get(c, "numpy_brute_force", "qps"), _get(c, "tenantrag_sqlite", "qps")),
            2,
            at_most=True,
        )
    return found


def _crud_ratio(measure: dict[str, Any], variant: str) -> float | None:
    value = measure.get(variant, {}).get("ratio", {}).get("tenantrag")
    return float(value) if finite(value) else None


def _fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if finite(value) else "—"


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# tenantrag benchmark" + (" (smoke: numbers are not results)" if results.get("smoke") else ""),
        "",
        f"{results['scale']} chunks, seed {results['seed']}, k={results['k']}; "
        f"PostgreSQL {results.get('server', {}).get('postgresql', '?')}, "
        f"pgvector {results.get('server', {}).get('pgvector', '?')}; "
        f"{results['machine']['platform']}, Python {results['machine']['python']}.",
        "",
    ]
    for dimension, run in results["dimensions"].items():
        contenders = run["contenders"]
        class_names = next((list(c["classes"]) for c in contenders.values() if "classes" in c), [])
        lines += [f"## {dimension} dimensions ({run['rows']} rows, {run['tenants']} tenants)", ""]
        header = [
            "contender",
            "ingest rows/s",
            "QPS",
            *[f"recall / p50 / p95 ms ({n})" for n in class_names],
            "peak RSS MiB (own growth)",
        ]
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for name, c in contenders.items():
            if "error" in c:
                lines.append(f"| {name} | error: {c['error']} |" + " |" * (len(header) - 2))
                continue
            cells = [name, _fmt(c["ingest_rows_per_second"], 4), _fmt(c["qps"], 4)]
            for n in class_names:
                k = c["classes"][n]
                cells.append(f"{_fmt(k['recall_at_10'])} / {_fmt(k['p50_ms'])} / {_fmt(k['p95_ms'])}")
            cells.append(f"{_fmt(c['peak_rss_mb'], 4)} ({_fmt(c.get('peak_rss_growth_mb'), 3)})")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines += _rls_lines(run.get("rls", {})) + _crud_lines(run.get("crud", {}))
    lines += [
        "## Targets",
        "",
        "| dimensions | target | measured | bound | status |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in results.get("targets", []):
        lines.append(
            f"| {t['dimension']} | {t['target']} | {_fmt(t['value'])} | {t['bound']} | {t['status']} |"
        )
    return "\n".join(lines) + "\n"


def _rls_lines(rls: dict[str, Any]) -> list[str]:
    if "error" in rls:
        return [f"Row-level security overhead: error: {rls['error']}", ""]
    if "classes" not in rls:
        return []
    kinds: dict[str, Any] = next(iter(rls["classes"].values()), {})
    lines = [
        "Row-level security overhead: the search statements tenantrag sends, under RLS as"
        f" {rls['runtime_role']} vs as the owner ({rls['owner']}, superuser: {rls['owner_is_superuser']})"
        f" with the same explicit tenant predicate; p50 ms RLS / owner (overhead), over"
        f" {rls['repetitions']} interleaved repetitions; text match LEAKPROOF:"
        f" {rls['text_match_leakproof']}.",
        "",
        "| size class | " + " | ".join(kinds) + " |",
        "|" + " --- |" * (len(kinds) + 1),
    ]
    for size_class, measured in rls["classes"].items():
        cells = [
            f"{_fmt(m['rls_p50_ms'])} / {_fmt(m['owner_p50_ms'])} ({_percent(m['overhead'])})"
            for m in measured.values()
        ]
        lines.append(f"| {size_class} | " + " | ".join(cells) + " |")
    whole = [
        float(m["transaction_overhead"])
        for measured in rls["classes"].values()
        for m in measured.values()
        if finite(m["transaction_overhead"])
    ]
    if whole:
        lines += [
            "",
            "Whole transactions (BEGIN to COMMIT; under RLS one more round trip, the role and"
            f" tenant): overhead {_percent(min(whole))} to {_percent(max(whole))}.",
        ]
    lines.append("")
    return lines


def _crud_lines(crud: dict[str, Any]) -> list[str]:
    if "error" in crud:
        return [f"CRUD: error: {crud['error']}", ""]
    if "get_by_id" not in crud:
        return []
    lines = [
        f"CRUD, {crud['documents']} documents, {crud['repetitions']} interleaved calls each: p50 µs per"
        f" call (ratio to raw psycopg); list is the first page of {crud['list_limit']}.",
        "",
        "| call | tenantrag | tenantrag, pool_pre_ping off | raw psycopg (async) |",
        "| --- | --- | --- | --- |",
    ]
    for operation in ("get_by_id", "list"):
        for variant, label in (("unit_of_work", "with its unit of work"), ("bare", "bare, transaction open")):
            m = crud[operation][variant]
            p50, ratio = m["p50_us"], m["ratio"]
            cells = [
                f"{_fmt(p50[name], 4)} ({_fmt(ratio[name])}x)" if name in p50 else "—"
                for name in ("tenantrag", "tenantrag_no_pre_ping")
            ]
            lines.append(f"| {operation} {label} | {' | '.join(cells)} | {_fmt(p50['raw_psycopg'], 4)} |")
    return [*lines, ""]


def _percent(value: Any) -> str:
    return f"{value * 100:+.1f}%" if finite(value) else "—"


def chart(results: dict[str, Any], path: Path) -> None:
    """Recall@10 against p50 latency, one point per contender and size class, a panel per dimension."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dimensions = list(results["dimensions"].items())
    figure, axes = plt.subplots(
        1, max(1, len(dimensions)), figsize=(7 * max(1, len(dimensions)), 5), squeeze=False
    )
    markers = "osD^vP*Xh"
    for axis, (dimension, run) in zip(axes[0], dimensions, strict=False):
        names = [n for n, c in run["contenders"].items() if "classes" in c]
        class_names = next((list(run["contenders"][n]["classes"]) for n in names), [])
        colours = plt.get_cmap("tab10")
        for i, name in enumerate(names):
            for j, size_class in enumerate(class_names):
                point = run["contenders"][name]["classes"][size_class]
                axis.scatter(
                    point["p50_ms"],
                    point["recall_at_10"],
                    marker=markers[i % len(markers)],
                    color=colours(j),
                    label=name if j == 0 else None,
                    edgecolors="black",
                    linewidths=0.3,
                    s=50,
                )
        for j, size_class in enumerate(class_names):
            axis.scatter([], [], color=colours(j), label=f"tenant {size_class} of rows")
        axis.set_xscale("log")
        axis.set_xlabel("p50 latency, ms (log)")
        axis.set_ylabel("recall@10")
        axis.set_title(f"{dimension} dimensions, {run['rows']} rows")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
