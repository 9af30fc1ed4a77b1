"""memory://: SQLite on an in-memory database, a new empty store per call, bad options refused
by name before anything is built."""

from __future__ import annotations

import pytest

from tenantrag.adapters.sqlite import open_memory_sqlite, open_memory_sqlite_async
from tenantrag.domain.errors import InvalidInput
from tests.contract.factories import make_tenant

pytestmark = pytest.mark.memory


async def test_each_store_is_new_and_its_own() -> None:
    first, second = open_memory_sqlite(8), await open_memory_sqlite_async(8)
    try:
        tenant = make_tenant()
        async with first.system() as uow:
            await uow.tenants.add(tenant)
            await uow.commit()
        async with first.system() as uow:
            assert await uow.tenants.get(tenant.id) == tenant
        async with second.system() as uow:
            assert await uow.tenants.get(tenant.id) is None
    finally:
        await first.dispose()
        await second.dispose()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"dimension": 0}, "embedding_dimension"),
        ({"dimension": "x"}, "embedding_dimension"),
        ({"dimension": 8, "busy_timeout": -1}, "busy_timeout"),
        ({"dimension": 8, "vector_cache_mb": -1}, "vector_cache_mb"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        open_memory_sqlite(**options)  # type: ignore[arg-type]
    assert raised.value.field == field
