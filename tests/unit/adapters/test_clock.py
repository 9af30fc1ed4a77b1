"""SystemClock tells UTC time; ManualClock moves only when told, and only with aware times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tenantrag.adapters.clock import DEFAULT_START, ManualClock, SystemClock
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.clock import Clock


def test_the_system_clock_is_utc_and_current() -> None:
    clock: Clock = SystemClock()

    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)

    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


def test_a_manual_clock_stands_still() -> None:
    clock: Clock = ManualClock()

    assert clock.now() == clock.now() == DEFAULT_START


def test_a_manual_clock_starts_where_told_in_utc() -> None:
    paris_noon = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))

    now = ManualClock(paris_noon).now()

    assert now == paris_noon
    assert now.tzinfo is UTC
    assert now.hour == 11


def test_advance_moves_forward_and_returns_the_new_time() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))

    assert clock.advance(timedelta(hours=2)) == datetime(2026, 1, 1, 2, tzinfo=UTC)
    clock.advance(timedelta(0))
    assert clock.now() == datetime(2026, 1, 1, 2, tzinfo=UTC)


def test_advance_refuses_to_go_back_but_set_may() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))

    with pytest.raises(InvalidInput) as caught:
        clock.advance(timedelta(seconds=-1))
    assert caught.value.field == "delta"

    clock.set(datetime(2025, 6, 1, tzinfo=UTC))
    assert clock.now() == datetime(2025, 6, 1, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 1, 1)  # naive on purpose

    with pytest.raises(InvalidInput) as at_start:
        ManualClock(naive)
    clock = ManualClock()
    with pytest.raises(InvalidInput) as at_set:
        clock.set(naive)

    assert (at_start.value.field, at_set.value.field) == ("start", "when")
    assert clock.now() == DEFAULT_START
