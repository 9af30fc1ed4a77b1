"""``python -m bench``: run the benchmark suite and write results.json, results.md, results.png.

``python -m bench quality [...]``: the retrieval-quality benchmark instead (bench/quality.py);
``python -m bench fulltext [...]``: full-text search speed on each backend (bench/fulltext_speed.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SMOKE_SCALE = 2000
DEFAULT_SCALE = 100_000


def dimensions(value: str) -> list[int]:
    try:
        found = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {value!r}") from None
    if not found or any(d < 2 for d in found):
        raise argparse.ArgumentTypeError(f"dimensions must be integers >= 2: {value!r}")
    return found


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--scale", type=int, default=None, help=f"chunks in the corpus (default {DEFAULT_SCALE})")
    p.add_argument("--smoke", action="store_true", help=f"a quick run ({SMOKE_SCALE} chunks, few queries)")
    p.add_argument("--dimensions", type=dimensions, default=[384, 1536], help="comma-separated (384,1536)")
    p.add_argument("--database-url", default=None, help="a server of one's own (needs CREATEDB, CREATEROLE)")
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="the output folder")
    p.add_argument("--seed", type=int, default=20261124)
    return p


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["quality"]:
        from bench import quality

        return quality.main(given[1:])
    if given[:1] == ["fulltext"]:
        from bench import fulltext_speed

        return fulltext_speed.main(given[1:])
    args = parser().parse_args(given)
    scale = args.scale or (SMOKE_SCALE if args.smoke else DEFAULT_SCALE)
    if scale < 100:
        parser().error("--scale must be at least 100")
    from bench import report
    from bench.run import run

    results = run(
        scale=scale,
        dimensions=args.dimensions,
        seed=args.seed,
        database_url=args.database_url,
        queries_per_class=10 if args.smoke else 100,
        spread_queries=40 if args.smoke else 1000,
        rls_repetitions=10 if args.smoke else 200,
        crud_documents=50 if args.smoke else 125,
        crud_repetitions=100 if args.smoke else 2000,
    )
    results["smoke"] = bool(args.smoke)
    results["targets"] = report.targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = report.markdown(results)
    (args.out / "results.md").write_text(markdown)
    report.chart(results, args.out / "results.png")
    print(markdown)
    failed = [
        name for d in results["dimensions"].values() for name, c in d["contenders"].items() if "error" in c
    ] + [
        f"{what} ({n})"
        for n, d in results["dimensions"].items()
        for what in ("rls", "crud")
        if "error" in d[what]
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
