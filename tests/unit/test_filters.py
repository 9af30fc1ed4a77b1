"""The filter language: parsing, errors that name the offending part, the JSON round trip,
and the meaning of ``matches`` (which every backend is held to)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_EXACT,
    MAX_LIST,
    MAX_PATH_LENGTH,
    MAX_STRING_LENGTH,
    And,
    DocumentCondition,
    MetadataCondition,
    Not,
    Op,
    Or,
    parse_filter,
)
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus
from tests.contract.factories import make_chunk, make_document
from tests.filter_strategies import chunk_metadata, document_specs, filters

TENANT = uuid.UUID(int=1)
DOC_ID = "12345678-1234-5678-1234-567812345678"


def row(
    metadata: dict[str, Any] | None = None,
    *,
    tags: tuple[str, ...] = (),
    status: DocumentStatus = DocumentStatus.PENDING,
    created_at: datetime = datetime(2025, 1, 1, 12, tzinfo=UTC),
) -> tuple[Chunk, Document]:
    document = make_document(TENANT, tags=tags, status=status, created_at=created_at)
    return make_chunk(document, 0, metadata=metadata), document


def matches(filter_json: dict[str, Any], metadata: dict[str, Any] | None = None, **fields: Any) -> bool:
    return parse_filter(filter_json).matches(*row(metadata, **fields))


# --- parsing ----------------------------------------------------------------------------------


def test_keys_are_anded_and_several_operators_on_one_field_too() -> None:
    parsed = parse_filter({"metadata.year": {"$gte": 1, "$lt": 5}, "tags": "red"})
    assert parsed == And(
        (
            MetadataCondition(("year",), Op.GTE, 1),
            MetadataCondition(("year",), Op.LT, 5),
            DocumentCondition("tags", Op.ALL, ("red",)),
        )
    )


def test_a_single_condition_is_not_wrapped_and_the_empty_filter_is_an_empty_and() -> None:
    assert parse_filter({"metadata.a.b": None}) == MetadataCondition(("a", "b"), Op.EQ, None)
    assert parse_filter({}) == And(())
    assert parse_filter({}).to_json() == {}


def test_logical_operators_build_their_nodes() -> None:
    parsed = parse_filter({"$or": [{"status": "failed"}, {"$not": {"metadata.x": {"$exists": True}}}]})
    assert parsed == Or(
        (
            DocumentCondition("status", Op.EQ, (DocumentStatus.FAILED,)),
            Not(MetadataCondition(("x",), Op.EXISTS, True)),
        )
    )


def test_values_are_normalised() -> None:
    parsed = parse_filter(
        {
            "document_id": {"$in": [DOC_ID.replace("-", "").upper()]},
            "tags": {"$any": [" red ", "blue", "red"]},
            "status": {"$nin": ["failed", "pending", "failed"]},
            "created_at": {"$gt": "2025-01-01T13:00:00+01:00"},
        }
    )
    assert parsed.to_json() == {
        "$and": [
            {"document_id": {"$in": [DOC_ID]}},
            {"tags": {"$any": ["blue", "red"]}},
            {"status": {"$nin": ["failed", "pending"]}},
            {"created_at": {"$gt": "2025-01-01T12:00:00+00:00"}},
        ]
    }


# --- errors name the offending part -----------------------------------------------------------

ERRORS = [
    ({"$and": [{}, {}, {"metadata.year": {"$gt": {}}}]}, "filter.$and[2].metadata.year.$gt", "got object"),
    ({"metadata.year": {"$gt": True}}, "filter.metadata.year.$gt", "must be a number or a string"),
    ({"metadata.year": {"$gte": None}}, "filter.metadata.year.$gte", "got null"),
    ({"metadata.a": {"$eq": [1]}}, "filter.metadata.a.$eq", "got array"),
    ({"metadata.a": [1]}, "filter.metadata.a", "got array"),
    ({"metadata.a": {"$in": [1, {"x": 1}]}}, "filter.metadata.a.$in[1]", "got object"),
    ({"metadata.a": {"$in": 1}}, "filter.metadata.a.$in", "must be a list"),
    ({"metadata.a": {"$exists": 1}}, "filter.metadata.a.$exists", "true or false"),
    ({"metadata.a": {"$any": ["x"]}}, "filter.metadata.a.$any", "allowed: $eq, $ne, $in, $nin"),
    ({"metadata.a": {"b": 1}}, "filter.metadata.a.b", '"metadata.a.b"'),
    ({"metadata.a": {}}, "filter.metadata.a", "at least one operator"),
    ({"metadata.a..b": 1}, "filter.metadata.a..b", "non-empty keys"),
    ({"metadata.": 1}, "filter.metadata.", "non-empty keys"),
    ({"metadata": 1}, "filter.metadata", "allowed: metadata.<path>, document_id"),
    ({"title": "x"}, "filter.title", "unknown field; allowed: metadata.<path>"),
    ({"$nor": []}, "filter.$nor", "allowed here: $and, $or, $not"),
    ({"$and": []}, "filter.$and", "non-empty list"),
    ({"$or": {}}, "filter.$or", "must be a list"),
    ({"$not": [{}]}, "filter.$not", "must be a filter object"),
    ({"$or": [{"x": 1}]}, "filter.$or[0].x", "unknown field"),
    ({"document_id": "nope"}, "filter.document_id", "must be a UUID"),
    ({"document_id": {"$in": [DOC_ID, 7]}}, "filter.document_id.$in[1]", "must be a UUID"),
    ({"document_id": {"$gt": DOC_ID}}, "filter.document_id.$gt", "allowed: $eq, $ne, $in, $nin"),
    ({"status": "done"}, "filter.status", "must be one of pending, processing, completed, failed"),
    ({"status": {"$in": ["pending", 1]}}, "filter.status.$in[1]", "must be one of"),
    ({"tags": ["red"]}, "filter.tags", "$any, $all"),
    ({"tags": {"$any": ["red", " "]}}, "filter.tags.$any[1]", "must not be empty"),
    ({"tags": {"$all": "red"}}, "filter.tags.$all", "must be a list"),
    ({"created_at": "2025-01-01T00:00:00Z"}, "filter.created_at", "object of operators ($lt, $lte"),
    ({"created_at": {"$lt": "2025-01-01T00:00:00"}}, "filter.created_at.$lt", "time zone"),
    ({"created_at": {"$lt": "yesterday"}}, "filter.created_at.$lt", "ISO-8601"),
    ({"created_at": {"$lt": 1735689600}}, "filter.created_at.$lt", "ISO-8601"),
    ({"created_at": {"$eq": "2025-01-01T00:00:00Z"}}, "filter.created_at.$eq", "allowed: $lt"),
    ({"metadata.a": MAX_EXACT + 1}, "filter.metadata.a", "within +-2**53"),
    ({"metadata.a": {"$lt": float(MAX_EXACT) * 2}}, "filter.metadata.a.$lt", "within +-2**53"),
    ({"metadata.a": float("inf")}, "filter.metadata.a", "finite"),
    ({"metadata.a": "\x00"}, "filter.metadata.a", "NUL"),
    ({"metadata.a": "\ud800"}, "filter.metadata.a", "lone surrogate"),
    ({"metadata.\ud800": 1}, "filter.metadata.\ud800", "lone surrogate"),
    ({"metadata.a": "x" * (MAX_STRING_LENGTH + 1)}, "filter.metadata.a", "at most 4096 characters"),
    ({"metadata.a": b"bytes"}, "filter.metadata.a", "got other"),
]


@pytest.mark.parametrize(("filter_json", "field", "problem"), ERRORS)
def test_errors_name_the_offending_part(filter_json: dict[str, Any], field: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(filter_json)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_a_filter_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter([{"metadata.a": 1}])  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.problem) == ("filter", "must be a filter object, got array")


def nested(depth: int) -> dict[str, Any]:
    filter_json: dict[str, Any] = {"metadata.a": {"$eq": 1}}
    for _ in range(depth - 1):
        filter_json = {"$not": filter_json}
    return filter_json


def test_nesting_is_limited() -> None:
    assert parse_filter(nested(MAX_DEPTH)).to_json() == nested(MAX_DEPTH)
    with pytest.raises(InvalidInput) as caught:
        parse_filter(nested(MAX_DEPTH + 1))
    assert caught.value.field == "filter" + ".$not" * MAX_DEPTH
    assert "nested at most 8 deep" in caught.value.problem


def test_conditions_are_counted_and_limited() -> None:
    flat = {f"metadata.k{i}": i for i in range(MAX_CONDITIONS)}
    assert len(parse_filter(flat).to_json()["$and"]) == MAX_CONDITIONS
    with pytest.raises(InvalidInput) as caught:
        parse_filter({**flat, "tags": "red"})
    assert caught.value.field == "filter.tags"
    assert "at most 100 conditions" in caught.value.problem
    # Logical operators count too: 50 $not around 50 conditions is 100, one more is too many.
    with pytest.raises(InvalidInput) as caught:
        parse_filter({"$and": [{"$not": {"metadata.a": i}} for i in range(50)]})
    assert caught.value.field.endswith(".metadata.a")


def test_lists_and_paths_are_limited() -> None:
    assert parse_filter({"metadata.a": {"$in": list(range(MAX_LIST))}})
    with pytest.raises(InvalidInput) as caught:
        parse_filter({"metadata.a": {"$in": list(range(MAX_LIST + 1))}})
    assert (caught.value.field, caught.value.problem) == (
        "filter.metadata.a.$in",
        "must hold at most 1000 items (got 1001)",
    )
    path = ".".join(["k" * 15] * 16)
    assert len(path) == MAX_PATH_LENGTH - 1
    assert parse_filter({f"metadata.{path}": 1})
    with pytest.raises(InvalidInput, match="at most 256 characters"):
        parse_filter({f"metadata.{path}xx": 1})


def test_nodes_built_in_python_are_checked_as_parsed_ones_are() -> None:
    with pytest.raises(InvalidInput, match="must be a number or a string"):
        MetadataCondition(("a",), Op.GT, True)
    with pytest.raises(InvalidInput, match=r"none holding '\.'"):
        MetadataCondition(("a.b",), Op.EQ, 1)
    with pytest.raises(InvalidInput, match=r"none holding '\.'"):
        MetadataCondition((), Op.EQ, 1)
    with pytest.raises(InvalidInput, match="unknown operator for tags"):
        DocumentCondition("tags", Op.EQ, ("red",))
    with pytest.raises(InvalidInput, match="as parse_filter gives them"):
        DocumentCondition("tags", Op.ANY, ("red", "blue"))  # not sorted
    with pytest.raises(InvalidInput, match="as parse_filter gives them"):
        DocumentCondition("status", Op.EQ, (DocumentStatus.FAILED, DocumentStatus.PENDING))
    with pytest.raises(InvalidInput, match="unknown field"):
        DocumentCondition("title", Op.EQ, ("x",))
    assert MetadataCondition(["a"], "$in", [1, "x"]) == MetadataCondition(("a",), Op.IN, (1, "x"))


# --- the JSON form round-trips ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(filter_json=filters())
def test_to_json_parses_back_to_the_same_filter(filter_json: dict[str, Any]) -> None:
    parsed = parse_filter(filter_json)
    again = parse_filter(json.loads(json.dumps(parsed.to_json())))
    assert again == parsed
    assert json.dumps(again.to_json()) == json.dumps(parsed.to_json())


# --- what matches ------------------------------------------------------------------------------

STORED = {
    "int": 1,
    "float": 1.0,
    "half": 1.5,
    "zero": -0.0,
    "true": True,
    "false": False,
    "null": None,
    "text": "b",
    "upper": "B",
    "accent": "é",
    "emoji": "😀",
    "empty": "",
    "array": [1, "b", True, None],
    "object": {"k": 1, "deep": {"x": "y"}, "ключ": "v", "list": [{"k": 1}]},
    "big": MAX_EXACT,
}

SEMANTICS = [
    # JSON equality: kinds first, then values.
    ({"metadata.int": 1}, True),
    ({"metadata.int": 1.0}, True),
    ({"metadata.float": 1}, True),
    ({"metadata.int": True}, False),
    ({"metadata.true": 1}, False),
    ({"metadata.true": True}, True),
    ({"metadata.false": 0}, False),
    ({"metadata.zero": 0}, True),
    ({"metadata.text": "b"}, True),
    ({"metadata.text": "B"}, False),
    ({"metadata.accent": "e\u0301"}, False),
    ({"metadata.int": "1"}, False),
    ({"metadata.big": float(MAX_EXACT)}, True),
    ({"metadata.big": MAX_EXACT - 1}, False),
    # null is a value; a missing key is not.
    ({"metadata.null": None}, True),
    ({"metadata.missing": None}, False),
    ({"metadata.null": {"$exists": True}}, True),
    ({"metadata.missing": {"$exists": False}}, True),
    ({"metadata.missing": {"$ne": None}}, True),
    ({"metadata.null": {"$ne": None}}, False),
    # Arrays and objects equal no scalar, not even an element.
    ({"metadata.array": 1}, False),
    ({"metadata.array": {"$in": [1, "b", True, None]}}, False),
    ({"metadata.array": {"$ne": 1}}, True),
    ({"metadata.array": {"$exists": True}}, True),
    ({"metadata.object.k": 1}, True),
    ({"metadata.object.deep.x": "y"}, True),
    ({"metadata.object.ключ": "v"}, True),
    ({"metadata.object.list.k": 1}, False),
    ({"metadata.array.0": 1}, False),
    ({"metadata.text.x": {"$exists": False}}, True),
    # $in and $nin.
    ({"metadata.int": {"$in": ["1", True, 1.0]}}, True),
    ({"metadata.int": {"$in": []}}, False),
    ({"metadata.int": {"$nin": []}}, True),
    ({"metadata.missing": {"$nin": [1]}}, True),
    ({"metadata.null": {"$in": [None]}}, True),
    ({"metadata.true": {"$nin": [1, 0]}}, True),
    # Ranges: same kind only; strings by code point.
    ({"metadata.int": {"$gt": 0.5, "$lte": 1}}, True),
    ({"metadata.half": {"$gt": 1, "$lt": 2}}, True),
    ({"metadata.zero": {"$gte": 0, "$lte": 0}}, True),
    ({"metadata.true": {"$gte": 0}}, False),
    ({"metadata.null": {"$lt": 1}}, False),
    ({"metadata.missing": {"$lt": 1}}, False),
    ({"metadata.array": {"$gte": 0}}, False),
    ({"metadata.object": {"$gte": ""}}, False),
    ({"metadata.int": {"$lt": "2"}}, False),
    ({"metadata.text": {"$gt": 0}}, False),
    ({"metadata.upper": {"$lt": "a"}}, True),
    ({"metadata.text": {"$lt": "é"}}, True),
    ({"metadata.accent": {"$lt": "😀"}}, True),
    ({"metadata.empty": {"$lt": "a", "$gte": ""}}, True),
    # Negations are complements, missing keys included.
    ({"$not": {"metadata.missing": {"$lt": 1}}}, True),
    ({"$not": {"metadata.int": 1}}, False),
    ({"metadata.int": {"$ne": 1.0}}, False),
    ({"$or": [{"metadata.missing": 1}, {"metadata.text": "b"}]}, True),
    ({"$and": [{"metadata.int": 1}, {"metadata.text": "c"}]}, False),
]


@pytest.mark.parametrize(("filter_json", "expected"), SEMANTICS)
def test_metadata_semantics(filter_json: dict[str, Any], expected: bool) -> None:
    assert matches(filter_json, STORED) is expected


def test_document_fields() -> None:
    fields: dict[str, Any] = {
        "tags": ("blue", "red"),
        "status": DocumentStatus.COMPLETED,
        "created_at": datetime(2025, 1, 1, 12, tzinfo=UTC),
    }
    assert matches({"tags": "red"}, **fields)
    assert not matches({"tags": "green"}, **fields)
    assert matches({"tags": {"$any": ["green", "red"]}}, **fields)
    assert not matches({"tags": {"$all": ["green", "red"]}}, **fields)
    assert matches({"tags": {"$all": []}}, **fields)
    assert not matches({"tags": {"$any": []}}, **fields)
    assert matches({"status": "completed"}, **fields)
    assert matches({"status": {"$nin": ["failed", "pending"]}}, **fields)
    assert not matches({"status": {"$ne": "completed"}}, **fields)
    assert matches(
        {"created_at": {"$gte": "2025-01-01T13:00:00+01:00", "$lte": "2025-01-01T12:00:00Z"}}, **fields
    )
    assert not matches({"created_at": {"$gt": "2025-01-01T07:00:00-05:00"}}, **fields)
    assert matches({"created_at": {"$lt": "2025-01-01T12:00:00.000001+00:00"}}, **fields)
    chunk, document = row(**fields)
    assert parse_filter({"document_id": str(document.id)}).matches(chunk, document)
    assert parse_filter({"document_id": {"$in": [str(uuid.uuid4()), str(document.id)]}}).matches(
        chunk, document
    )
    assert not parse_filter({"document_id": {"$ne": str(document.id)}}).matches(chunk, document)
    assert parse_filter({"document_id": {"$nin": [str(uuid.uuid4())]}}).matches(chunk, document)


@settings(max_examples=200, deadline=None)
@given(filter_json=filters(depth=2), spec=document_specs(), metadata=chunk_metadata())
def test_not_ne_and_nin_are_complements(
    filter_json: dict[str, Any], spec: Any, metadata: dict[str, Any]
) -> None:
    document = attrs.evolve(
        make_document(TENANT, tags=spec.tags, status=DocumentStatus(spec.status), created_at=spec.created_at),
        id=spec.id,
    )
    chunk = make_chunk(document, 0, metadata=metadata)
    parsed = parse_filter(filter_json)
    assert parse_filter({"$not": filter_json}).matches(chunk, document) is not parsed.matches(chunk, document)
    for node in _leaves(parsed):
        if isinstance(node, MetadataCondition) and node.op in (Op.EQ, Op.IN, Op.EXISTS):
            flipped = {Op.EQ: Op.NE, Op.IN: Op.NIN, Op.EXISTS: Op.EXISTS}[node.op]
            value = (not node.value) if node.op is Op.EXISTS else node.value
            negative = MetadataCondition(node.path, flipped, value)
            assert negative.matches(chunk, document) is not node.matches(chunk, document)


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, And | Or):
        return [leaf for child in node.filters for leaf in _leaves(child)]
    return _leaves(node.filter) if isinstance(node, Not) else [node]


def test_times_between_microseconds_are_kept() -> None:
    created = datetime(2025, 1, 1, 12, tzinfo=UTC)
    later = (created + timedelta(microseconds=1)).isoformat()
    assert matches({"created_at": {"$lt": later}}, created_at=created)
    assert not matches({"created_at": {"$gte": later}}, created_at=created)
