"""The vector distances pgvector offers, and what each means for the index and the score.

The HNSW index is built for one distance (its operator class), and only an ORDER BY
on that distance's operator can use it; so the distance is a deployment setting,
fixed when the migrations create the index. Scores are "higher is better" for every
distance: cosine similarity for cosine (what the domain's reference search returns),
the inner product for inner product, and the negated Euclidean distance for L2.
"""

from __future__ import annotations

import enum

from tenantrag.domain.errors import InvalidInput


class Distance(enum.Enum):
    COSINE = "cosine"
    L2 = "l2"
    INNER_PRODUCT = "inner_product"

    @classmethod
    def parse(cls, value: object) -> Distance:
        if isinstance(value, Distance):
            return value
        try:
            return cls(str(value).strip().lower().replace("-", "_"))
        except ValueError:
            allowed = ", ".join(d.value for d in cls)
            raise InvalidInput("distance", f"must be one of {allowed}, got {value!r}") from None

    @property
    def operator(self) -> str:
        return {Distance.COSINE: "<=>", Distance.L2: "<->", Distance.INNER_PRODUCT: "<#>"}[self]

    @property
    def operator_class(self) -> str:
        return {
            Distance.COSINE: "vector_cosine_ops",
            Distance.L2: "vector_l2_ops",
            Distance.INNER_PRODUCT: "vector_ip_ops",
        }[self]

    def score(self, distance: float) -> float:
        """The score of a row at ``distance`` (as pgvector's operator returns it)."""
        if self is Distance.COSINE:
            return 1.0 - distance
        return -distance  # <#> is the negated inner product; <-> a distance
