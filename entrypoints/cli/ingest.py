"""``tenantrag ingest TENANT PATH...``: text, Markdown, HTML and PDF files into a tenant's documents.

Files are known by name (``document_sync``), so re-running an ingest over the same folder
ingests only what changed, and a changed file becomes a new version of its document.
With ``--async`` each file is queued as a job for ``tenantrag worker`` instead.

A file named on the command line is stored under its own name;
files found in a folder under the folder's name and their path inside it
(``notes/2024/plan.md``), which keeps names unique, and two files that would still share a
name are refused before anything is written. Hidden files and folders are skipped.

A file that fails (unreadable, too large, refused by the domain) is reported and the others
are still ingested; the exit code is then that of the first failure. On a terminal a
progress bar runs on stderr; ``--json`` prints one JSON object per file (JSON Lines).
"""

from __future__ import annotations

import json as json_module
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tenantrag.domain import validation
from tenantrag.domain.errors import InvalidInput, TenantRagError
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.usecases.document_metadata import check_explicit
from tenantrag.entrypoints.cli.exit_codes import for_code
from tenantrag.entrypoints.cli.output import print_json_line
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
    execute,
    load_settings,
    open_rag,
)
from tenantrag.entrypoints.document_sync import DocumentIndex, SyncResult

MEDIA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}
_KINDS = "text (.txt, .text), Markdown (.md, .markdown), HTML (.html, .htm) and PDF (.pdf) files"


@attrs.frozen
class SourceFile:
    path: Path
    filename: str  # the document's name in the tenant

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.path.suffix.lower()]


@attrs.define
class Collected:
    files: list[SourceFile] = attrs.field(factory=list)
    skipped: list[Path] = attrs.field(factory=list)


def collect(paths: Sequence[Path], *, recursive: bool) -> Collected:
    """The files to ingest, named; raises InvalidInput before anything is written."""
    found = Collected()
    for path in paths:
        if path.is_dir():
            _collect_folder(path, recursive=recursive, into=found)
        elif path.suffix.lower() in MEDIA_TYPES:
            found.files.append(SourceFile(path, path.name))
        else:
            raise InvalidInput("path", f"{path}: only {_KINDS}")
    names: dict[str, Path] = {}
    for source in found.files:
        if source.filename in names and names[source.filename] != source.path:
            raise InvalidInput(
                "path",
                f"{names[source.filename]} and {source.path} would both be stored as {source.filename!r};"
                " rename one or ingest them into different tenants",
            )
        names[source.filename] = source.path
    if not found.files:
        raise InvalidInput("path", f"no {_KINDS} to ingest in " + ", ".join(map(str, paths)))
    return found


def _collect_folder(folder: Path, *, recursive: bool, into: Collected) -> None:
    prefix = folder.resolve().name
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    for path in sorted(candidates):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() in MEDIA_TYPES:
            into.files.append(SourceFile(path, f"{prefix}/{relative.as_posix()}"))
        else:
            into.skipped.append(path)


def parse_metadata(items: Sequence[str]) -> dict[str, Any]:
    """``--metadata key=value`` options as a dict: each value as JSON if it is JSON, else as text.

    So ``year=2024`` is the number 2024, ``draft=true`` a boolean, ``tags=["a","b"]`` a list
    and ``team=search`` the string "search" (``team='"2024"'`` is the string "2024").
    """
    metadata: dict[str, Any] = {}
    for item in items:
        key, equals, raw = item.partition("=")
        if not equals or not key.strip():
            raise InvalidInput("--metadata", f"expects key=value, got {item!r}")
        try:
            value: Any = json_module.loads(raw)
        except ValueError:
            value = raw
        metadata[key.strip()] = value
    check_explicit(metadata, "--metadata")
    return validation.json_object("--metadata", metadata)


def read_file(source: SourceFile, max_bytes: int) -> bytes:
    try:
        data = source.path.read_bytes()
    except OSError as error:
        raise InvalidInput("path", f"{source.path}: cannot read it ({error.strerror})") from None
    if len(data) > max_bytes:
        raise InvalidInput(
            "path", f"{source.path} is {len(data)} bytes; the limit is {max_bytes} (MAX_UPLOAD_BYTES)"
        )
    return data


class Reporter:
    """Progress on a terminal, a line per file otherwise, a JSON object per file with --json."""

    def __init__(self, total: int, *, json_output: bool) -> None:
        self.json_output = json_output
        self.counts: dict[str, int] = {}
        self._progress: Progress | None = None
        if not json_output and sys.stderr.isatty():
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self._task = self._progress.add_task("ingesting", total=total)
            self._progress.start()

    def file(self, source: SourceFile, result: SyncResult) -> None:
        document = result.document
        self._count(result.status.value)
        if self.json_output:
            print_json_line(
                {"path": str(source.path), "filename": source.filename, "status": result.status,
                 "document_id": document.id, "version": document.version, "chunks": document.chunk_count,
                 "job_id": None if result.job is None else result.job.id}
            )  # fmt: skip
        else:
            chunks = "1 chunk" if document.chunk_count == 1 else f"{document.chunk_count} chunks"
            queued = result.job is not None and result.job.status is JobStatus.QUEUED
            detail = f"queued as job {result.job.id}" if queued and result.job is not None else chunks
            self._line(f"{result.status.value:<9}  {source.filename}  ({detail})")
        self._advance()

    def failed(self, source: SourceFile, error: TenantRagError) -> None:
        self._count("failed")
        if self.json_output:
            print_json_line(
                {"path": str(source.path), "filename": source.filename, "status": "failed",
                 "error": {"code": error.code, "message": error.message}}
            )  # fmt: skip
        else:
            # Parsers' messages already begin with the file's name: say it once.
            named = error.message.startswith(f"{source.filename}:")
            self._line(
                f"failed     {error.message if named else f'{source.filename}: {error.message}'}", err=True
            )
        self._advance()

    def skipped(self, paths: Iterable[Path]) -> None:
        for path in paths:
            self._count("skipped")
            if not self.json_output:
                self._line(f"skipped    {path} (not a supported kind of file)", err=True)
            else:
                print_json_line(
                    {
                        "path": str(path),
                        "filename": None,
                        "status": "skipped",
                        "reason": "not a supported kind of file",
                    }
                )

    def finish(self, tenant: str) -> None:
        if self._progress is not None:
            self._progress.stop()
        if not self.json_output:
            summary = ", ".join(f"{count} {status}" for status, count in sorted(self.counts.items()))
            typer.echo(f"{tenant}: {summary}")

    def _line(self, text: str, *, err: bool = False) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            typer.echo(text, err=err)

    def _advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def _count(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1


def ingest(
    *,
    tenant: TenantArgument,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.", exists=True, show_default=False)],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into subfolders.")] = False,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Tag every document (repeatable).")
    ] = None,
    metadata: Annotated[
        list[str] | None,
        typer.Option(
            "--metadata",
            metavar="KEY=VALUE",
            help="Set a metadata key on every document (repeatable); the value is read as JSON"
            " when it is JSON (2024, true, [1, 2]), else as text. Wins over the file's front matter.",
        ),
    ] = None,
    queue: Annotated[
        bool,
        typer.Option("--async", help="Queue each file for `tenantrag worker` instead of ingesting here."),
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Ingest text, Markdown, HTML and PDF files; unchanged files are skipped, changed ones versioned."""

    async def body() -> TenantRagError | None:
        settings = load_settings(database_url)
        tags = validation.tags("tags", validation.sort_tags(tag or []))
        given = parse_metadata(metadata or [])
        found = collect(paths, recursive=recursive)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            index = DocumentIndex(rag, SYSTEM, target.id)
            reporter = Reporter(len(found.files), json_output=json)
            first_failure = None
            try:
                for source in found.files:
                    try:
                        data = read_file(source, settings.max_upload_bytes)
                        outcome = await index.sync(
                            # Without --tag, a new version keeps the document's tags.
                            filename=source.filename, data=data, media_type=source.media_type,
                            tags=tags or None, metadata={"source": source.filename, **given}, wait=not queue,
                        )  # fmt: skip
                    except TenantRagError as error:
                        reporter.failed(source, error)
                        first_failure = first_failure or error
                        continue
                    reporter.file(source, outcome)
                reporter.skipped(found.skipped)
            finally:
                reporter.finish(target.slug)
        return first_failure

    failure = execute(body, json_output=json)
    if failure is not None:
        raise typer.Exit(int(for_code(failure.code)))
