"""Embeddings are stored as little-endian float32 BLOBs of 4 * dimension bytes, losslessly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import VectorQuery
from tests.contract.factories import make_chunk, make_document, seed_tenant
from tests.sqlite.conftest import DIMENSION

pytestmark = pytest.mark.sqlite

# Values that are not float32 numbers: the domain rounds them, the store keeps the rounding.
AWKWARD = (0.1, -1 / 3, 1e-30, 3.4e38, -0.0, 123456.789, 2.0**-140, 1.0)


async def test_an_embedding_round_trips_through_a_float32_blob(
    factory: SqliteUnitOfWorkFactory, database: Path
) -> None:
    seeded = await seed_tenant(factory)
    document = make_document(seeded.tenant.id)
    chunk = make_chunk(document, 0, AWKWARD)
    async with factory.tenant(seeded.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many([chunk])
        await uow.commit()

    connection = sqlite3.connect(database)
    try:
        (blob,) = connection.execute("SELECT embedding FROM chunks").fetchone()
    finally:
        connection.close()
    assert isinstance(blob, bytes)
    assert len(blob) == 4 * DIMENSION
    stored = np.frombuffer(blob, dtype="<f4")
    assert stored.tolist() == list(chunk.embedding)
    assert np.array_equal(stored, np.asarray(AWKWARD, dtype=np.float32))

    async with factory.tenant(seeded.tenant.id) as uow:
        (again,) = await uow.chunks.list_for_document(document.id)
        (hit,) = await uow.chunks.search(VectorQuery(embedding=AWKWARD))
    assert again == chunk
    assert again.embedding == chunk.embedding
    assert hit.score == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=DIMENSION, max_size=DIMENSION
    )
)
def test_the_codec_is_lossless_for_float32_values(values: list[float]) -> None:
    codec = Float32Blobs(DIMENSION)
    blob = codec.encode(values)
    assert len(blob) == 4 * DIMENSION
    assert codec.decode(blob) == tuple(values)


def test_the_codec_refuses_what_it_cannot_store() -> None:
    codec = Float32Blobs(DIMENSION)
    with pytest.raises(InvalidInput, match="dimensions"):
        codec.encode([1.0] * (DIMENSION + 1))
    with pytest.raises(InvalidInput, match="finite"):
        codec.encode([float("nan")] * DIMENSION)
    with pytest.raises(InvalidInput, match="finite"):
        codec.encode([1e39] * DIMENSION)  # finite in float64, infinite in float32


async def test_a_store_opened_with_another_dimension_says_so(
    factory: SqliteUnitOfWorkFactory, url: str
) -> None:
    from tenantrag.adapters.sqlite import open_sqlite

    seeded = await seed_tenant(factory)
    document = make_document(seeded.tenant.id)
    async with factory.tenant(seeded.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many([make_chunk(document, 0)])
        await uow.commit()
    wider = await open_sqlite(url, DIMENSION * 2, migrate=False)
    try:
        async with wider.tenant(seeded.tenant.id) as uow:
            with pytest.raises(InvalidInput) as caught:
                await uow.chunks.search(VectorQuery(embedding=[1.0] * DIMENSION * 2))
    finally:
        await wider.dispose()
    assert caught.value.field == "dimension"
