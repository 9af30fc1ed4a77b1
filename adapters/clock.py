"""Clocks: the real one, and one that moves only when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tenantrag.domain.errors import InvalidInput

# A fixed default start makes runs repeatable: the same test sees the same times.
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock for tests and simulations: time stands still until advanced or set.

    Naive datetimes are refused rather than assumed to be UTC, since mixing them
    with aware ones fails only later, far from the mistake. Times are kept in UTC.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = DEFAULT_START if start is None else _aware_utc("start", start)

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time; use :meth:`set` to go back."""
        if delta < timedelta(0):
            raise InvalidInput("delta", f"must not be negative (got {delta})")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when``, backwards included: clocks of real machines do that too."""
        self._now = _aware_utc("when", when)


def _aware_utc(field: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must be timezone-aware")
    return value.astimezone(UTC)
