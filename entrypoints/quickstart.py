"""``python -m tenantrag.entrypoints.quickstart``: the README's example, runnable.

It founds a tenant in an in-memory tenantrag, ingests two short documents and
searches them, printing what it did. Nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap

DOCUMENTS = {
    "cats.md": "Cats are small domesticated carnivores. A cat purrs when it is content.",
    "rockets.md": "A rocket engine burns propellant and expels exhaust to produce thrust.",
}


async def main(out: TextIO = sys.stdout) -> None:
    async with bootstrap() as rag:
        await _tour(rag, out)


async def _tour(rag: TenantRag, out: TextIO) -> None:
    alice = await rag.users.register(email="alice@example.com", password="a long passphrase")  # noqa: S106 - a demo user in memory
    me = Principal.user(alice.id)
    tenant = await rag.tenants.create(me, name="Demo Workspace")
    print(f"tenant {tenant.slug} ({tenant.id}) owned by {alice.email}", file=out)
    for filename, text in DOCUMENTS.items():
        document = await rag.ingestion.add_text(me, tenant.id, filename=filename, text=text, tags=["demo"])
        print(f"ingested {filename}: {document.status.value}, {document.chunk_count} chunk(s)", file=out)
    for hit in await rag.search.search(me, tenant.id, text="why does a cat purr?", k=2):
        print(f"{hit.score:.3f}  {hit.content}", file=out)


if __name__ == "__main__":
    asyncio.run(main())
