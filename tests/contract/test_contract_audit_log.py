"""The audit log's port (``uow.audit``) on every backend: entries round-trip, filters and pages
agree with a reference in Python, another tenant's entries are invisible, and they go with
their tenant."""

from __future__ import annotations

import functools
import itertools
import uuid
from typing import Any

from tenantrag.domain.model.audit_entry import ActorKind, AuditAction, AuditEntry, Outcome
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.ports.audit_log import AuditFilter, AuditLog
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import Seeded, all_pages, at, ids_by_creation, seed_tenant

ALL = PageRequest(limit=1000)


def make_entry(seeded: Seeded, n: int, **overrides: Any) -> AuditEntry:
    actions = list(AuditAction)
    values: dict[str, Any] = {
        "id": new_id(), "tenant_id": seeded.tenant.id,
        "actor_kind": ActorKind.USER if n % 3 else ActorKind.SYSTEM,
        "actor_id": seeded.owner.id if n % 3 else None,
        "action": actions[n % len(actions)], "target_kind": "user", "target_id": uuid.uuid4(),
        "outcome": Outcome.REFUSED if n % 4 == 0 else Outcome.SUCCEEDED,
        "details": {"n": n, "nested": {"unicode": "é✓"}}, "created_at": at(n // 2),
    }  # fmt: skip
    return AuditEntry(**{**values, **overrides})


async def _list(log: AuditLog, page: PageRequest, *, where: AuditFilter) -> Page[AuditEntry]:
    return await log.list(page, where)


def _matches(entry: AuditEntry, where: AuditFilter) -> bool:
    return (
        (where.action is None or entry.action is where.action)
        and (where.actor_kind is None or entry.actor_kind is where.actor_kind)
        and (where.actor_id is None or entry.actor_id == where.actor_id)
        and (where.outcome is None or entry.outcome is where.outcome)
        and (where.since is None or entry.created_at >= where.since)
        and (where.until is None or entry.created_at < where.until)
    )


async def test_entries_round_trip_filter_and_page_per_tenant(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    mine = [make_entry(tenant_a, n) for n in range(24)]
    theirs = make_entry(tenant_b, 0)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        for entry in mine:
            await uow.audit.add(entry)
        await uow.commit()
    async with backend.tenant(tenant_b.tenant.id) as uow:
        await uow.audit.add(theirs)
        await uow.commit()

    filters = [
        AuditFilter(),
        AuditFilter(action=AuditAction.MEMBER_UPDATE),
        AuditFilter(actor_kind=ActorKind.SYSTEM),
        AuditFilter(actor_id=tenant_a.owner.id, outcome=Outcome.SUCCEEDED),
        AuditFilter(outcome=Outcome.REFUSED, since=at(2), until=at(9)),
        AuditFilter(actor_id=uuid.uuid4()),
    ]
    async with backend.tenant(tenant_a.tenant.id, read_only=True) as uow:
        everything = (await uow.audit.list(ALL)).items
        assert sorted(everything, key=lambda e: e.id) == sorted(mine, key=lambda e: e.id)
        for where, limit in itertools.product(filters, (1, 5)):
            listed = await all_pages(functools.partial(_list, uow.audit, where=where), limit=limit)
            assert [e.id for e in listed] == ids_by_creation(e for e in mine if _matches(e, where)), where
    async with backend.tenant(tenant_b.tenant.id, read_only=True) as uow:
        assert [e.id for e in (await uow.audit.list(ALL)).items] == [theirs.id]


async def test_entries_go_with_their_tenant(backend: UnitOfWorkFactory) -> None:
    seeded = await seed_tenant(backend)
    async with backend.tenant(seeded.tenant.id) as uow:
        await uow.audit.add(make_entry(seeded, 1))
        await uow.commit()
    async with backend.tenant(seeded.tenant.id) as uow:
        await uow.tenant.delete()
        await uow.commit()
    async with backend.tenant(seeded.tenant.id, read_only=True) as uow:
        assert (await uow.audit.list(ALL)).items == ()
