"""What the schema's keys mean to a writer, read from the MetaData (schema.py).

Nothing here is written per table: a unique constraint or unique index is a rule
whose name and message come from its columns, a foreign key is a parent that may be
missing. So a table added to schema.py reports its clashes without another edit.

- A rule's name is ``<table>.<columns>``: ``tenant_id`` left out (every tenant key
  leads with it, so it says nothing), ``_id`` dropped from references
  (``uq_chunks_tenant_id_document_id_ordinal`` is ``chunks.document_ordinal``). The
  primary key is ``<table>.id``. A constraint may name its rule and message itself:
  ``info={"rule": ..., "message": ...}``, where the message is a ``str.format``
  template over the row's columns (``"{slug!r}"``).
- Every backend reports a clash as ``Conflict`` with ``details["rule"]`` the rule's
  name: the API and its clients tell clashes apart by it, so a name, once released,
  stays (the ``info`` above keeps the older names that do not follow the pattern).
- A table is called by its ``info["noun"]``, else its name in the singular
  (``chat_sessions``: "chat session"); ``NotFound`` and messages use it.

The error readers of the dialects (``adapters/*/errors.py``) may look constraints up
here by name (``constraint_named``); repositories by table and columns
(``unique_rule``, ``reference``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from tenantrag.adapters.sql import schema
from tenantrag.domain.errors import Conflict

TENANT = "tenant_id"


def noun(table: Table) -> str:
    given = table.info.get("noun")
    return given if isinstance(given, str) else table.name.removesuffix("s").replace("_", " ")


@attrs.frozen
class UniqueRule:
    rule: str
    # A str.format template over the row's column values.
    message: str

    def conflict(self, row: Mapping[str, Any]) -> Conflict:
        return Conflict(self.message.format_map(row), details={"rule": self.rule})


@attrs.frozen
class Reference:
    """A foreign key as a writer sees it: ``column`` holds the id of a row of ``parent``.

    ``same_tenant``: the key is (tenant_id, column), so the parent must be in the row's tenant.
    """

    column: str
    parent: Table
    same_tenant: bool

    @property
    def noun(self) -> str:
        return noun(self.parent)


@attrs.frozen
class TableRules:
    uniques: Mapping[frozenset[str], UniqueRule]
    # In the order a missing parent is looked for: the tenant first.
    references: tuple[Reference, ...]


def read_rules(table: Table) -> TableRules:
    uniques: dict[frozenset[str], UniqueRule] = {}
    primary = [column.name for column in table.primary_key.columns]
    uniques[frozenset(primary)] = UniqueRule(
        f"{table.name}.id", f"a {noun(table)} with id {{id}} already exists"
    )
    keys: list[UniqueConstraint | Index] = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    for key in [*keys, *(index for index in table.indexes if index.unique)]:
        columns = [column.name for column in key.columns]
        uniques[frozenset(columns)] = _unique(table, columns, key.info)
    return TableRules(uniques, _references(table))


def _unique(table: Table, columns: list[str], info: Mapping[str, Any]) -> UniqueRule:
    named = [c for c in columns if c != TENANT]
    rule = info.get("rule") or f"{table.name}." + "_".join(c.removesuffix("_id") for c in named)
    # Ids read as they are; any other value quoted, so that an empty or spaced one shows.
    values = " and ".join(f"{c.replace('_', ' ')} {{{c}{'' if c.endswith('_id') else '!r'}}}" for c in named)
    where = " in this tenant" if TENANT in columns else ""
    message = info.get("message") or f"a {noun(table)} with {values} already exists{where}"
    return UniqueRule(rule, message)


def _references(table: Table) -> tuple[Reference, ...]:
    found: list[Reference] = []
    for key in table.constraints:
        if not isinstance(key, ForeignKeyConstraint):
            continue
        columns = [column.name for column in key.columns]
        named = [c for c in columns if c != TENANT] or columns
        # Composite keys between tenant tables are (tenant_id, <one id>): see schema.py.
        (column,) = named
        found.append(Reference(column, key.referred_table, same_tenant=len(columns) > 1))
    # Every tenant_id names a tenant, directly or through the parent it leads a key to,
    # and a missing tenant is the first thing to say.
    if TENANT in table.c and not any(r.column == TENANT for r in found):
        found.append(Reference(TENANT, schema.tenants, same_tenant=False))
    order = list(table.c.keys())
    return tuple(sorted(found, key=lambda r: order.index(r.column)))


_RULES = {table.name: read_rules(table) for table in schema.metadata.tables.values()}


def rules(table: Table) -> TableRules:
    known = _RULES.get(table.name)
    return read_rules(table) if known is None else known


def unique_rule(table: str, columns: Iterable[str]) -> UniqueRule | None:
    """The rule a unique violation on ``columns`` of ``table`` broke."""
    known = _RULES.get(table)
    return None if known is None else known.uniques.get(frozenset(columns))


def reference(table: str, columns: Iterable[str]) -> Reference | None:
    """The parent a foreign key violation on ``columns`` of ``table`` is about."""
    known = _RULES.get(table)
    wanted = [c for c in columns if c != TENANT] or list(columns)
    if known is None or len(wanted) != 1:
        return None
    return next((r for r in known.references if r.column == wanted[0]), None)


def _constraint_columns() -> dict[str, tuple[str, tuple[str, ...]]]:
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for table in schema.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint.name, str):
                # A check is reported by its name alone.
                columns: tuple[str, ...] = ()
                if isinstance(constraint, ColumnCollectionConstraint) and not isinstance(
                    constraint, CheckConstraint
                ):
                    columns = tuple(c.name for c in constraint.columns)
                found[constraint.name] = (table.name, columns)
        # A unique index is reported by its own name, like a constraint.
        for index in table.indexes:
            if index.unique and isinstance(index.name, str):
                found[index.name] = (table.name, tuple(column.name for column in index.columns))
    return found


_CONSTRAINTS = _constraint_columns()


def constraint_named(name: str) -> tuple[str, tuple[str, ...]] | None:
    """(table, columns) of the constraint or unique index ``name``, as a database reports it."""
    return _CONSTRAINTS.get(name)
