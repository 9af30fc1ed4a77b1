"""The one retry policy for transactions that lost a race (domain/usecases/retrying.py)."""

from __future__ import annotations

import random

import pytest

from tenantrag.domain.errors import Conflict, InvalidInput
from tenantrag.domain.usecases import retrying
from tenantrag.domain.usecases.retrying import ATTEMPTS, is_transient, pause, retried


def _locked() -> Conflict:
    return Conflict("the database is busy: deadlock detected", details={"rule": "database.locked"})


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retrying, "FIRST_PAUSE", 0.0)


async def test_a_transient_failure_runs_the_work_again_until_it_succeeds() -> None:
    runs: list[int] = []

    async def work() -> str:
        runs.append(len(runs) + 1)
        if len(runs) < 3:
            raise _locked()
        return "done"

    assert await retried(work, what="test") == "done"
    assert runs == [1, 2, 3]


async def test_the_runs_are_bounded_and_the_last_failure_is_raised_as_it_was() -> None:
    runs = 0

    async def work() -> None:
        nonlocal runs
        runs += 1
        raise _locked()

    with pytest.raises(Conflict, match="deadlock detected"):
        await retried(work, what="test")
    assert runs == ATTEMPTS


async def test_other_errors_are_not_retried() -> None:
    runs = 0

    async def work() -> None:
        nonlocal runs
        runs += 1
        raise Conflict("a tenant must keep at least one active owner")

    with pytest.raises(Conflict, match="active owner"):
        await retried(work, what="test")
    assert runs == 1


async def test_a_use_case_may_name_its_own_races() -> None:
    runs = 0

    async def work() -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise Conflict("a document with that source key exists", details={"rule": "documents.source_key"})
        return runs

    def lost(error: BaseException) -> bool:
        return isinstance(error, Conflict) and error.details.get("rule") == "documents.source_key"

    assert await retried(work, what="test", also=lost) == 2


def test_what_counts_as_transient() -> None:
    assert is_transient(_locked())
    assert not is_transient(Conflict("taken", details={"rule": "tenants.slug"}))
    assert not is_transient(InvalidInput("name", "must not be empty"))
    assert not is_transient(RuntimeError("database.locked"))


def test_pauses_grow_and_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retrying, "FIRST_PAUSE", 0.02)
    monkeypatch.setattr(random, "uniform", lambda _low, high: high)
    assert [pause(n) for n in (1, 2, 3)] == [0.02, 0.04, 0.08]
    assert pause(30) == retrying.MAX_PAUSE
