"""Embeddings as pgvector ``vector(n)`` values, bound and read in pgvector's binary format.

The column type has no bind processing: the float32 NumPy array goes to psycopg
as it is, and pgvector's binary dumper (registered on every connection by
engine.py) sends it. Results arrive binary too and are pgvector ``Vector``s.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from pgvector import Vector
except ImportError:  # pgvector < 0.4 (which langchain-postgres pins) keeps it in utils
    from pgvector.utils import Vector
from psycopg import BaseConnection
from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.pq import Format
from sqlalchemy.types import TypeEngine, UserDefinedType

from tenantrag.domain.errors import InvalidInput


class BinaryVector(bytes):
    """One vector already in pgvector's binary wire format, for COPY (see bulk.py)."""


class _BinaryVectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> Buffer:
        return bytes(obj)


def register_binary_vectors(connection: BaseConnection[Any]) -> None:
    """Teach ``connection`` to send BinaryVector as pgvector's ``vector`` (engine.py, on connect)."""
    adapters = connection.adapters
    oid = adapters.types.get_oid("vector")
    dumper = type("VectorBytesDumper", (_BinaryVectorDumper,), {"oid": oid})
    adapters.register_dumper(BinaryVector, dumper)


class VectorColumn(UserDefinedType[Any]):
    cache_ok = True

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension

    def get_col_spec(self, **_kw: Any) -> str:
        return f"vector({self.dimension})"


class PgVectors:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._type = VectorColumn(dimension)

    @property
    def column_type(self) -> TypeEngine[Any]:
        return self._type

    def encode(self, embedding: Sequence[float]) -> np.ndarray[Any, np.dtype[np.float32]]:
        values = np.asarray(embedding, dtype=np.float64)
        if values.shape != (self.dimension,):
            raise InvalidInput("embedding", f"must have {self.dimension} dimensions, got {values.size}")
        with np.errstate(over="ignore"):  # overflow gives infinity, refused just below
            stored = values.astype(np.float32)
        if not np.isfinite(stored).all():
            raise InvalidInput("embedding", "must hold only finite float32 values (no NaN or infinity)")
        return stored

    def binary_rows(self, embeddings: Sequence[Sequence[float]]) -> list[BinaryVector]:
        """Many embeddings in pgvector's binary format (a header, then big-endian float32s),
        converted as one matrix: per-row conversion costs more than the COPY itself."""
        matrix = np.asarray(embeddings, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.dimension:
            raise InvalidInput("embedding", f"every embedding must have {self.dimension} dimensions")
        with np.errstate(over="ignore"):
            stored = matrix.astype(">f4")
        if not np.isfinite(stored).all():
            raise InvalidInput("embedding", "must hold only finite float32 values (no NaN or infinity)")
        header = struct.pack(">HH", self.dimension, 0)
        return [BinaryVector(header + row.tobytes()) for row in stored]

    def decode(self, value: object) -> tuple[float, ...]:
        array = self.array(value)
        return tuple(array.tolist())

    def array(self, value: object) -> np.ndarray[Any, np.dtype[np.float32]]:
        if isinstance(value, Vector):
            array = value.to_numpy()
        elif isinstance(value, str):
            array = Vector.from_text(value).to_numpy()
        else:
            array = np.asarray(value, dtype=np.float32)
        if array.shape != (self.dimension,):
            raise InvalidInput(
                "dimension",
                f"the database holds {array.size}-dimensional embeddings, this store {self.dimension}",
            )
        return np.asarray(array, dtype=np.float32)
