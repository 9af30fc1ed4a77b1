"""The domain's ``cosine`` and ``norm``, bit for bit, at NumPy speed, for the SQL backends'
re-scoring.

``domain.search.cosine`` is ``fsum(x * y) / (sqrt(fsum(x * x)) * sqrt(fsum(y * y)))`` over
Python floats. NumPy's float64 products round exactly as Python's do (both are IEEE
multiplications), and ``math.fsum`` is exactly rounded whatever the order of its terms, so
handing NumPy's products to the same ``fsum`` gives the same sums, square roots and
quotient, while the Python-level loop over every component (once most of a small tenant's
search time) goes away. The query's norm is computed once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def exact_norm(row: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """The domain's ``norm``: the square root of the exactly rounded sum of squares."""
    return math.sqrt(math.fsum((row * row).tolist()))


def exact_cosines(
    embedding: Sequence[float],
    rows: np.ndarray[Any, Any] | Sequence[np.ndarray[Any, Any]],
    row_norms: Sequence[float | None] | None = None,
) -> list[float]:
    """``[cosine(embedding, row) for row in rows]`` of the domain, the same floats.

    ``rows`` are float32 or float64 (float32 widens exactly); ``row_norms`` may give rows'
    ``exact_norm`` already known (None where not).
    """
    vector = np.asarray(embedding, dtype=np.float64)
    matrix = np.asarray(rows, dtype=np.float64).reshape(-1, len(vector))
    vector_norm = exact_norm(vector)
    found = []
    for index, products in enumerate((matrix * vector).tolist()):
        known = row_norms[index] if row_norms is not None else None
        row_norm = exact_norm(matrix[index]) if known is None else known
        if vector_norm == 0.0 or row_norm == 0.0:
            found.append(0.0)
        else:
            found.append(math.fsum(products) / (vector_norm * row_norm))
    return found
