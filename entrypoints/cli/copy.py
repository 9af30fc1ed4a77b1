"""``tenantrag copy SOURCE TARGET``: a store, or some of its tenants, into another database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn

from tenantrag.entrypoints.cli.output import print_result
from tenantrag.entrypoints.cli.runtime import Json, execute
from tenantrag.entrypoints.settings import Settings
from tenantrag.entrypoints.store_copy import CopyReport, copy_store


def copy(
    *,
    source: Annotated[
        str, typer.Argument(help="The database to copy from (a SQLite file or PostgreSQL URL).")
    ],
    target: Annotated[str, typer.Argument(help="The database to copy into; made (`init`) if it is not yet.")],
    tenant: Annotated[
        list[str] | None, typer.Option("--tenant", help="Copy only this tenant (slug or id); repeatable.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per transaction.", min=1, max=10_000)] = 500,
    source_blobs: Annotated[
        Path | None, typer.Option(file_okay=False, help="The source's originals folder.")
    ] = None,
    target_blobs: Annotated[
        Path | None, typer.Option(file_okay=False, help="The target's originals folder.")
    ] = None,
    originals: Annotated[
        bool, typer.Option("--originals/--no-originals", help="Copy the originals too.")
    ] = True,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Compare counts and sample searches at the end.")
    ] = True,
    json: Json = False,
) -> None:
    """Copy a store (or --tenant ones) from SOURCE into TARGET: ids, versions, embeddings,
    logs and originals. Run it again after an interruption to go on where it stopped."""
    progress = _Progress(enabled=not json and sys.stderr.isatty())

    async def body() -> CopyReport:
        source_settings = _settings(source, source_blobs)
        target_settings = _settings(target, target_blobs)
        with progress:
            return await copy_store(
                source_settings,
                target_settings,
                tenants=tenant or (),
                batch_size=batch_size,
                originals=originals,
                verify=verify,
                progress=progress.advance,
            )

    report = execute(body, json_output=json)
    rows = sum(report.rows.values())
    checked = f", verified ({report.searches_compared} searches compared)" if verify else ", not verified"
    print_result(
        json,
        report,
        f"copied {report.tenants} tenant(s), {rows} rows and {report.blobs_copied} originals"
        f" ({report.blobs_present} already there) from {report.source} to {report.target}{checked}",
    )


def _settings(url: str, blobs: Path | None) -> Settings:
    """The environment's settings on ``url``: validated like DATABASE_URL itself."""
    settings = Settings(database_url=url)
    return settings if blobs is None else settings.model_copy(update={"blob_store_path": blobs})


class _Progress:
    """Rows copied per table on a terminal's stderr; nothing otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self._bar = (
            Progress(TextColumn("{task.description}"), console=Console(stderr=True), transient=True)
            if enabled
            else None
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, int] = {}

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, table: str, rows: int) -> None:
        if self._bar is None:
            return
        self._counts[table] = self._counts.get(table, 0) + rows
        description = f"{table}: {self._counts[table]} rows"
        if table not in self._tasks:
            self._tasks[table] = self._bar.add_task(description, total=None)
        self._bar.update(self._tasks[table], description=description)
