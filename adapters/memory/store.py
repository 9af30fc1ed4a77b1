"""The committed state: one dict per table, plus the unique indexes SQL would keep."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterator, Mapping
from typing import Any, cast

from tenantrag.adapters.memory.rows import R, Row
from tenantrag.adapters.memory.schema import TABLES, TABLES_BY_NAME, Table, Unique, cascade


class MemoryStore:
    """What every unit of work reads through, and what a commit changes.

    Only transactions write here, through :meth:`apply`; nothing else holds a
    reference to these dicts, so handing out stored rows (frozen) is safe once detached.
    """

    def __init__(self) -> None:
        self._tables: dict[str, dict[uuid.UUID, Row]] = {table.name: {} for table in TABLES}
        self._owners: dict[str, dict[Hashable, uuid.UUID]] = {
            unique.rule: {} for table in TABLES for unique in table.uniques
        }

    def get(self, table: Table[R], row_id: uuid.UUID) -> R | None:
        return cast("R | None", self._tables[table.name].get(row_id))

    def contains(self, table: Table[Any], row_id: uuid.UUID) -> bool:
        return row_id in self._tables[table.name]

    def rows(self, table: Table[R]) -> Iterator[R]:
        return iter(cast("list[R]", list(self._tables[table.name].values())))

    def owner(self, unique: Unique[Any], key: Hashable) -> uuid.UUID | None:
        """The id of the committed row holding ``key`` under ``unique``."""
        return self._owners[unique.rule].get(key)

    def apply(self, changes: Mapping[str, Mapping[uuid.UUID, Row | None]]) -> None:
        """Write rows (None deletes), then cascade the deletes onto rows committed by others.

        The caller has checked every rule; this cannot fail halfway.
        """
        for name, rows in changes.items():
            table = TABLES_BY_NAME[name]
            # Two passes, so rows of one commit that swap a unique key never clobber each other.
            for row_id in rows:
                self._remove(table, row_id)
            for row in rows.values():
                if row is not None:
                    self._insert(table, row)
        for name, rows in changes.items():
            deleted = {row_id for row_id, row in rows.items() if row is None}
            if deleted:
                cascade(TABLES_BY_NAME[name], deleted, self.rows, self._remove)

    def _insert(self, table: Table[Any], row: Row) -> None:
        self._tables[table.name][row.id] = row
        for unique in table.uniques:
            self._owners[unique.rule][unique.key(row)] = row.id

    def _remove(self, table: Table[Any], row_id: uuid.UUID) -> None:
        old = self._tables[table.name].pop(row_id, None)
        if old is None:
            return
        for unique in table.uniques:
            owners = self._owners[unique.rule]
            key = unique.key(old)
            if owners.get(key) == row_id:
                del owners[key]
