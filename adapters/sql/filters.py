"""Filters of the filter language (``domain/filtering/``) as SQLAlchemy Core conditions.

Every value, metadata key and JSON path is a bound parameter; nothing from a filter is
ever formatted into SQL text. The condition reads ``chunks`` and ``documents`` and assumes
the query joins them on (tenant_id, document_id = id).

The domain's :meth:`Filter.matches` is the meaning; how each dialect keeps to it:

- Three-valued logic: each positive condition ($eq, $in, ranges, $exists, tags...) is made
  true or false, never NULL (a missing key yields NULL in SQL), so that ``$not``, ``$ne``,
  ``$nin`` and ``$exists: false``, compiled as NOT of a positive one, hold for missing keys.
- PostgreSQL (jsonb): the value at a path is ``metadata -> :k1 -> :k2`` (``#>`` would index
  into arrays when a key looks like a number). ``$eq`` is ``metadata @> :object``, the
  nested object holding the value at the path: containment compares numbers as numerics
  and inside objects never lets an array contain a scalar, so it is JSON equality, and a
  GIN index on ``chunks.metadata`` (``jsonb_path_ops``) can serve it. Short ``$in`` lists
  are ORs of such containments, long ones one jsonb array parameter. Ranges check
  ``jsonb_typeof`` first, then compare jsonb numbers, or strings as text ``COLLATE "C"``
  (code point order, whatever the database's collation).
- SQLite (JSON1): ``json_type(metadata, :path)`` gives the kind, ``json_extract`` the value,
  with ``:path`` = ``$."k1"."k2"`` for keys of printable ASCII without ``"`` or ``\\``.
  SQLite versions disagree on escapes in path labels (3.40 compares a label with the
  stored key's raw, escaped text, which was written by ``json.dumps`` with ASCII escapes;
  3.45 decodes both; older ones end a label at any ``"``), so other keys are found with
  ``json_each`` (whose ``key`` is decoded) instead. Strings compare with BINARY, which is
  code point order for UTF-8. Lists are one JSON parameter read by ``json_each``, so no
  filter runs into SQLite's limit on parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Table,
    Text,
    and_,
    any_,
    case,
    collate,
    column,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.sql.expression import FromClause, TableValuedAlias

from tenantrag.domain.filtering import (
    POSITIVE,
    RANGES,
    And,
    DocumentCondition,
    Filter,
    MetadataCondition,
    Not,
    Op,
    Or,
    Scalar,
)

Condition = ColumnElement[bool]
Value = ColumnElement[Any]
# Longer $in lists go to PostgreSQL as one jsonb array instead of ORed containments.
INLINE_IN = 8
# Keys SQLite finds with a quoted path label in every version: printable ASCII but '"' and '\'.
_PLAIN_KEY = re.compile(r"[ !#-\[\]-~]+")
_SQLITE = SQLiteDialect()  # for the stored form of bound values that json_each reads


def compile_filter(
    filter: Filter, *, chunks: Table, documents: Table, dialect_name: str
) -> ColumnElement[bool]:
    """The condition that holds for exactly the (chunk, document) rows ``filter`` matches."""
    if dialect_name == "postgresql":
        return _Postgres(chunks, documents).compile(filter)
    if dialect_name == "sqlite":
        return _Sqlite(chunks, documents).compile(filter)
    raise ValueError(f"filters are not compiled for the {dialect_name!r} dialect")


class _Compiler:
    def __init__(self, chunks: Table, documents: Table) -> None:
        self.chunks = chunks
        self.documents = documents

    def compile(self, node: Filter) -> Condition:
        if isinstance(node, And):
            return and_(true(), *(self.compile(f) for f in node.filters))
        if isinstance(node, Or):
            return or_(false(), *(self.compile(f) for f in node.filters))
        if isinstance(node, Not):
            return not_(self.compile(node.filter))
        if isinstance(node, MetadataCondition):
            op = POSITIVE.get(node.op, node.op)
            if op is Op.EXISTS:
                return self.exists(node.path) if node.value else not_(self.exists(node.path))
            positive = self.ranges(node.path, op, node.value) if op in RANGES else self.in_(node)
            return positive if op is node.op else not_(positive)
        if isinstance(node, DocumentCondition):
            op = POSITIVE.get(node.op, node.op)
            positive = self.document(node.field, op, node.values)
            return positive if op is node.op else not_(positive)
        raise TypeError(f"not a filter node: {node!r:.80}")

    def in_(self, node: MetadataCondition) -> Condition:
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        return self.equals(node.path, values)

    def document(self, field: str, op: Op, values: Sequence[Any]) -> Condition:
        c, d = self.chunks.c, self.documents.c
        if field == "created_at":
            return _compare(op, d.created_at, values[0])
        if field == "status":
            return d.status.in_([status.value for status in values])
        if field == "tags":
            return self.tags(op, list(values))
        return self.ids(c.document_id, list(values))

    def exists(self, path: Sequence[str]) -> Condition:
        raise NotImplementedError

    def equals(self, path: Sequence[str], values: Sequence[Scalar]) -> Condition:
        raise NotImplementedError

    def ranges(self, path: Sequence[str], op: Op, value: Any) -> Condition:
        raise NotImplementedError

    def tags(self, op: Op, tags: list[str]) -> Condition:
        raise NotImplementedError

    def ids(self, column: ColumnElement[Any], ids: list[Any]) -> Condition:
        raise NotImplementedError


def _definite(condition: ColumnElement[Any]) -> Condition:
    """NULL (a key that is not there) as false, so NOT of it is true."""
    return func.coalesce(condition, false())


class _Postgres(_Compiler):
    @property
    def metadata(self) -> ColumnElement[Any]:
        return type_coerce(self.chunks.c.metadata, JSONB)

    def at(self, path: Sequence[str], *, text: bool = False) -> ColumnElement[Any]:
        """The jsonb at ``path`` (``->`` looks up object keys only), or its text (``->>``)."""
        value = self.metadata
        for index, key in enumerate(path):
            last = text and index == len(path) - 1
            value = value.op("->>" if last else "->", return_type=Text if last else JSONB)(literal(key, Text))
        return value

    def contains(self, path: Sequence[str], value: Scalar) -> Condition:
        document: Any = value
        for key in reversed(path):
            document = {key: document}
        return self.metadata.op("@>", return_type=Boolean)(literal(document, JSONB))

    def exists(self, path: Sequence[str]) -> Condition:
        return self.at(path).is_not(None)

    def equals(self, path: Sequence[str], values: Sequence[Scalar]) -> Condition:
        if len(values) <= INLINE_IN:
            return or_(false(), *(self.contains(path, value) for value in values))
        wanted = func.jsonb_array_elements(literal(list(values), JSONB)).table_valued(column("value", JSONB))
        return _exists(wanted, wanted.c.value == self.at(path))

    def ranges(self, path: Sequence[str], op: Op, value: Any) -> Condition:
        if isinstance(value, str):
            stored = collate(self.at(path, text=True), "C")
            return _definite(and_(func.jsonb_typeof(self.at(path)) == "string", _compare(op, stored, value)))
        number = _compare(op, self.at(path), literal(value, JSONB))  # jsonb compares numbers as numerics
        return _definite(and_(func.jsonb_typeof(self.at(path)) == "number", number))

    def tags(self, op: Op, tags: list[str]) -> Condition:
        stored = type_coerce(self.documents.c.tags, JSONB)
        wanted = literal(tags, ARRAY(Text))
        return cast(Condition, stored.has_all(wanted) if op is Op.ALL else stored.has_any(wanted))

    def ids(self, column: ColumnElement[Any], ids: list[Any]) -> Condition:
        return column == any_(literal(ids, ARRAY(column.type)))


class _Sqlite(_Compiler):
    def located(self, path: Sequence[str], test: Callable[[Value, Value], ColumnElement[Any]]) -> Condition:
        """``test(json type, SQL value)`` of the value at ``path``: false where it is missing."""
        metadata = self.chunks.c.metadata
        if all(_PLAIN_KEY.fullmatch(key) for key in path):
            label = literal("$" + "".join(f'."{key}"' for key in path))
            return _definite(test(func.json_type(metadata, label), func.json_extract(metadata, label)))
        # json_each decodes keys; only objects are entered (json_each(NULL) yields no rows).
        found = _each(metadata, "key", "value", "type", "atom")
        joined: FromClause = found
        steps = [found]
        for key in path[1:]:
            step = _each(case((found.c.type == "object", found.c.value)), "key", "value", "type", "atom")
            joined = joined.join(step, step.c.key == key)
            found = step
            steps.append(step)
        return _exists(joined, steps[0].c.key == path[0], test(found.c.type, found.c.atom), own=steps)

    def exists(self, path: Sequence[str]) -> Condition:
        return self.located(path, lambda kind, _value: kind.is_not(None))

    def equals(self, path: Sequence[str], values: Sequence[Scalar]) -> Condition:
        if not values:
            return false()
        if len(values) == 1:
            return self.located(path, lambda kind, stored: _sqlite_equal(kind, stored, values[0]))
        wanted = _each(literal(json.dumps(list(values))), "type", "atom")

        def test(kind: Value, stored: Value) -> ColumnElement[Any]:
            # Same kind (integer and real are both numbers; true and false differ) and same
            # value; IS treats NULL (JSON null's value) as equal to NULL, and 1 as 1.0.
            same_kind = _number_as_one(wanted.c.type) == _number_as_one(kind)
            return _exists(wanted, same_kind, wanted.c.atom.is_(stored))

        return self.located(path, test)

    def ranges(self, path: Sequence[str], op: Op, value: Any) -> Condition:
        kinds = ("text",) if isinstance(value, str) else ("integer", "real")
        return self.located(path, lambda kind, stored: and_(kind.in_(kinds), _compare(op, stored, value)))

    def tags(self, op: Op, tags: list[str]) -> Condition:
        stored = _each(self.documents.c.tags, "value")
        wanted = _each(literal(json.dumps(tags)), "value")
        if op is Op.ANY:
            return _exists(stored, stored.c.value.in_(select(wanted.c.value)))
        missing = wanted.c.value.not_in(select(stored.c.value).correlate_except(stored))
        return not_(_exists(wanted, missing))

    def ids(self, column: ColumnElement[Any], ids: list[Any]) -> Condition:
        store = column.type.bind_processor(_SQLITE) or _same
        listed = _each(literal(json.dumps([store(x) for x in ids])), "value")
        return column.in_(select(listed.c.value))


def _same(value: Any) -> Any:
    return value


def _each(json_value: ColumnElement[Any], *columns: str) -> TableValuedAlias:
    """``json_each(json_value)`` as a FROM item with an anonymous name."""
    return func.json_each(json_value).table_valued(*columns).alias()


def _exists(source: FromClause, *where: ColumnElement[Any], own: Sequence[FromClause] = ()) -> Condition:
    """EXISTS over ``source``, correlated with the enclosing query's chunks and documents."""
    return exists(select(true()).select_from(source).where(*where).correlate_except(*(own or [source])))


def _sqlite_equal(kind: Value, stored: Value, value: Scalar) -> ColumnElement[Any]:
    if value is None or isinstance(value, bool):
        return kind == {None: "null", True: "true", False: "false"}[value]
    return and_(kind.in_(("text",) if isinstance(value, str) else ("integer", "real")), stored == value)


def _number_as_one(kind: Value) -> ColumnElement[Any]:
    return case((kind.in_(("integer", "real")), "number"), else_=kind)


def _compare(op: Op, left: Any, right: Any) -> Condition:
    return cast(Condition, RANGES[op](left, right))
