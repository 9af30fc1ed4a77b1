"""The PostgreSQL backend: row-level security for isolation, pgvector for search.

    factory = await open_postgres("postgresql://app@db/tenantrag", dimension=384)
    async with factory.tenant(tenant_id) as uow:
        hits = await uow.chunks.search(query)
    await factory.dispose()

The statements are the shared ones of ``adapters/sql``; this package holds what is
PostgreSQL's own: the engine (psycopg 3, binary pgvector types, pool and SSL
options), binding the tenant and the runtime role per transaction, reading
psycopg's errors, the search strategy, bulk ingest through COPY, provisioning the
runtime role, the health probe, and dropping and rebuilding the HNSW index for
large loads. See ARCHITECTURE.md, "PostgreSQL backend".
"""

from tenantrag.adapters.postgres.distance import Distance
from tenantrag.adapters.postgres.engine import create_postgres_engine, postgres_url
from tenantrag.adapters.postgres.factory import (
    DeploymentError,
    PostgresUnitOfWorkFactory,
    open_postgres,
    provision,
)
from tenantrag.adapters.postgres.health import HealthReport
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.postgres.provision import ProvisioningError
from tenantrag.adapters.postgres.vector_index import VectorIndexState

__all__ = [
    "DeploymentError",
    "Distance",
    "HealthReport",
    "PostgresOptions",
    "PostgresUnitOfWorkFactory",
    "ProvisioningError",
    "VectorIndexState",
    "create_postgres_engine",
    "open_postgres",
    "postgres_url",
    "provision",
]
