"""A search result row (chunk columns, the document's version, a score) as a SearchHit.

Every SQL search selects the same columns under the same names, so one mapping serves
the vector, text and hybrid statements of both dialects.
"""

from __future__ import annotations

from sqlalchemy.engine import RowMapping

from tenantrag.domain.search import SearchHit


def hit_from_row(row: RowMapping, score: float | None = None) -> SearchHit:
    """``score`` when given (re-scored in Python), else the row's own ``score`` column."""
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
