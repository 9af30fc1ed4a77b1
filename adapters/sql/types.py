"""Column types that mean the same on SQLite and PostgreSQL.

- ``UTCDateTime``: timezone-aware in and out. SQLite has no time zones, so values
  are stored as UTC and given ``timezone.utc`` back on the way out.
- ``Embedding(n)``: pgvector's ``vector(n)`` on PostgreSQL; a float32 BLOB of
  exactly ``4 * n`` bytes elsewhere (NumPy reads it without copying).
- ``JSONDocument``: JSONB on PostgreSQL, JSON text elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import JSON, DateTime, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Embedding(TypeDecorator[tuple[float, ...]]):
    """A fixed-dimension vector of float32."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, dimension: int) -> None:
        super().__init__()
        self.dimension = dimension

    def __repr__(self) -> str:
        # Alembic's autogenerate renders column types by repr(); the dimension must survive.
        return f"Embedding({self.dimension})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from pgvector.sqlalchemy import Vector

            return dialect.type_descriptor(Vector(self.dimension))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        array = np.asarray(value, dtype=np.float32)
        if array.shape != (self.dimension,):
            raise ValueError(f"embedding must have {self.dimension} dimensions, got {array.shape}")
        return array if dialect.name == "postgresql" else array.tobytes()

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[float, ...] | None:
        if value is None:
            return None
        if isinstance(value, (bytes, memoryview)):
            return tuple(np.frombuffer(value, dtype=np.float32).tolist())
        return tuple(np.asarray(value, dtype=np.float32).tolist())
