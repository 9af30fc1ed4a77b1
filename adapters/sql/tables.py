"""One table as a unit of work sees it, with the statements every repository needs.

A tenant unit of work gets each table scoped to its tenant: every statement it
builds carries ``WHERE tenant_id = :tenant``, so another tenant's rows are not
hidden after the fact but never selected, updated or deleted at all (what
row-level security will also enforce on PostgreSQL). Rows written with another
tenant's id are refused before any SQL, as an RLS ``WITH CHECK`` policy would.

Constraint errors are explained here, where the entity being written is known:
a unique violation becomes ``Conflict`` naming the rule the schema gives that key, a
foreign key violation becomes ``NotFound`` naming the missing parent (found by
looking the parents up, since SQLite does not say which key failed). Both read
what the keys mean from the MetaData (constraints.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, insert, literal, or_, select, type_coerce
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError

from tenantrag.adapters.sql.rows import E, Mapper
from tenantrag.adapters.sql.session import ConstraintViolation, SqlSession
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TenantRagError
from tenantrag.domain.pagination import Cursor, Page, PageRequest

Condition = ColumnElement[bool]


class Rows(Generic[E]):
    def __init__(self, session: SqlSession, mapper: Mapper[E], tenant_id: uuid.UUID | None = None) -> None:
        self.session = session
        self.mapper = mapper
        self.table = mapper.table
        # None: a system unit of work, which sees every row of the (non-tenant) table.
        self.tenant_id = tenant_id

    # --- reads -----------------------------------------------------------------------

    def where(self, *conditions: Condition) -> list[Condition]:
        scope = [] if self.tenant_id is None else [self.table.c.tenant_id == self.tenant_id]
        return [*scope, *conditions]

    def select(self, *conditions: Condition) -> Select[Any]:
        return select(*self._columns()).where(*self.where(*conditions))

    def _columns(self) -> list[ColumnElement[Any]]:
        columns: list[ColumnElement[Any]] | None = self.mapper.statements.get("columns")
        if columns is None:
            overrides = self.mapper.column_types
            columns = [
                type_coerce(column, overrides[column.name]).label(column.name)
                if column.name in overrides
                else column
                for column in self.table.columns
            ]
            self.mapper.statements["columns"] = columns
        return columns

    async def one(self, *conditions: Condition) -> E | None:
        row = (await self.session.read(self.select(*conditions).limit(1))).mappings().first()
        return None if row is None else self.mapper.from_row(row)

    async def get(self, row_id: uuid.UUID) -> E | None:
        """By primary key, through a statement built once per table (and scope)."""
        key = "get" if self.tenant_id is None else "get_in_tenant"
        statement: Select[Any] | None = self.mapper.statements.get(key)
        if statement is None:
            c = self.table.c
            conditions = [c.id == bindparam("row_id", type_=c.id.type)]
            if self.tenant_id is not None:
                conditions.append(c.tenant_id == bindparam("tenant", type_=c.tenant_id.type))
            statement = select(*self._columns()).where(*conditions).limit(1)
            self.mapper.statements[key] = statement
        params: dict[str, Any] = {"row_id": row_id}
        if self.tenant_id is not None:
            params["tenant"] = self.tenant_id
        row = (await self.session.read(statement, params)).mappings().first()
        return None if row is None else self.mapper.from_row(row)

    async def all(self, *conditions: Condition, order_by: Sequence[Any] = ()) -> list[E]:
        statement = self.select(*conditions).order_by(*order_by)
        return [self.mapper.from_row(row) for row in (await self.session.read(statement)).mappings()]

    async def exists(self, *conditions: Condition) -> bool:
        statement = select(literal(1)).select_from(self.table).where(*self.where(*conditions)).limit(1)
        return (await self.session.read(statement)).first() is not None

    async def count(self, *conditions: Condition) -> int:
        statement = select(func.count()).select_from(self.table).where(*self.where(*conditions))
        return int((await self.session.read(statement)).scalar_one())

    async def page(self, request: PageRequest, *conditions: Condition) -> Page[E]:
        """Keyset paging by (created_at, id), as domain.pagination.paginate does it."""
        created, ident = self.table.c.created_at, self.table.c.id
        after = request.after
        if after is not None:
            conditions = (
                *conditions,
                or_(created > after.created_at, and_(created == after.created_at, ident > after.id)),
            )
        statement = self.select(*conditions).order_by(created, ident).limit(request.limit + 1)
        rows = (await self.session.read(statement)).mappings().all()
        items = [self.mapper.from_row(row) for row in rows[: request.limit]]
        has_more = len(rows) > request.limit
        next_cursor = Cursor(items[-1].created_at, items[-1].id).encode() if has_more and items else None
        return Page(items=tuple(items), next_cursor=next_cursor)

    # --- writes ----------------------------------------------------------------------

    async def add(self, entity: E) -> None:
        await self.add_many([entity])

    async def add_many(self, entities: Sequence[E]) -> None:
        """One INSERT of every row, all or nothing."""
        for entity in entities:
            self.check_owner(entity)
        params = [self._params(entity) for entity in entities]  # encodes, so may refuse input
        if not params:
            return
        statement = self._insert()
        try:
            await self.session.write(statement, params)
        except ConstraintViolation as violation:
            if len(entities) == 1:
                raise await self._explain(violation, entities[0]) from None
            raise await self._explain_batch(violation, entities, params) from None

    async def update(self, entity: E, *, only_if: Sequence[Condition] = ()) -> None:
        """Replace the row with ``entity`` by id; NotFound if this unit of work cannot see it.

        With ``only_if``, the row is replaced only while those conditions hold of it (checked
        and written in one statement, under the row's lock); StaleRow if they do not.
        """
        if self.tenant_id is not None and _tenant_of(entity) != self.tenant_id:
            if not await self.exists(self.table.c.id == entity.id):
                raise NotFound(self.mapper.noun, entity.id)
            self.check_owner(entity)
        key = {column.name for column in self.table.primary_key.columns}
        values = {name: value for name, value in self.mapper.to_row(entity).items() if name not in key}
        statement = (
            sql_update(self.table).where(*self.where(self.table.c.id == entity.id, *only_if)).values(values)
        )
        try:
            result = await self.session.write(statement)
        except ConstraintViolation as violation:
            raise await self._explain(violation, entity) from None
        if result.rowcount == 0:
            if only_if and await self.exists(self.table.c.id == entity.id):
                raise StaleRow(self.mapper.noun, entity.id)
            raise NotFound(self.mapper.noun, entity.id)

    async def delete(self, *conditions: Condition) -> int:
        """Delete the rows matching; ON DELETE CASCADE takes their dependants along."""
        statement = sql_delete(self.table).where(*self.where(*conditions))
        try:
            result: CursorResult[Any] = await self.session.write(statement)
        except ConstraintViolation as violation:  # every key cascades, so only a schema change gets here
            raise Conflict(
                f"these {self.mapper.noun} rows are still referenced: {violation.problem.message}",
                details={"rule": f"{self.table.name}.foreign_key"},
            ) from None
        return int(result.rowcount)

    # --- helpers ---------------------------------------------------------------------

    def check_owner(self, entity: E) -> None:
        if self.tenant_id is not None and _tenant_of(entity) != self.tenant_id:
            raise PermissionDenied(
                f"this unit of work is for tenant {self.tenant_id}; it cannot write a {self.mapper.noun}"
                f" of tenant {_tenant_of(entity)}"
            )

    def _insert(self) -> Any:
        statement = insert(self.table)
        overrides = self.mapper.column_types
        if overrides:  # bound under another name: a VALUES key cannot be a bindparam's name
            statement = statement.values(
                {name: bindparam(f"{name}_", type_=t) for name, t in overrides.items()}
            )
        return statement

    def _params(self, entity: E) -> dict[str, Any]:
        row = self.mapper.to_row(entity)
        for name in self.mapper.column_types:
            row[f"{name}_"] = row.pop(name)
        return row

    async def _explain(self, violation: ConstraintViolation, entity: E) -> TenantRagError:
        problem = violation.problem
        if problem.kind == "unique":
            unique = self.mapper.unique(problem.columns) if problem.table == self.table.name else None
            if unique is not None:
                return unique.conflict(self.mapper.to_row(entity))
            return Conflict(f"{self.mapper.noun} {entity.id}: {problem.message}", details={"rule": "unique"})
        if problem.kind == "foreign_key":
            missing = await self._missing_parent(entity)
            if missing is not None:
                return missing
            return Conflict(
                f"{self.mapper.noun} {entity.id} refers to a row that no longer exists",
                details={"rule": f"{self.table.name}.foreign_key"},
            )
        # The entity validated itself, so the schema and the domain disagree: say where.
        field = problem.columns[-1] if problem.columns else self.mapper.noun
        return InvalidInput(field, f"refused by the database ({problem.message})")

    async def _missing_parent(self, entity: E) -> NotFound | None:
        row = self.mapper.to_row(entity)
        for reference in self.mapper.references:
            parent_id = row[reference.column]
            if parent_id is None:
                continue
            parent = reference.parent
            conditions = [parent.c.id == parent_id]
            if reference.same_tenant:
                conditions.append(parent.c.tenant_id == row["tenant_id"])
            found = await self.session.read(
                select(literal(1)).select_from(parent).where(*conditions).limit(1)
            )
            if found.first() is None:
                return NotFound(reference.noun, parent_id)
        return None

    async def _explain_batch(
        self, violation: ConstraintViolation, entities: Sequence[E], params: Sequence[dict[str, Any]]
    ) -> TenantRagError:
        """Find the first row of a failed batch that breaks a rule, by replaying the batch
        row by row in a savepoint that is rolled back, and explain that row."""
        statement = self._insert()
        failed: tuple[DBAPIError, E] | None = None
        async with self.session.trial() as connection:
            for entity, row in zip(entities, params, strict=True):
                try:
                    await connection.execute(statement, [row])
                except DBAPIError as error:
                    failed = (error, entity)
                    break
        if failed is None:  # the batch failed but no single row does: describe the first
            return await self._explain(violation, entities[0])
        # Read only now: on PostgreSQL the transaction is usable again once the savepoint is gone.
        refused, entity = failed
        found = await self.session.violation(refused)
        if found is None:
            raise refused
        return await self._explain(found, entity)


class StaleRow(Exception):
    """A conditional update found its row changed; the repository says what that means."""

    def __init__(self, noun: str, row_id: uuid.UUID) -> None:
        super().__init__(f"the {noun} {row_id} has changed")


def _tenant_of(entity: object) -> uuid.UUID:
    tenant_id: uuid.UUID = getattr(entity, "tenant_id")  # noqa: B009 - tenant-owned entities have one
    return tenant_id
