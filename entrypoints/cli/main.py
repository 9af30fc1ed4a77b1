"""The ``tenantrag`` console script: every command, gathered on one Typer application.

``run()`` is the console script's entry point (``[project.scripts]`` in pyproject).
Tracebacks are never printed with local variables (Typer's default would show settings
and URLs); errors are one line on stderr and an exit code (``exit_codes``), and ``-vv``
turns on debug logging, tracebacks of unexpected errors included.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from tenantrag.entrypoints.cli import (
    apikeys,
    audit,
    backup,
    blobs,
    db,
    dev,
    documents,
    ingest,
    invitations,
    jobs,
    mcp,
    members,
    schema,
    search,
    seed,
    serve,
    status,
    tenants,
    users,
    worker,
)
from tenantrag.entrypoints.cli import copy as store_copy
from tenantrag.entrypoints.cli import eval as evaluation
from tenantrag.entrypoints.cli.exit_codes import TABLE
from tenantrag.entrypoints.cli.usage import JsonUsageGroup, show_version

# One line per paragraph: the help is re-wrapped to the terminal's width.
HELP = (
    "tenantrag: a multi-tenant document and vector store for RAG backends.\n\n"
    "Start with `tenantrag demo`. Every command takes --database-url (default: $DATABASE_URL, else"
    " ./tenantrag.db), and those that print results take --json. Commands act as the system (owner of"
    " every tenant): they are for operators. TENANT is a slug or an id.\n\n"
    f"{TABLE}"
)

app = typer.Typer(
    name="tenantrag",
    cls=JsonUsageGroup,
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v for progress logs, -vv for debug.")
    ] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and stop."),
    ] = False,
) -> None:
    levels = {0: logging.WARNING, 1: logging.INFO}
    logging.basicConfig(
        level=levels.get(verbose, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    if verbose < 2:  # Alembic's own INFO lines ("Context impl SQLiteImpl") are debugging detail
        logging.getLogger("alembic").setLevel(logging.WARNING)


app.command()(schema.init)
app.command()(status.status)
app.command()(seed.demo)
app.command()(seed.seed)
app.command()(ingest.ingest)
app.command()(search.search)
app.command(name="eval")(evaluation.evaluate)
app.command()(backup.backup)
app.command()(backup.restore)
app.command(name="copy")(store_copy.copy)
app.command()(schema.reset)
app.command()(serve.serve)
app.command()(worker.worker)
app.command()(mcp.mcp)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="user")
app.add_typer(tenants.app, name="tenant")
app.add_typer(members.app, name="member")
app.add_typer(invitations.app, name="invitation")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(audit.app, name="audit")
app.add_typer(documents.app, name="documents")
app.add_typer(jobs.app, name="jobs")
app.add_typer(blobs.app, name="blobs")
app.add_typer(dev.app, name="dev")


def run() -> None:
    """The console script."""
    app(prog_name="tenantrag")
