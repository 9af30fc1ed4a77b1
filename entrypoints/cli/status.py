"""``tenantrag status``: is the database there, at which schema, with what in it.

Exits 0 when the database answers and its schema is the newest, 9 otherwise (still
printing what it found), so it doubles as a readiness check in deployment scripts.
"""

from __future__ import annotations

import typer

from tenantrag.entrypoints.cli.exit_codes import ExitCode
from tenantrag.entrypoints.cli.output import print_fields, print_json, to_data
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, execute, load_settings
from tenantrag.entrypoints.diagnostics import Diagnosis, diagnose


def status(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Show the backend, connectivity, migration state, versions and row counts."""

    async def body() -> Diagnosis:
        return await diagnose(load_settings(database_url))

    diagnosis = execute(body, json_output=json)
    if json:
        print_json({**to_data(diagnosis), "up_to_date": diagnosis.up_to_date, "healthy": diagnosis.healthy})
    else:
        print_fields(_as_text(diagnosis))
    if not diagnosis.healthy:
        raise typer.Exit(int(ExitCode.DATABASE))


def _as_text(diagnosis: Diagnosis) -> dict[str, object]:
    if not diagnosis.reachable:
        reachable = f"no: {diagnosis.error}"
    elif diagnosis.latency_ms is None:
        reachable = "yes"
    else:
        reachable = f"yes ({diagnosis.latency_ms:.1f} ms)"
    if diagnosis.backend == "memory":
        migration = f"at {diagnosis.head} (memory://: a new SQLite database in memory per process)"
    elif diagnosis.revision is None:
        migration = f"no schema: run `tenantrag init` (the newest revision is {diagnosis.head})"
    elif diagnosis.up_to_date:
        migration = f"at {diagnosis.revision} (the newest)"
    else:
        migration = f"at {diagnosis.revision}; the newest is {diagnosis.head}: run `tenantrag init`"
    fields: dict[str, object] = {
        "backend": diagnosis.backend,
        "database": diagnosis.database_url,
        "reachable": reachable,
        "schema": migration if diagnosis.reachable else "-",
        "versions": ", ".join(f"{name} {version}" for name, version in diagnosis.versions.items()) or "-",
    }
    if diagnosis.row_counts:
        fields["rows"] = ", ".join(f"{table} {count}" for table, count in diagnosis.row_counts.items())
    return fields
