"""LlamaIndex's MetadataFilters in the filter language mean what LlamaIndex means by them:
each translation is held to LlamaIndex's own in-memory filter (``build_metadata_filter_fn``)
over sample metadata, missing keys and nulls included; what has no counterpart is refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import parse_filter
from tenantrag.integrations.llamaindex_filters import filters_to_json
from tests.contract.factories import make_chunk, make_document

SAMPLES: list[dict[str, Any]] = [
    {"animal": "cat", "year": 2021},
    {"animal": "dog", "year": 2019},
    {"animal": "bird", "year": 2023},
    {"animal": "", "year": 2020},
    {"animal": None, "year": 2022},
    {"year": 2021},
    {"animal": "cat"},
    {},
]

F = FilterOperator
CASES = [
    MetadataFilter(key="animal", value="cat"),
    MetadataFilter(key="animal", value="cat", operator=F.NE),
    MetadataFilter(key="year", value=2021, operator=F.GT),
    MetadataFilter(key="year", value=2021, operator=F.GTE),
    MetadataFilter(key="year", value=2021.5, operator=F.LT),
    MetadataFilter(key="year", value=2021, operator=F.LTE),
    MetadataFilter(key="animal", value=["cat", "dog"], operator=F.IN),
    MetadataFilter(key="animal", value=["cat", "dog"], operator=F.NIN),
    MetadataFilter(key="animal", value=None, operator=F.IS_EMPTY),
    ExactMatchFilter(key="year", value=2019),
]


def tenantrag_matches(filters: MetadataFilters, metadata: dict[str, Any]) -> bool:
    document = make_document(uuid.UUID(int=1))
    return parse_filter(filters_to_json(filters)).matches(
        make_chunk(document, 0, metadata=metadata), document
    )


def llamaindex_matches(filters: MetadataFilters, metadata: dict[str, Any]) -> bool:
    return build_metadata_filter_fn(lambda _: metadata, filters)("node")


@pytest.mark.parametrize("condition", [FilterCondition.AND, FilterCondition.OR, FilterCondition.NOT])
@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.key}-{getattr(case, 'operator', 'exact')}")
def test_a_translated_filter_means_what_llamaindex_means(
    case: MetadataFilter, condition: FilterCondition
) -> None:
    for second in (None, MetadataFilter(key="year", value=2020, operator=F.GTE)):
        filters = MetadataFilters(filters=[case] if second is None else [case, second], condition=condition)
        for metadata in SAMPLES:
            assert tenantrag_matches(filters, metadata) == llamaindex_matches(filters, metadata), (
                filters,
                metadata,
            )


def test_nested_filters_and_their_paths() -> None:
    nested = MetadataFilters(
        filters=[
            MetadataFilter(key="animal", value="cat"),
            MetadataFilters(
                filters=[MetadataFilter(key="year", value=2020, operator=F.LT)], condition=FilterCondition.NOT
            ),
        ]
    )
    assert filters_to_json(nested) == {
        "$and": [{"metadata.animal": {"$eq": "cat"}}, {"$not": {"$or": [{"metadata.year": {"$lt": 2020}}]}}]
    }
    assert filters_to_json(MetadataFilters(filters=[])) == {}


@pytest.mark.parametrize("operator", [F.ANY, F.ALL, F.CONTAINS, F.TEXT_MATCH, F.TEXT_MATCH_INSENSITIVE])
def test_operators_without_a_counterpart_are_refused_by_path(operator: FilterOperator) -> None:
    inner = MetadataFilters(filters=[MetadataFilter(key="tags", value=["a"], operator=operator)])
    with pytest.raises(InvalidInput, match="no counterpart") as refused:
        filters_to_json(MetadataFilters(filters=[MetadataFilter(key="year", value=1), inner]))
    assert refused.value.field == "filters[1][0].operator"
