"""langchain-postgres's ``PGVector`` store, with an HNSW index and a tenant metadata filter.

Vectors are precomputed, so the store gets an embeddings object that is never asked to
embed; rows go in through ``add_embeddings`` (with ``{"tenant": ...}`` metadata) and
queries through ``similarity_search_by_vector(filter={"tenant": {"$eq": ...}})``.
``PGVector`` creates no index itself; after the load the suite creates the one its
documentation points to (pgvector's HNSW on ``langchain_pg_embedding.embedding`` with the
cosine operator class, pgvector's default build options — what ``HNSWIndex()`` of
langchain-postgres's newer ``PGVectorStore`` creates), and the index build is timed as
part of ingest, as is an ANALYZE (autovacuum would run one within a minute or so; without
it the plan, and so recall and speed, changed from run to run). Every PostgreSQL contender
ends its ingest with its table analyzed.
"""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import psycopg

from bench.corpus import Corpus
from bench.server import Databases, libpq_url

BATCH = 1000


class _PrecomputedEmbeddings:
    """An ``Embeddings`` that refuses to embed: every vector is passed in."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError("the benchmark passes precomputed vectors")

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError("the benchmark passes precomputed vectors")


class LangchainPgvector:
    name = "langchain_pgvector"
    description = "langchain-postgres PGVector, HNSW (vector_cosine_ops), tenant metadata filter"

    def __init__(self, databases: Databases) -> None:
        self._databases = databases
        self._store: Any = None
        self._url = ""

    def prepare(self, corpus: Corpus) -> None:
        from langchain_core.embeddings import Embeddings
        from langchain_postgres import PGVector

        class Precomputed(_PrecomputedEmbeddings, Embeddings):
            pass

        self._url = self._databases.create(self.name)
        url = self._url.replace("postgresql://", "postgresql+psycopg://", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._store = PGVector(
                embeddings=Precomputed(),
                connection=url,
                collection_name="bench",
                use_jsonb=True,
            )
        # PGVector builds its table classes once per process, with the first store's
        # embedding_length: stores of two dimensions cannot both pass it in one process.
        # So the column is created without one and given its dimension here, as the HNSW
        # index needs (an ALTER on the empty table, untimed).
        with psycopg.connect(libpq_url(self._url), autocommit=True) as connection:
            column = f"vector({int(corpus.dimension)})"
            connection.execute(
                f"ALTER TABLE langchain_pg_embedding ALTER COLUMN embedding TYPE {column}".encode()
            )

    def ingest(self, corpus: Corpus) -> None:
        # From the NumPy corpus, batch by batch: the lists the API takes are built here (timed).
        for start in range(0, corpus.rows, BATCH):
            rows = range(start, min(start + BATCH, corpus.rows))
            self._store.add_embeddings(
                [corpus.texts[i] for i in rows],
                corpus.vectors[start : rows.stop].tolist(),
                metadatas=[{"tenant": str(corpus.tenants[corpus.tenant_of[i]])} for i in rows],
                ids=[str(corpus.ids[i]) for i in rows],
            )
        with psycopg.connect(libpq_url(self._url), autocommit=True) as connection:
            connection.execute(
                "CREATE INDEX ON langchain_pg_embedding USING hnsw (embedding vector_cosine_ops)"
            )
            connection.execute("ANALYZE langchain_pg_embedding")

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        documents = self._store.similarity_search_by_vector(
            vector, k=k, filter={"tenant": {"$eq": str(tenant)}}
        )
        return [uuid.UUID(document.id) for document in documents]

    def close(self) -> None:
        if self._store is not None:
            self._store._engine.dispose()
