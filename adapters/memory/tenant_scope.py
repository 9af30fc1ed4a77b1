"""Tenant isolation by construction: a tenant unit of work reaches rows through this only.

It plays the part row-level security plays in PostgreSQL: another tenant's rows are
invisible (get returns None, lists skip them, update and delete raise NotFound), and
a row written with another tenant's id is refused with PermissionDenied, as an RLS
``WITH CHECK`` policy refuses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

from tenantrag.adapters.memory.rows import TenantRow, detach_optional
from tenantrag.adapters.memory.schema import Table
from tenantrag.adapters.memory.transaction import Transaction
from tenantrag.domain.errors import NotFound, PermissionDenied

T = TypeVar("T", bound=TenantRow)


class TenantScope:
    def __init__(self, tenant_id: uuid.UUID, transaction: Callable[[], Transaction]) -> None:
        self.tenant_id = tenant_id
        self._transaction = transaction

    @property
    def tx(self) -> Transaction:
        """The unit of work's open transaction (raises once it is over)."""
        return self._transaction()

    def rows(self, table: Table[T]) -> Iterator[T]:
        """The tenant's rows, not detached: for reading inside the backend only."""
        return (row for row in self.tx.rows(table) if row.tenant_id == self.tenant_id)

    def lookup(self, table: Table[T], row_id: uuid.UUID) -> T | None:
        """The tenant's row, not detached: for reading inside the backend only."""
        row = self.tx.get(table, row_id)
        return row if row is not None and row.tenant_id == self.tenant_id else None

    def get(self, table: Table[T], row_id: uuid.UUID) -> T | None:
        return detach_optional(self.lookup(table, row_id))

    def add(self, table: Table[T], row: T) -> None:
        self._check_owner(table, row)
        self.tx.insert(table, row)

    def update(self, table: Table[T], row: T) -> None:
        if self.lookup(table, row.id) is None:
            raise NotFound(table.noun, row.id)
        self._check_owner(table, row)
        self.tx.update(table, row)

    def delete(self, table: Table[T], row_id: uuid.UUID) -> None:
        if self.lookup(table, row_id) is None:
            raise NotFound(table.noun, row_id)
        self.tx.delete(table, row_id)

    def _check_owner(self, table: Table[T], row: T) -> None:
        if row.tenant_id != self.tenant_id:
            raise PermissionDenied(
                f"this unit of work is for tenant {self.tenant_id}; it cannot write a {table.noun}"
                f" of tenant {row.tenant_id}"
            )
