"""Keyset pagination: cursors round-trip, pages partition the whole list in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.pagination import Cursor, PageRequest, paginate

Row = tuple[datetime, uuid.UUID]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
rows = st.lists(
    st.tuples(st.integers(0, 5).map(lambda s: T0 + timedelta(seconds=s)), st.uuids()),
    unique_by=lambda r: r[1],
    max_size=40,
)


@given(rows, st.integers(1, 7))
def test_pages_partition_the_list_in_order(items: list[Row], limit: int) -> None:
    seen: list[Row] = []
    request = PageRequest(limit=limit)
    for _ in range(len(items) + 2):
        page = paginate(items, request, key=lambda r: r)
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        request = PageRequest(limit=limit, after=page.next_cursor)
    assert seen == sorted(items)


@given(st.uuids(), st.integers(0, 10**6))
def test_cursor_round_trips(ident: uuid.UUID, seconds: int) -> None:
    cursor = Cursor(T0 + timedelta(seconds=seconds, microseconds=7), ident)
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("token", ["", "garbage", "W10", "WyJ4IiwgInkiXQ"])
def test_a_forged_cursor_is_invalid_input(token: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        PageRequest(after=token)
    assert raised.value.field == "cursor"


@pytest.mark.parametrize("limit", [0, -1, 1001, True])
def test_limit_is_bounded(limit: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        PageRequest(limit=limit)
    assert raised.value.field == "limit"
