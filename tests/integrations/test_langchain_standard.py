"""LangChain's own standard suite for vector stores (``langchain-tests``), sync and async,
on SQLite (a temporary file) and PostgreSQL, with the suite's deterministic fake embeddings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from tenantrag.integrations.langchain import TenantRagVectorStore
from tests.integrations.bound_library import open_library

DIMENSION = 6  # the suite's EMBEDDING_SIZE


class _Standard(VectorStoreIntegrationTests):
    backend = ""

    @pytest.fixture
    def vectorstore(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TenantRagVectorStore]:
        with open_library(self.backend, DIMENSION, request, tmp_path) as library:
            yield TenantRagVectorStore(
                library.rag, tenant_id=library.acme.id, principal=library.owner,
                embedding=self.get_embeddings(), runner=library.loop,
            )  # fmt: skip


@pytest.mark.sqlite
class TestSQLite(_Standard):
    backend = "sqlite"


@pytest.mark.postgres
class TestPostgres(_Standard):
    backend = "postgres"
