"""Evaluation runs through the generic repository: stored and listed per tenant, invisible to
another tenant, gone with their tenant."""

from __future__ import annotations

import uuid

import pytest

from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.model.evaluation_run import EvaluationRun
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import Seeded, all_pages, at, ids_by_creation, seed_tenant

ALL = PageRequest(limit=1000)


def make_run(seeded: Seeded, *, seconds: int = 0, user: bool = True) -> EvaluationRun:
    return EvaluationRun(
        id=new_id(),
        tenant_id=seeded.tenant.id,
        user_id=seeded.owner.id if user else None,
        parameters={"modes": ["text", "hybrid"], "k": 100, "warnings": []},
        metrics={"text": {"ndcg@10": 0.5, "queries": 2}, "hybrid": {"ndcg@10": 0.75, "queries": 2}},
        per_query={"text": {f"q{n}": {"ndcg@10": n / 300, "hits": n} for n in range(300)}},
        created_at=at(seconds),
    )


async def test_runs_round_trip_and_page_per_tenant(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    mine = [make_run(tenant_a, seconds=n % 3) for n in range(7)]
    theirs = make_run(tenant_b)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for run in mine:
            await uow.repository(EvaluationRun).add(run)
        await uow.commit()
    async with backend.tenant(tenant_b.tenant.id) as uow:
        await uow.repository(EvaluationRun).add(theirs)
        await uow.commit()

    async with backend.tenant(tenant_a.tenant.id, read_only=True) as uow:
        runs = uow.repository(EvaluationRun)
        assert await runs.get(mine[0].id) == mine[0]
        assert (await runs.get(mine[0].id)).modes == ("text", "hybrid")  # type: ignore[union-attr]
        assert await runs.get(theirs.id) is None
        listed = await all_pages(runs.list, limit=3)
    assert [run.id for run in listed] == ids_by_creation(mine)
    async with backend.tenant(tenant_b.tenant.id) as uow:
        assert [run.id for run in (await uow.repository(EvaluationRun).list(ALL)).items] == [theirs.id]
        with pytest.raises(NotFound):
            await uow.repository(EvaluationRun).delete(mine[0].id)
        with pytest.raises(Conflict):
            await uow.repository(EvaluationRun).add(theirs)


async def test_runs_go_with_their_tenant(backend: UnitOfWorkFactory) -> None:
    doomed, kept = await seed_tenant(backend), await seed_tenant(backend)
    gone, stays = make_run(doomed), make_run(kept)
    for seeded, run in ((doomed, gone), (kept, stays)):
        async with backend.tenant(seeded.tenant.id) as uow:
            await uow.repository(EvaluationRun).add(run)
            await uow.commit()
    async with backend.tenant(doomed.tenant.id) as uow:
        await uow.tenant.delete()
        await uow.commit()
    async with backend.tenant(doomed.tenant.id) as uow:
        assert await uow.repository(EvaluationRun).get(gone.id) is None
    async with backend.tenant(kept.tenant.id) as uow:
        assert await uow.repository(EvaluationRun).get(stays.id) == stays


async def test_a_run_of_an_unknown_tenant_is_not_found(backend: UnitOfWorkFactory) -> None:
    async with backend.tenant(uuid.uuid4()) as uow:
        with pytest.raises(NotFound):
            await uow.repository(EvaluationRun).add(
                EvaluationRun(id=new_id(), tenant_id=uow.tenant_id, created_at=at(0))
            )
