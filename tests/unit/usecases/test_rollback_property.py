"""A unit of work that raises leaves nothing behind, whatever it wrote first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenantrag.adapters.sqlite import open_memory_sqlite
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DIM = 4


class Boom(Exception):
    pass


async def snapshot(factory: UnitOfWorkFactory, tenant_id: uuid.UUID) -> tuple[object, ...]:
    async with factory.tenant(tenant_id) as uow:
        docs = (await uow.documents.list(PageRequest(limit=1000))).items
        chunks = [c for d in docs for c in await uow.chunks.list_for_document(d.id)]
        return (await uow.tenant.get(), tuple(docs), tuple(chunks), await uow.chunks.count())


async def write_then_fail(
    factory: UnitOfWorkFactory, tenant_id: uuid.UUID, ops: list[tuple[str, object]]
) -> None:
    async with factory.tenant(tenant_id) as uow:
        added: list[uuid.UUID] = []
        for op, arg in ops:
            if op == "add":
                doc = Document(
                    id=uuid.uuid4(), tenant_id=tenant_id, filename="f", storage_key=f"k{uuid.uuid4()}",
                    created_at=T0, updated_at=T0,
                )  # fmt: skip
                await uow.documents.add(doc)
                await uow.chunks.add_many(
                    [
                        Chunk(
                            id=uuid.uuid4(),
                            tenant_id=tenant_id,
                            document_id=doc.id,
                            ordinal=i,
                            content="x",
                            content_sha256=sha256_hex("x"),
                            embedding=(1.0, 0, 0, float(i)),
                            created_at=T0,
                        )
                        for i in range(int(str(arg)))
                    ]
                )
                added.append(doc.id)
            elif op == "rename":
                current = await uow.tenant.get()
                assert current is not None
                await uow.tenant.update(attrs.evolve(current, name=str(arg)))
            elif op == "delete" and added:
                await uow.documents.delete(added.pop(int(str(arg)) % len(added)))
        raise Boom


operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 3)),
        st.tuples(st.just("rename"), st.text(alphabet="abc ", min_size=1, max_size=5).filter(str.strip)),
        st.tuples(st.just("delete"), st.integers(0, 3)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
async def test_an_exception_rolls_everything_back(ops: list[tuple[str, object]]) -> None:
    factory = open_memory_sqlite(DIM)
    try:
        tenant = Tenant(id=uuid.uuid4(), name="T", slug="t", created_at=T0, updated_at=T0)
        async with factory.system() as system:
            await system.tenants.add(tenant)
            await system.commit()
        before = await snapshot(factory, tenant.id)
        with pytest.raises(Boom):
            await write_then_fail(factory, tenant.id, ops)
        assert await snapshot(factory, tenant.id) == before
    finally:
        await factory.dispose()
