"""Each tenant's embeddings as one in-memory float32 matrix, for vector search on SQLite.

Without it, every vector search reads all the tenant's embedding BLOBs out of SQLite
(165 ms for 24 000 chunks of 384 dimensions). With it, a search is one float32
matrix-vector product and ``argpartition`` over a matrix kept between searches, and
SQLite is asked only for the k winners' content (see cached_search.py).

**What is kept.** Per tenant: its rows divided by their norms (float32, zero rows stay
zero) and the chunk ids as SQLite stores them (32 hex digits, in id order):
``4 * dimension + 32`` bytes a chunk.

**Scores within tolerance.** A unit row rounded to float32 is within ``u = 2**-24`` of
the true one element by element, so its float64 product with the unit query is within
``u`` of the true cosine (``sum |x_i q_i| <= 1``): far inside the 1e-6 the backends agree
within. The float32 product over the whole matrix is off by up to ``delta = (dimension +
3) * u``, so it only picks the candidates (every row within ``margin()`` of the k-th best,
which holds the true top k), and the candidates are scored again in float64.

**Invalidation.** Other connections and other processes (the worker, the CLI) write the
same file. Revision ``e4a7c2d9f610`` adds ``chunk_generations (tenant_id, token,
chunk_count)``, kept by triggers on ``chunks``: every INSERT, DELETE (cascades included)
and UPDATE of ``tenant_id``, ``id`` or ``embedding`` stores 16 new random bytes as the
tenant's token, in the writing transaction. A search reads the token in its own
transaction (one primary-key lookup) and uses an entry only if it was loaded under that
very token; a load reads the token and the rows in one transaction, so an entry is exactly
the committed state its token names. Random bytes rather than a counter: a counter can
come back to an old value (a backup restored over the file, a tenant's row re-created, a
downgrade and upgrade) while a process still holds a matrix for it; 128 random bits never
repeat. A tenant without a row (it never had chunks since the migration) is searched
without the cache. ``PRAGMA data_version`` would not do: it changes with any commit to
any table (every search writes a query log), so the cache would never hit.

**Memory.** An LRU bounded by bytes (``max_bytes``, default 256 MiB; 0 turns the cache
off). A tenant larger than the whole budget is never loaded (its chunk count, kept by the
same triggers, says so first) and is searched by streaming, as without the cache.

The cache belongs to one factory (one database file) and is shared by its units of
work; a lock makes it safe across threads, though the backend uses it from one event loop.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, Uuid

from tenantrag.domain.errors import InvalidInput

MIB = 1024 * 1024
DEFAULT_VECTOR_CACHE_MB = 256
# Ids as SQLite stores them (SQLAlchemy's Uuid): 32 ASCII hex digits.
ID_DTYPE = np.dtype("S32")
_FLOAT32_EPSILON = 2.0**-24
# What an entry costs besides its arrays (the objects around them), roughly.
_ENTRY_OVERHEAD = 512

# The table of migration e4a7c2d9f610, on a MetaData of its own: it is SQLite's alone and
# not part of adapters/sql/schema.py (env.py leaves it out of comparisons).
_metadata = MetaData()
chunk_generations = Table(
    "chunk_generations",
    _metadata,
    Column("tenant_id", Uuid(), primary_key=True),
    Column("token", LargeBinary(), nullable=False),
    Column("chunk_count", Integer(), nullable=False),
)

Matrix = npt.NDArray[np.float32]


def cache_bytes(megabytes: object, *, field: str = "vector_cache_mb") -> int:
    """A budget in MiB (a non-negative number; 0 turns the cache off) as bytes."""
    if (
        isinstance(megabytes, bool)
        or not isinstance(megabytes, int | float)
        or not math.isfinite(megabytes)
        or megabytes < 0
    ):
        raise InvalidInput(
            field, f"must be a non-negative number of MiB (0 turns the vector cache off), got {megabytes!r}"
        )
    return int(megabytes * MIB)


def margin(dimension: int) -> float:
    """How far below the k-th best float32 score a chunk may be and still belong in the top k
    (twice ``delta`` of the module docstring, doubled again for safety)."""
    return 4.0 * (dimension + 3) * _FLOAT32_EPSILON


def unit_rows(rows: npt.NDArray[Any]) -> Matrix:
    """Rows divided by their norms (computed in float64), as float32; zero rows stay zero."""
    wide = rows.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
    norms[norms == 0.0] = 1.0
    return np.ascontiguousarray(wide / norms[:, None], dtype=np.float32)


@attrs.frozen(eq=False)
class TenantVectors:
    """One tenant's embeddings as of ``token``: ``unit[i]`` is chunk ``ids[i]``, ids ascending."""

    token: bytes
    ids: npt.NDArray[np.bytes_]
    unit: Matrix

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.unit.nbytes) + _ENTRY_OVERHEAD

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, stored_ids: list[str]) -> npt.NDArray[np.intp] | None:
        """Where chunks (ids as stored) are in the matrix; None if one is not there."""
        wanted = np.array(stored_ids, dtype=ID_DTYPE)
        if len(wanted) == 0:
            return np.empty(0, dtype=np.intp)
        if len(self.ids) == 0:
            return None
        found = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        return found if np.array_equal(self.ids[found], wanted) else None

    def candidates(
        self, query: npt.NDArray[np.float64], k: int, allowed: npt.NDArray[np.intp] | None = None
    ) -> npt.NDArray[np.intp]:
        """The rows (of ``allowed``, or all) that may be in the query's top k."""
        if allowed is not None:
            if len(allowed) <= k:
                return allowed
            rows = self.unit[allowed]
        else:
            if len(self) <= k:
                return np.arange(len(self))
            rows = self.unit
        direction = (query / math.sqrt(float(query @ query))).astype(np.float32)
        # einsum rather than ``@``: BLAS would hand a product this size to its threads, which
        # keep spinning after it and take the CPU from aiosqlite's thread and the event loop.
        scores = np.einsum("ij,j->i", rows, direction)
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        chosen = np.flatnonzero(scores >= kth - margin(self.unit.shape[1]))
        return chosen if allowed is None else allowed[chosen]

    def best(
        self, query: npt.NDArray[np.float64], k: int, allowed: npt.NDArray[np.intp] | None = None
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """The top k rows and their cosines (float64 on the unit rows), best first, ties by
        chunk id (rows are in id order, so by position)."""
        chosen = self.candidates(query, k, allowed)
        direction = query / math.sqrt(float(query @ query))
        scores = np.einsum("ij,j->i", self.unit[chosen].astype(np.float64), direction)
        order = np.lexsort((chosen, -scores))[:k]
        return chosen[order], scores[order]

    @classmethod
    def build(cls, token: bytes, stored_ids: list[str], unit: Matrix) -> TenantVectors:
        """An entry from ids as stored and their ``unit_rows``, in any order."""
        ids = np.array(stored_ids, dtype=ID_DTYPE)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            order = np.argsort(ids, kind="stable")
            ids, unit = ids[order], unit[order]
        return cls(token=token, ids=ids, unit=np.ascontiguousarray(unit, dtype=np.float32))


class VectorCache:
    """Tenants' ``TenantVectors``, least recently used first out, within ``max_bytes``."""

    def __init__(self, max_bytes: int = DEFAULT_VECTOR_CACHE_MB * MIB) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise InvalidInput("max_bytes", f"must be a non-negative number of bytes, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[uuid.UUID, TenantVectors] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @classmethod
    def of_megabytes(cls, megabytes: object, *, field: str = "vector_cache_mb") -> VectorCache:
        return cls(cache_bytes(megabytes, field=field))

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, tenant_id: object) -> bool:
        return tenant_id in self._entries

    def fits(self, rows: int, dimension: int) -> bool:
        """Whether a tenant of ``rows`` chunks can be cached at all."""
        per_row = 4 * dimension + ID_DTYPE.itemsize
        return self.enabled and rows * per_row + _ENTRY_OVERHEAD <= self.max_bytes

    def peek(self, tenant_id: uuid.UUID) -> TenantVectors | None:
        """The tenant's entry whatever its token (to be checked against the token before any
        answer is given from it), without counting a hit or a miss."""
        return self._entries.get(tenant_id)

    def get(self, tenant_id: uuid.UUID, token: bytes, *, keep_stale: bool = False) -> TenantVectors | None:
        """The tenant's entry if it was loaded under ``token``; another is dropped as stale,
        unless ``keep_stale`` (the token is a writing transaction's, not yet committed)."""
        with self._lock:
            entry = self._entries.get(tenant_id)
            if entry is not None and entry.token == token:
                self._entries.move_to_end(tenant_id)
                self.hits += 1
                return entry
            if entry is not None and not keep_stale:
                self._drop(tenant_id)
            self.misses += 1
            return None

    def put(self, tenant_id: uuid.UUID, entry: TenantVectors) -> bool:
        """Keep ``entry`` (evicting the least recently used ones); False if it cannot fit."""
        with self._lock:
            if tenant_id in self._entries:
                self._drop(tenant_id)
            if not self.enabled or entry.nbytes > self.max_bytes:
                return False
            while self._entries and self._bytes + entry.nbytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)
                self.evictions += 1
            self._entries[tenant_id] = entry
            self._bytes += entry.nbytes
            return True

    def discard(self, tenant_id: uuid.UUID) -> None:
        with self._lock:
            if tenant_id in self._entries:
                self._drop(tenant_id)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, tenant_id: uuid.UUID) -> None:
        self._bytes -= self._entries.pop(tenant_id).nbytes
