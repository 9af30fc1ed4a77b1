"""``tenantrag blobs check [--repair]``: do the blob store and the database agree?

Reports stray blobs (bytes no version names), and versions whose blob is missing or is not
their content (see domain/usecases/blob_check.py). ``--repair`` deletes strays older than
``--grace-minutes`` and rewrites a broken version's blob from an intact copy of the same
content. Exits 0 when nothing is left to repair, 5 (conflict) otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from tenantrag.adapters.clock import SystemClock
from tenantrag.domain.usecases.blob_check import DEFAULT_GRACE, BlobCheck, BlobReport
from tenantrag.entrypoints.cli.exit_codes import ExitCode
from tenantrag.entrypoints.cli.output import print_fields, print_json, print_table, to_data
from tenantrag.entrypoints.cli.runtime import SYSTEM, DatabaseUrl, Json, execute, load_settings, open_rag

_DEFAULT_GRACE_MINUTES = DEFAULT_GRACE.total_seconds() / 60

app = typer.Typer(help="The blob store: the original bytes of documents.", no_args_is_help=True)

Repair = Annotated[
    bool,
    typer.Option("--repair", help="Delete stray blobs and rewrite broken ones from an intact copy."),
]
GraceMinutes = Annotated[
    float,
    typer.Option(
        "--grace-minutes",
        min=0,
        help="Strays younger than this are left alone: an upload may still be committing.",
    ),
]


@app.command()
def check(
    *,
    repair: Repair = False,
    grace_minutes: GraceMinutes = _DEFAULT_GRACE_MINUTES,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Compare every tenant's blobs with its document versions (and repair with --repair)."""

    async def body() -> BlobReport:
        async with open_rag(load_settings(database_url)) as rag:
            checker = BlobCheck(rag.uow, SystemClock(), rag.ingestion.blobs)
            return await checker.check(SYSTEM, repair=repair, grace=timedelta(minutes=grace_minutes))

    report = execute(body, json_output=json)
    if json:
        print_json({**to_data(report), "consistent": report.consistent})
    else:
        _print(report)
    if not report.consistent:
        raise typer.Exit(int(ExitCode.CONFLICT))


def _print(report: BlobReport) -> None:
    print_fields(
        {
            "tenants": report.tenants,
            "blobs": report.blobs,
            "versions": report.versions,
            "problems": len(report.problems),
            "repaired": len(report.problems) - len(report.unrepaired),
            "recent strays left alone": report.recent_strays,
        }
    )
    if report.problems:
        print_table(
            ["kind", "tenant", "key", "repaired", "detail"],
            [(p.kind, p.tenant_id, p.key, "yes" if p.repaired else "no", p.detail) for p in report.problems],
            empty="",
        )
