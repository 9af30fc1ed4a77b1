"""Chunks per second through the whole ingest path, and the embedder alone (issue 15).

``python -m bench.ingest_speed EMBEDDER N [--cisi FOLDER]``: a container on a new SQLite
file (local blobs), ``ingestion.add_text`` of the first N CISI abstracts one by one, as
``bench/quality_tenantrag.py`` loads a collection; EMBEDDER is ``default`` (no setting:
the store's default) or a name for the ``EMBEDDER`` setting (``hashing``, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.eval_collections import load_cisi
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings

CISI = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cisi"


async def measure(embedder: str, count: int, cisi: Path) -> None:
    documents = list(load_cisi(cisi).documents.items())[:count]
    folder = tempfile.mkdtemp(prefix="ingest-speed-")
    values = {} if embedder == "default" else {"embedder": embedder}
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{folder}/store.db", environment="development", **values
    )
    async with running(container_for(settings)) as rag:
        user = await rag.users.register(email="speed@example.com")
        tenant = await rag.tenants.create(Principal.system(), name="Speed", owner_id=user.id)
        started = time.perf_counter()
        for key, text in documents:
            await rag.ingestion.add_text(
                Principal.system(), tenant.id, filename=f"cisi-{key}.txt", text=text, source_key=key
            )
        seconds = time.perf_counter() - started
        async with rag.uow.tenant(tenant.id) as uow:
            chunks = await uow.chunks.count()
        print(f"{rag.embedder.name}: {len(documents)} documents, {chunks} chunks in {seconds:.2f} s"
              f" = {chunks / seconds:.0f} chunks/s")  # fmt: skip
        started = time.perf_counter()
        await rag.embedder.embed_documents([text for _, text in documents])
        print(f"  the embedder alone: {len(documents) / (time.perf_counter() - started):.0f} texts/s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_speed", description=__doc__)
    parser.add_argument("embedder", help="'default', or an EMBEDDER setting (hashing, ...)")
    parser.add_argument("count", type=int, help="how many CISI documents to ingest")
    parser.add_argument("--cisi", type=Path, default=CISI, help=f"the CISI folder (default {CISI})")
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.embedder, arguments.count, arguments.cisi))


if __name__ == "__main__":
    main()
