"""``tenantrag seed`` and ``tenantrag demo``: the demo workspace, and the README's first command.

``seed`` creates the seed documentation's demo login (``demo@example.com`` / ``demo123``)
owning "Demo Workspace"; ``demo`` also creates the schema, ingests the bundled sample
documents and serves the API, printing how to search it. Both are idempotent, and both are
refused outside development unless ``--force``: a well-known password does not belong in
production.
"""

from __future__ import annotations

import shlex
from typing import Annotated

import typer
from dependency_injector import providers

from tenantrag.entrypoints import demo as demo_data
from tenantrag.entrypoints.backends import close_backend, create_schema, open_backend
from tenantrag.entrypoints.cli.output import print_json
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, execute, load_settings, open_rag
from tenantrag.entrypoints.cli.schema import Force, require_development
from tenantrag.entrypoints.cli.serve import Host, Port, listen, listening_url, public_url, serve_container
from tenantrag.entrypoints.container import container_for, provide
from tenantrag.entrypoints.document_sync import SyncResult
from tenantrag.entrypoints.settings import Settings

EXAMPLE_QUERY = "How are tenants isolated?"


def seed(
    samples: Annotated[
        bool, typer.Option("--samples", help="Also ingest the bundled sample documents.")
    ] = False,
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Create the demo user demo@example.com (password demo123) owning "Demo Workspace"."""

    async def body() -> tuple[demo_data.Seeded, list[SyncResult]]:
        settings = load_settings(database_url)
        require_development(settings, f"seed the demo login {demo_data.DEMO_EMAIL}", force=force)
        async with open_rag(settings, must_exist=False) as rag:
            seeded = await demo_data.seed(rag)
            synced = await demo_data.ingest_samples(rag, seeded.tenant) if samples else []
        return seeded, synced

    seeded, synced = execute(body, json_output=json)
    if json:
        print_json(_summary(seeded, synced))
        return
    typer.echo(_seed_line(seeded))
    for result in synced:
        typer.echo(f"  {result.status.value:<9}  {result.document.filename}")


def demo(
    *,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API once ready.")] = True,
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Create the schema, seed the demo workspace, ingest sample documents, and serve the API."""

    async def body() -> None:
        settings = load_settings(database_url)
        require_development(settings, f"seed the demo login {demo_data.DEMO_EMAIL}", force=force)
        listener = listen(host, port) if serve else None  # a port in use stops it before any work
        await create_schema(settings)
        # Opened once and handed to the container as is: with memory:// the data must
        # outlive the preparation and be what the API serves.
        factory = await open_backend(settings)
        try:
            container = container_for(settings)
            container.uow_factory.override(providers.Object(factory))
            rag = await provide(container.tenantrag)
            seeded = await demo_data.seed(rag)
            synced = await demo_data.ingest_samples(rag, seeded.tenant)
            url = public_url(host, port) if listener is None else listening_url(host, listener)
            if json:
                print_json({**_summary(seeded, synced), "url": url if serve else None,
                            "database_url": settings.redacted_database_url})  # fmt: skip
            else:
                typer.echo(_seed_line(seeded))
                typer.echo(_documents_line(synced))
            if listener is not None:
                if not json:
                    typer.echo(banner(settings, url, seeded.tenant.slug))
                await serve_container(container, settings, host=host, listener=listener)
        finally:
            if listener is not None:
                listener.close()
            await close_backend(factory)

    execute(body, json_output=json)


def banner(settings: Settings, url: str, slug: str) -> str:
    """How to reach the demo: URL, login, and a search request to paste."""
    login = f"-d username={demo_data.DEMO_EMAIL} -d password={demo_data.DEMO_PASSWORD}"
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    body = shlex.quote(f'{{"text": "{EXAMPLE_QUERY}", "k": 3}}')
    return "\n".join(
        [
            "",
            f"tenantrag demo serving {url}  (API docs: {url}/docs)",
            f"  database  {settings.redacted_database_url}",
            f"  login     {demo_data.DEMO_EMAIL} / {demo_data.DEMO_PASSWORD}, owner of tenant {slug}",
            "  search it:",
            f"    TOKEN=$(curl -s {login} {url}/v1/auth/token | {extract})",
            f'    curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\\n'
            f"      -d {body} {url}/v1/tenants/{slug}/search",
            "  Ctrl-C stops the server; the data stays for the next run.",
            "",
        ]
    )


def _seed_line(seeded: demo_data.Seeded) -> str:
    user = "created" if seeded.created_user else "found"
    tenant = "created" if seeded.created_tenant else "found"
    return (
        f"demo user {seeded.user.email} ({user}), password {demo_data.DEMO_PASSWORD};"
        f" tenant {seeded.tenant.slug} ({tenant}), owned by the demo user"
    )


def _documents_line(synced: list[SyncResult]) -> str:
    counts: dict[str, int] = {}
    for result in synced:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    return "sample documents: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _summary(seeded: demo_data.Seeded, synced: list[SyncResult]) -> dict[str, object]:
    return {
        "user": {"email": seeded.user.email, "id": seeded.user.id, "created": seeded.created_user},
        "password": demo_data.DEMO_PASSWORD,
        "tenant": {"slug": seeded.tenant.slug, "id": seeded.tenant.id, "created": seeded.created_tenant},
        "documents": [
            {
                "filename": r.document.filename,
                "status": r.status,
                "id": r.document.id,
                "chunks": r.document.chunk_count,
            }
            for r in synced
        ],
    }
