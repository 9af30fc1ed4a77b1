"""Two owners acting on each other at once never leave a tenant without an active owner.

Each race runs many times on both backends (a SQLite file, a PostgreSQL database), two
owners of a fresh tenant each doing the same thing to the other at once through
asyncio.gather (two connections, so two real transactions). Done one after the other, the
second request is refused (409): the invariant must hold just as well when they overlap.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable

import pytest

from tenantrag.domain.errors import Conflict, NotFound, PermissionDenied
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import PASSWORD

# RACE_TRIALS=100 for the full check (each trial is a fresh race).
TRIALS = int(os.environ.get("RACE_TRIALS", "25"))

Act = Callable[[TenantRag, uuid.UUID, Principal, uuid.UUID], Awaitable[object]]


async def _remove(rag: TenantRag, tenant: uuid.UUID, actor: Principal, other: uuid.UUID) -> object:
    await rag.members.remove(actor, tenant, other)
    return None


async def _leave(rag: TenantRag, tenant: uuid.UUID, actor: Principal, _other: uuid.UUID) -> object:
    assert actor.user_id is not None
    await rag.members.remove(actor, tenant, actor.user_id)
    return None


async def _demote(rag: TenantRag, tenant: uuid.UUID, actor: Principal, other: uuid.UUID) -> object:
    return await rag.members.change_role(actor, tenant, other, Role.ADMIN)


async def _suspend(rag: TenantRag, tenant: uuid.UUID, actor: Principal, other: uuid.UUID) -> object:
    return await rag.members.set_active(actor, tenant, other, False)


RACES: dict[str, Act] = {
    "remove each other": _remove,
    "both leave": _leave,
    "demote each other": _demote,
    "suspend each other": _suspend,
}


@pytest.mark.parametrize("race", sorted(RACES))
async def test_two_owners_racing_leave_exactly_one_active_owner(app: TenantRag, race: str) -> None:
    act = RACES[race]
    first = await app.users.register(email="first@example.com", password=PASSWORD)
    second = await app.users.register(email="second@example.com", password=PASSWORD)
    one, two = Principal.user(first.id), Principal.user(second.id)
    for trial in range(TRIALS):
        tenant = await app.tenants.create(one, name=f"Race {trial}")
        await app.members.add(one, tenant.id, user_id=second.id, role=Role.OWNER)

        outcomes = await asyncio.gather(
            act(app, tenant.id, one, second.id), act(app, tenant.id, two, first.id), return_exceptions=True
        )

        refused = [o for o in outcomes if isinstance(o, BaseException)]
        # Exactly one of them wins; the loser is told why: the last owner, or what the
        # winner did to it first (no longer a member, or no longer an owner).
        assert len(refused) == 1, f"trial {trial}: {outcomes!r}"
        assert isinstance(refused[0], Conflict | NotFound | PermissionDenied), repr(refused[0])
        if isinstance(refused[0], Conflict):
            assert "at least one active owner" in refused[0].message
        members = (await app.members.list(Principal.system(), tenant.id, PageRequest(limit=10))).items
        owners = [m for m in members if m.is_active_owner]
        assert len(owners) == 1, f"trial {trial}: {members!r}"
