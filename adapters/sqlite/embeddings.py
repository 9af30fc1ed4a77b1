"""Embeddings as little-endian float32 BLOBs of exactly ``4 * dimension`` bytes.

The domain already rounds every embedding to float32, so nothing changes on the
way in or out. The codec binds raw bytes (the schema's ``Embedding`` type has
its dimension fixed at ``schema.DEFAULT_DIMENSION``, and this store's may differ)
and refuses a wrong length or a non-finite value before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeEngine

from tenantrag.domain.errors import InvalidInput

FLOAT32 = np.dtype("<f4")


class Float32Blobs:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._type = LargeBinary()

    @property
    def column_type(self) -> TypeEngine[Any]:
        return self._type

    def encode(self, embedding: Sequence[float]) -> bytes:
        values = np.asarray(embedding, dtype=np.float64)
        if values.shape != (self.dimension,):
            raise InvalidInput("embedding", f"must have {self.dimension} dimensions, got {values.size}")
        with np.errstate(over="ignore"):  # overflow gives infinity, refused just below
            stored = values.astype(FLOAT32)
        if not np.isfinite(stored).all():
            raise InvalidInput("embedding", "must hold only finite float32 values (no NaN or infinity)")
        return stored.tobytes()

    def decode(self, value: object) -> tuple[float, ...]:
        return tuple(self.matrix([value]).ravel().tolist())

    def matrix(self, blobs: Sequence[object]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Many stored embeddings as one (n, dimension) float32 array, without a copy per row."""
        joined = b"".join(cast("Sequence[bytes]", blobs))
        if len(joined) != len(blobs) * self.dimension * FLOAT32.itemsize:
            raise InvalidInput(
                "dimension",
                f"the database holds embeddings that are not {self.dimension}-dimensional;"
                " it was written with another embedding dimension",
            )
        return np.frombuffer(joined, dtype=FLOAT32).reshape(len(blobs), self.dimension)
