"""EvaluationRun: one measurement of a tenant's retrieval quality against a test collection.

A run is stored whole once every query has been searched in every requested mode (nothing
is stored for a run that failed). It keeps:

- ``parameters``: what was measured and how (modes, k, grouping, how qrels ids were matched (``matched_by``),
  the embedder's name and dimension, the files' names, formats and SHA-256 digests, the
  query counts and any warnings);
- ``metrics``: per mode, the mean nDCG@10, Recall@100 and MRR@10 over the queries with at
  least one relevant judgement, and how many there were (``queries``);
- ``per_query``: per mode, per query id, the three metrics (see ``domain/evaluation.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v

# A run's per-query metrics are one JSON value: 10 000 queries in three modes take about 2 MB.
MAX_PER_QUERY_BYTES = 8 * 1024 * 1024


def _per_query(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.json_object(attribute.name, value, max_bytes=MAX_PER_QUERY_BYTES)


@attrs.frozen(kw_only=True)
class EvaluationRun:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    user_id: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    parameters: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    metrics: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    per_query: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=_per_query, hash=False
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())

    @property
    def modes(self) -> tuple[str, ...]:
        """The modes measured, in the order they were requested (JSON objects are stored
        with sorted keys, so the order is ``parameters["modes"]``)."""
        listed = self.parameters.get("modes")
        return tuple(listed) if isinstance(listed, list) else tuple(self.metrics)
