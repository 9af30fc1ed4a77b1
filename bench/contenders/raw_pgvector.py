"""Raw pgvector through psycopg: exact search over a binary COPY, and a shared HNSW index.

- ``exact_copy``: binary COPY into an unindexed table (the ingest ceiling), searched by
  ``ORDER BY embedding <=> q`` with no index to use (exact, the SQL recall reference), as
  the superuser, no row-level security.
- ``pgvector_hnsw`` / ``pgvector_hnsw_iterative``: the same COPY, then one HNSW index
  (``vector_cosine_ops``, pgvector's defaults m=16, ef_construction=64) shared by all
  tenants, searched with a tenant predicate at the default ``hnsw.ef_search`` (40),
  without and with ``hnsw.iterative_scan = relaxed_order``.
"""

from __future__ import annotations

import uuid

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from bench.corpus import Corpus
from bench.server import Databases, libpq_url

COPY_BATCH = 5000


def create_table(connection: psycopg.Connection, dimension: int) -> None:
    connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(connection)
    connection.execute(
        f"CREATE TABLE items (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, content text NOT NULL, "
        f"embedding vector({int(dimension)}) NOT NULL)".encode()
    )
    connection.commit()


def copy_rows(connection: psycopg.Connection, corpus: Corpus) -> None:
    with (
        connection.cursor() as cursor,
        cursor.copy("COPY items (id, tenant_id, content, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["uuid", "uuid", "text", "vector"])
        tenants = corpus.tenants
        for i in range(corpus.rows):
            copy.write_row((corpus.ids[i], tenants[corpus.tenant_of[i]], corpus.texts[i], corpus.vectors[i]))
    connection.commit()


class _Raw:
    name = ""
    description = ""

    def __init__(self, databases: Databases) -> None:
        self._databases = databases
        self._connection: psycopg.Connection | None = None

    @property
    def connection(self) -> psycopg.Connection:
        assert self._connection is not None, "prepare() first"
        return self._connection

    def prepare(self, corpus: Corpus) -> None:
        url = self._databases.create(self.name)
        self._connection = psycopg.connect(libpq_url(url))
        create_table(self._connection, corpus.dimension)

    def _search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        rows = self.connection.execute(
            "SELECT id FROM items WHERE tenant_id = %s ORDER BY embedding <=> %s LIMIT %s",
            (tenant, np.asarray(vector, dtype=np.float32), k),
        ).fetchall()
        self.connection.commit()
        return [row[0] for row in rows]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class ExactCopy(_Raw):
    name = "exact_copy"
    description = "binary COPY into an unindexed table; exact ORDER BY distance (superuser)"

    def ingest(self, corpus: Corpus) -> None:
        copy_rows(self.connection, corpus)
        self.connection.execute("ANALYZE items")
        self.connection.commit()

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        return self._search(tenant, vector, k)


class RawHnsw(_Raw):
    def __init__(self, databases: Databases, *, iterative: bool) -> None:
        super().__init__(databases)
        self.iterative = iterative
        self.name = "pgvector_hnsw_iterative" if iterative else "pgvector_hnsw"
        self.description = "binary COPY + shared HNSW index, tenant predicate, default settings" + (
            ", hnsw.iterative_scan = relaxed_order" if iterative else ""
        )

    def ingest(self, corpus: Corpus) -> None:
        copy_rows(self.connection, corpus)
        self.connection.execute("CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops)")
        self.connection.execute("ANALYZE items")
        self.connection.commit()

    def prepare(self, corpus: Corpus) -> None:
        super().prepare(corpus)
        if self.iterative:
            self.connection.execute("SET hnsw.iterative_scan = relaxed_order")
            self.connection.commit()

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        return self._search(tenant, vector, k)
