"""A store keeps to the embedder that first wrote to it (name and dimension), on every backend."""

from __future__ import annotations

import pytest

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.embedding_record import check_embedder
from tests.unit.usecases.workspace import DIMENSION


class RenamedEmbedder(HashingEmbedder):
    @property
    def name(self) -> str:
        return "another-model"


async def test_the_first_embedder_is_recorded_and_others_are_refused(app: TenantRag) -> None:
    recorded = await app.check_embedder()
    assert (recorded.name, recorded.dimension) == (app.embedder.name, DIMENSION)
    assert await app.check_embedder() == recorded  # the same embedder again: fine

    with pytest.raises(InvalidInput, match="another-model makes vectors that cannot") as other:
        await check_embedder(app.uow, RenamedEmbedder(DIMENSION), app._clock)
    assert other.value.field == "embedder"
    with pytest.raises(InvalidInput, match=f"holds {DIMENSION}-dimensional vectors") as wider:
        await check_embedder(app.uow, HashingEmbedder(DIMENSION * 2), app._clock)
    assert wider.value.field == "embedding_dimension"
    async with app.uow.system() as system:
        assert await system.embedding_model.get() == recorded
