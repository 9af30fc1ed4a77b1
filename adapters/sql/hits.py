"""A search result row (chunk columns, the document's version, a score) as a SearchHit, and
the cosine both SQL backends score vector hits with.

Every SQL search selects the same columns under the same names, so one mapping serves
the vector, text and hybrid statements of both dialects.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import RowMapping

from tenantrag.domain.search import SearchHit


def hit_from_row(row: RowMapping, score: float | None = None) -> SearchHit:
    """``score`` when given (scored in Python), else the row's own ``score`` column."""
    return SearchHit(
        chunk_id=row["id"],
        document_id=row["document_id"],
        document_version=row["version"],
        ordinal=row["ordinal"],
        content=row["content"],
        metadata=row["metadata"],
        score=float(row["score"]) if score is None else score,
        vector_rank=row.get("vector_rank"),
        text_rank=row.get("text_rank"),
    )


def cosines(rows: npt.NDArray[np.float32], query: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Cosine of each stored (float32) row with ``query``, in float64: within 1e-6 of the
    exact value by far, which is all the backends promise. A zero row scores 0 (it has no
    angle), as a zero vector is refused as a query."""
    wide = rows.astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
    # einsum rather than ``@``: BLAS threads would take the CPU from the event loop.
    dots = np.einsum("ij,j->i", wide, query)
    scores = np.zeros(len(rows), dtype=np.float64)
    nonzero = norms > 0.0
    scores[nonzero] = dots[nonzero] / (norms[nonzero] * np.sqrt(query @ query))
    return scores
