"""NumPy brute force over the same rows in memory: the yardstick for tenantrag on SQLite."""

from __future__ import annotations

import uuid

import numpy as np
import numpy.typing as npt

from bench.corpus import Corpus


class NumpyBruteForce:
    name = "numpy_brute_force"
    description = "NumPy float32 matrix per tenant in memory, exact cosine top-k (argpartition)"

    def __init__(self) -> None:
        self._by_tenant: dict[uuid.UUID, tuple[npt.NDArray[np.float32], list[uuid.UUID]]] = {}

    def prepare(self, corpus: Corpus) -> None:
        self._by_tenant.clear()

    def ingest(self, corpus: Corpus) -> None:
        for index, tenant in enumerate(corpus.tenants):
            rows = corpus.rows_of(index)
            self._by_tenant[tenant] = (
                np.ascontiguousarray(corpus.vectors[rows]),
                [corpus.ids[r] for r in rows],
            )

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        matrix, ids = self._by_tenant[tenant]
        # Unit vectors: cosine is the dot product.
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        if len(ids) > k:
            top = np.argpartition(-scores, k)[:k]
            order = top[np.argsort(-scores[top])]
        else:
            order = np.argsort(-scores)
        return [ids[i] for i in order]

    def close(self) -> None:
        self._by_tenant.clear()
