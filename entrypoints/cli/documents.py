"""``tenantrag documents list | show | download | delete``: a tenant's documents, their
ingestion status, versions and originals."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from tenantrag.domain.errors import Conflict
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.blob_store import safe_filename
from tenantrag.domain.usecases.documents import Original
from tenantrag.entrypoints.cli.db import require_yes
from tenantrag.entrypoints.cli.output import print_fields, print_json, print_result, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
    execute,
    load_settings,
    open_rag,
)

app = typer.Typer(help="A tenant's documents.", no_args_is_help=True)

DocumentArgument = Annotated[str, typer.Argument(help="The document's id.")]


@app.command("list")
def list_documents(
    *,
    tenant: TenantArgument,
    status: Annotated[
        DocumentStatus | None, typer.Option("--status", help="Only documents in this state.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only documents with this tag.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most this many (oldest first).")
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """List documents, oldest first."""

    async def body() -> list[Document]:
        settings = load_settings(database_url)
        found: list[Document] = []
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            cursor: str | None = None
            while limit is None or len(found) < limit:
                size = (
                    settings.max_page_size
                    if limit is None
                    else min(settings.max_page_size, limit - len(found))
                )
                page = await rag.documents.list(
                    SYSTEM, target.id, PageRequest(limit=size, after=cursor), status=status, tag=tag
                )
                found.extend(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
        return found

    documents = execute(body, json_output=json)
    if json:
        print_json(documents)
        return
    print_table(
        ["id", "status", "chunks", "filename", "tags", "created"],
        [(d.id, d.status, d.chunk_count, d.filename, d.tags, d.created_at) for d in documents],
        empty="no documents",
    )


@app.command()
def show(
    *,
    tenant: TenantArgument,
    document: DocumentArgument,
    chunks: Annotated[bool, typer.Option("--chunks", help="Also print its chunks.")] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """A document: its fields, every version, and with --chunks its chunks."""

    async def body() -> dict[str, Any]:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            found = await rag.documents.get(SYSTEM, target.id, document)
            versions = await rag.documents.versions(SYSTEM, target.id, found.id)
            pieces = await rag.documents.chunks(SYSTEM, target.id, found.id) if chunks else ()
            return {"document": found, "versions": list(versions), "chunks": list(pieces)}

    shown = execute(body, json_output=json)
    if not chunks:
        shown.pop("chunks")
    if json:
        print_json(shown)
        return
    found = shown["document"]
    print_fields(
        {
            "id": found.id,
            "filename": found.filename,
            "title": found.title,
            "status": found.status,
            "version": found.version,
            "chunks": found.chunk_count,
            "media type": found.media_type,
            "bytes": found.size_bytes,
            "source key": found.source_key,
            "tags": found.tags,
            "metadata": found.metadata or None,
            "error": found.error_message,
            "created": found.created_at,
        }
    )
    typer.echo("")
    print_table(
        ["version", "status", "chunks", "bytes", "sha256", "created"],
        [
            (x.version, x.status, x.chunk_count, x.size_bytes, x.content_sha256[:12], x.created_at)
            for x in shown["versions"]
        ],
    )
    for chunk in shown.get("chunks", ()):
        typer.echo(f"\n--- chunk {chunk.ordinal} ({chunk.id})\n{chunk.content}")


@app.command()
def download(
    *,
    tenant: TenantArgument,
    document: DocumentArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", dir_okay=False, help="Where to write it (default: its filename here)."
        ),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="This version (default: the latest).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Write a document's original file, as it was uploaded (checked against its checksum)."""

    async def body() -> tuple[Original, Path]:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            original = await rag.documents.original(SYSTEM, target.id, document, version=version)
        path = output if output is not None else Path(safe_filename(original.filename))
        _write_new(path, original.data, force=force)
        return original, path

    original, path = execute(body, json_output=json)
    print_result(
        json,
        {"path": str(path), "version": original.version.version, "bytes": len(original.data),
         "media_type": original.media_type, "sha256": original.version.content_sha256},
        f"wrote version {original.version.version} ({len(original.data)} bytes) to {path}",
    )  # fmt: skip


def _write_new(path: Path, data: bytes, *, force: bool) -> None:
    """All of ``data`` at ``path`` or nothing: through a temporary file beside it."""
    if path.exists() and not force:
        raise Conflict(f"{path} exists; add --force to replace it")
    handle, temporary = tempfile.mkstemp(
        dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}."
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@app.command()
def delete(
    *,
    tenant: TenantArgument,
    document: DocumentArgument,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: its versions, chunks and originals go.")
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Delete a document with its versions, chunks, jobs and originals."""
    require_yes(yes, "it deletes the document, its versions and originals")

    async def body() -> Document:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            found = await rag.documents.get(SYSTEM, target.id, document)
            await rag.documents.delete(SYSTEM, target.id, found.id)
            return found

    found = execute(body, json_output=json)
    print_result(
        json, {"deleted": found.id, "filename": found.filename}, f"deleted {found.filename} ({found.id})"
    )
