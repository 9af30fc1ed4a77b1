"""One transaction: a write-set laid over the committed store.

Reads see the committed state as it is now (READ COMMITTED, PostgreSQL's default)
with this transaction's own writes on top. Every write is checked at once, like an
SQL statement, against that view; commit checks everything again against what
others committed meanwhile and then applies the whole write-set, or nothing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Hashable, Iterator
from typing import Any, cast

import attrs

from tenantrag.adapters.memory.rows import R, Row, detach
from tenantrag.adapters.memory.schema import TABLES, TABLES_BY_NAME, Reference, Table, Unique, cascade
from tenantrag.adapters.memory.store import MemoryStore
from tenantrag.domain.errors import Conflict, NotFound
from tenantrag.domain.model.uniqueness import primary_key
from tenantrag.domain.ports.unit_of_work import ReadOnlyUnitOfWork


@attrs.frozen
class _Pending:
    row: Row | None  # None: deleted by this transaction
    # Whether the committed state held the row when this transaction first touched it;
    # if that changed by commit time, another transaction raced us on this row.
    existed: bool


_Undo = tuple[str, uuid.UUID, _Pending | None]


class Transaction:
    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._writes: dict[str, dict[uuid.UUID, _Pending]] = {table.name: {} for table in TABLES}
        # Unique keys held by pending rows, so a check never scans the write-set.
        self._claims: dict[str, dict[Hashable, uuid.UUID]] = {
            unique.rule: {} for table in TABLES for unique in table.uniques
        }
        self._undo: list[_Undo] | None = None

    # --- reads ---------------------------------------------------------------------

    def get(self, table: Table[R], row_id: uuid.UUID) -> R | None:
        pending = self._writes[table.name].get(row_id)
        if pending is not None:
            return cast("R | None", pending.row)
        return self._store.get(table, row_id)

    def rows(self, table: Table[R]) -> Iterator[R]:
        writes = self._writes[table.name]
        for pending in writes.values():
            if pending.row is not None:
                yield cast("R", pending.row)
        for row in self._store.rows(table):
            if row.id not in writes:
                yield row

    def find(self, table: Table[R], unique: Unique[R], key: Hashable) -> R | None:
        # Own writes first; both can hold the key only while a commit of ours is bound to fail.
        for row_id in self._holders(table, unique, key):
            return self.get(table, row_id)
        return None

    # --- writes --------------------------------------------------------------------

    def insert(self, table: Table[R], row: R) -> None:
        if self.get(table, row.id) is not None:
            raise primary_key(table.name, table.noun).conflict(row)
        self._check(table, row)
        self._put(table, row.id, detach(row))

    def update(self, table: Table[R], row: R) -> None:
        if self.get(table, row.id) is None:
            raise NotFound(table.noun, row.id)
        self._check(table, row)
        self._put(table, row.id, detach(row))

    def delete(self, table: Table[Any], row_id: uuid.UUID) -> None:
        if self.get(table, row_id) is None:
            raise NotFound(table.noun, row_id)
        with self.statement():
            self._put(table, row_id, None)
            cascade(table, {row_id}, self.rows, self._tombstone)

    @contextlib.contextmanager
    def statement(self) -> Iterator[None]:
        """Make the writes inside all-or-nothing, like one SQL statement (add_many, cascades)."""
        if self._undo is not None:  # nested: the outermost statement undoes
            yield
            return
        self._undo = []
        try:
            yield
        except BaseException:
            for name, row_id, previous in reversed(self._undo):
                self._set(name, row_id, previous)
            raise
        finally:
            self._undo = None

    # --- commit --------------------------------------------------------------------

    def commit(self) -> None:
        """Check the write-set against the committed state as it is now, then apply it.

        Synchronous on purpose: no other unit of work can commit between check and apply.
        """
        for table in TABLES:
            for row_id, pending in self._writes[table.name].items():
                self._recheck(table, row_id, pending)
        self._store.apply(
            {
                name: {
                    row_id: pending.row
                    for row_id, pending in writes.items()
                    # Deleting a row this transaction created itself leaves nothing to apply.
                    if pending.row is not None or pending.existed
                }
                for name, writes in self._writes.items()
                if writes
            }
        )

    def _recheck(self, table: Table[Any], row_id: uuid.UUID, pending: _Pending) -> None:
        if pending.row is None:
            return
        exists = self._store.contains(table, row_id)
        if pending.existed and not exists:
            raise Conflict(
                f"{table.noun} {row_id} was deleted by a concurrent transaction",
                details={"rule": f"{table.name}.id"},
            )
        if exists and not pending.existed:
            raise primary_key(table.name, table.noun).conflict(pending.row)
        self._check(table, pending.row, at_commit=True)

    # --- rules ---------------------------------------------------------------------

    def _check(self, table: Table[Any], row: Row, *, at_commit: bool = False) -> None:
        for unique in table.uniques:
            if any(holder != row.id for holder in self._holders(table, unique, unique.key(row))):
                raise unique.constraint.conflict(row)
        for reference in table.references:
            parent_id = reference.value(row)
            if parent_id is None:
                continue
            parent = self.get(reference.parent, parent_id)
            if parent is None or (
                reference.same_tenant
                and getattr(parent, "tenant_id", None) != getattr(row, "tenant_id", None)
            ):
                raise _missing_parent(table, row, reference, parent_id, at_commit=at_commit)

    def _holders(self, table: Table[Any], unique: Unique[Any], key: Hashable) -> Iterator[uuid.UUID]:
        """Ids of the rows holding ``key``: a pending one, then a committed one."""
        pending = self._claims[unique.rule].get(key)
        if pending is not None:
            yield pending
        committed = self._store.owner(unique, key)
        # A committed holder this transaction rewrote or deleted no longer holds the key here.
        if committed is not None and committed not in self._writes[table.name]:
            yield committed

    # --- write-set bookkeeping -----------------------------------------------------

    def _tombstone(self, table: Table[Any], row_id: uuid.UUID) -> None:
        self._put(table, row_id, None)

    def _put(self, table: Table[Any], row_id: uuid.UUID, row: Row | None) -> None:
        if self._read_only:
            raise ReadOnlyUnitOfWork(f"a read-only unit of work cannot write to {table.name}")
        previous = self._writes[table.name].get(row_id)
        if self._undo is not None:
            self._undo.append((table.name, row_id, previous))
        existed = previous.existed if previous is not None else self._store.contains(table, row_id)
        self._set(table.name, row_id, _Pending(row, existed))

    def _set(self, name: str, row_id: uuid.UUID, pending: _Pending | None) -> None:
        table = TABLES_BY_NAME[name]
        writes = self._writes[name]
        old = writes.pop(row_id, None)
        if old is not None and old.row is not None:
            for unique in table.uniques:
                claims = self._claims[unique.rule]
                key = unique.key(old.row)
                if claims.get(key) == row_id:
                    del claims[key]
        if pending is None:
            return
        writes[row_id] = pending
        if pending.row is not None:
            for unique in table.uniques:
                self._claims[unique.rule][unique.key(pending.row)] = row_id


def _missing_parent(
    table: Table[Any], row: Row, reference: Reference[Any], parent_id: uuid.UUID, *, at_commit: bool
) -> Exception:
    if not at_commit:
        return NotFound(reference.parent.noun, parent_id)
    # The parent existed when the row was written: a concurrent commit deleted it since.
    return Conflict(
        f"{reference.parent.noun} {parent_id}, referenced by {table.noun} {row.id}, was deleted by a"
        " concurrent transaction",
        details={"rule": f"{table.name}.{reference.column}"},
    )
