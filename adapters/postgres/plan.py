"""Choosing a vector search's plan on PostgreSQL, and what is remembered for it.

A tenant filter on one shared HNSW index fails small tenants: the index walk finds
``ef_search`` nearest rows of *all* tenants and the filter keeps the few that are
theirs (measured: recall@10 about 0.1 for a tenant holding 0.1% of the rows). So
the plan is chosen per query, from the tenant's chunk count:

- **exact** for tenants up to ``exact_search_limit`` chunks, and whenever the
  filter confines hits to named documents (``SearchFilter.document_ids``);
- **index** for larger tenants: the HNSW index with ``hnsw.iterative_scan =
  relaxed_order`` (the walk continues until enough rows pass the tenant filter)
  and ``ef_search >= k``; the relaxed order is restored by the outer ORDER BY.

The index path runs with ``plan_cache_mode = force_custom_plan`` in its transaction,
so a statement psycopg has prepared is still planned for the tenant at hand (a cached
generic plan would ignore the tenant's size). The exact path needs no setting, so its
prepared statements keep their cached plans (planning was 0.65 ms of a 1 ms search).

Tenant sizes are counted (an index-only count on the primary key) and kept for
``SIZE_TTL`` seconds per process; a bulk insert forgets its tenant's count. The text
search configuration (``tenantrag_text_config()``) is read once. Both live here, in the
search strategy the factory owns, not in the (immutable) dialect.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import func, literal_column, select

from tenantrag.adapters.postgres import fulltext, vector_index
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.domain.search import SearchFilter

SIZE_TTL = 30.0  # seconds a tenant's chunk count is trusted for choosing a plan


class TenantSizes:
    """Chunk counts per tenant, remembered for a while (per backend, per process)."""

    def __init__(self, ttl: float = SIZE_TTL) -> None:
        self._ttl = ttl
        self._counts: dict[uuid.UUID, tuple[int, float]] = {}

    def get(self, tenant_id: uuid.UUID) -> int | None:
        found = self._counts.get(tenant_id)
        if found is None or time.monotonic() - found[1] > self._ttl:
            return None
        return found[0]

    def put(self, tenant_id: uuid.UUID, count: int) -> None:
        self._counts[tenant_id] = (count, time.monotonic())

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._counts.pop(tenant_id, None)


class Planner:
    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self.sizes = TenantSizes()
        # The store's text search configuration (tenantrag_text_config()), read with a search's settings.
        self.text_search_config: str | None = None

    def exact(self, wanted: SearchFilter, size: int) -> bool:
        return wanted.document_ids is not None or size <= self.options.exact_search_limit

    @property
    def text_config(self) -> str:
        config = self.text_search_config
        if config is None:  # pragma: no cover - the migrations always create the column
            raise RuntimeError("tenantrag_text_config() is missing: run `tenantrag init`")
        return config

    async def plan(
        self, session: SqlSession, tenant_id: uuid.UUID, depth: int, vector_filter: SearchFilter | None
    ) -> bool:
        """Choose the vector part's plan (True: exact; ``vector_filter`` None: there is no
        vector part) and set up what it needs, in one round trip at most, and none at all in
        the common case: an exact search of a tenant whose count is known.

        The statement sets the index path's settings for this transaction, counts the
        tenant's chunks unless a recent count is known, reads the text search configuration
        the first time, and whether the HNSW index is there and valid (vector_index.py).
        """
        known = self.sizes.get(tenant_id) if vector_filter is not None else 0
        config_known = self.text_search_config is not None
        exact = known is not None and (vector_filter is None or self.exact(vector_filter, known))
        if exact and config_known:
            return True
        chunks = schema.chunks
        count = (
            select(func.count()).select_from(chunks).where(chunks.c.tenant_id == tenant_id).scalar_subquery()
            if known is None
            else literal_column("0")
        )
        config = fulltext.STORE_CONFIG if not config_known else literal_column("NULL")
        settings = select(
            count.label("count"),
            func.set_config("plan_cache_mode", "force_custom_plan", True),
            func.set_config("hnsw.iterative_scan", "relaxed_order", True),
            func.set_config("hnsw.ef_search", str(min(1000, max(self.options.hnsw_ef_search, depth))), True),
            config.label("text_search_config"),
            literal_column(f"({vector_index.VALID})").label("index_valid"),
        )
        row = (await session.read(settings)).mappings().one()
        if not config_known:
            self.text_search_config = row["text_search_config"]
        if known is None:
            known = int(row["count"])
            self.sizes.put(tenant_id, known)
        # Without a valid index (dropped for a bulk load, or being built) every tenant is
        # searched exactly: slower for large ones, never wrong.
        return vector_filter is None or row["index_valid"] is not True or self.exact(vector_filter, known)
