"""Hypothesis strategies for the filter language, and a fixed corpus to run filters over.

A small vocabulary of keys and values, chosen so that random filters often meet the
cases where backends could differ: booleans next to 0 and 1, 1 next to 1.0 and -0.0,
null next to missing keys, arrays holding a compared value, nested objects, paths
through arrays and strings, non-ASCII and quote-holding keys, strings whose code-point
order differs from a locale's (``"B" < "a"``, ``"z" < "é"``) or from UTF-16's (U+FF5A before
U+1F600), and numbers at and beyond +-2**53.

- :func:`filters` gives valid filters in their JSON form (what the API accepts);
- :func:`chunk_metadata` and :func:`document_specs` give rows to run them over;
- :data:`CORPUS` is a fixed, varied set of documents with chunks, for suites that store
  rows once and run many filters over them (``tests/sql/test_filter_compilation.py``).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import strategies as st

from tenantrag.domain.filtering import MAX_EXACT

SCALARS: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    -0.0,
    0.5,
    1.5,
    0.1,
    MAX_EXACT,
    -MAX_EXACT,
    float(MAX_EXACT),
    1e-300,
    "",
    "a",
    "B",
    "b",
    "é",
    "e\u0301",
    "z",
    "\uff5a",
    "1",
    "true",
    "null",
    "😀",
    'qu"ote',
)
RANGE_OPERANDS: tuple[Any, ...] = tuple(x for x in SCALARS if x is not None and not isinstance(x, bool))
# "we\"ird", "back\\slash", "ключ" and "tab\t" need SQLite's json_each route; "list.0" and
# "title.x" go through an array and a string; "absent" is never stored.
TOP_KEYS = ("year", "title", "flag", "score", "list", "nested", "ключ", 'we"ird', "back\\slash", "tab\t")
PATHS = (
    *TOP_KEYS,
    "absent",
    "nested.k",
    "nested.deep.x",
    "nested.ключ",
    "nested.list",
    "list.0",
    "title.x",
)
TAGS = ("red", "green", "blue", "Blau", "ünï")
STATUSES = ("pending", "processing", "completed", "failed")
BASE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
TIMES = tuple(BASE_TIME + timedelta(hours=h, microseconds=u) for h in (-2, 0, 3) for u in (0, 1))
# Filter times: the stored instants written in other offsets, and instants between them.
TIME_OPERANDS = tuple(
    t.astimezone(timezone(timedelta(hours=h))).isoformat().replace("+00:00", z)
    for t in (*TIMES, BASE_TIME + timedelta(hours=1))
    for h, z in ((0, "Z"), (5, ""), (-3, ""))
)


def document_id(index: int) -> uuid.UUID:
    return uuid.UUID(int=0xF117E2 << 96 | index)


scalars = st.sampled_from(SCALARS)


def metadata_values(max_depth: int = 2) -> st.SearchStrategy[Any]:
    """Stored metadata values: scalars, arrays of them, objects of the vocabulary's keys."""
    if max_depth == 0:
        return scalars
    inner = metadata_values(max_depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(("k", "x", "deep", "ключ", "list")), inner, max_size=3),
    )


def chunk_metadata() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(TOP_KEYS), metadata_values(), max_size=5)


@attrs.frozen
class DocumentSpec:
    """A document's fields that filters read, and the metadata of each of its chunks."""

    id: uuid.UUID
    tags: tuple[str, ...]
    status: str
    created_at: datetime
    chunks: tuple[dict[str, Any], ...]


def document_specs(index: int = 0) -> st.SearchStrategy[DocumentSpec]:
    return st.builds(
        DocumentSpec,
        id=st.just(document_id(index)),
        tags=st.lists(st.sampled_from(TAGS), unique=True, max_size=3).map(tuple),
        status=st.sampled_from(STATUSES),
        created_at=st.sampled_from(TIMES),
        chunks=st.lists(chunk_metadata(), min_size=1, max_size=4).map(tuple),
    )


def _corpus(size: int, seed: int) -> tuple[DocumentSpec, ...]:
    """Documents drawn from the vocabulary with a seeded ``random``, plus hand-picked chunks."""
    rng = random.Random(seed)

    def value(depth: int) -> Any:
        roll = rng.random()
        if depth == 0 or roll < 0.75:
            return rng.choice(SCALARS)
        if roll < 0.8:
            return [value(depth - 1) for _ in range(rng.randint(0, 3))]
        return {
            k: value(depth - 1) for k in rng.sample(("k", "x", "deep", "ключ", "list"), rng.randint(0, 3))
        }

    specials: list[dict[str, Any]] = [
        {},
        {"year": None, "flag": True, "score": 1, "list": ["a", 1, True, None]},
        {"year": 1.0, "flag": 1, "score": True, "title": "B", "nested": {"k": "a", "deep": {"x": 1}}},
        {"year": [1], "flag": 0, "score": False, "title": "é", "nested": {"k": None, "list": [1, 2]}},
        {"year": {"x": 1}, "list": [], "nested": {"deep": {"x": "z"}, "ключ": -0.0}, "title": "e\u0301"},
        {"ключ": "ключ", 'we"ird': 1, "back\\slash": "a", "tab\t": None, "nested": []},
        {"year": MAX_EXACT, "score": -MAX_EXACT, "title": "😀", "list": [[1]], "nested": "k"},
        {"year": 0.1, "score": 1e-300, "title": 'qu"ote', "flag": "true", "list": {"0": 1}},
        # Beyond +-2**53 stored numbers may be anything; filters' numbers may not.
        {"year": 2**70, "score": -(10**30), "nested": {"k": 1e300}, "title": "\uff5a"},
        {"year": 2**63, "score": MAX_EXACT + 1, "nested": {"k": -1e300}, "title": "\U0001f600z"},
    ]
    documents = []
    for index in range(size):
        tags = tuple(rng.sample(TAGS, rng.randint(0, 3)))
        chunks = [{k: value(2) for k in rng.sample(TOP_KEYS, rng.randint(0, 5))} for _ in range(4)]
        chunks += specials[index::size]
        status, created_at = rng.choice(STATUSES), rng.choice(TIMES)
        documents.append(DocumentSpec(document_id(index), tags, status, created_at, tuple(chunks)))
    return tuple(documents)


CORPUS = _corpus(size=10, seed=20250101)
CORPUS_IDS = tuple(str(spec.id) for spec in CORPUS)


# --- filters, in their JSON form ----------------------------------------------------------

_ids_pool = st.sampled_from((*CORPUS_IDS[:4], str(document_id(999))))


def _metadata_operators() -> st.SearchStrategy[Any]:
    operator = st.one_of(
        st.tuples(st.sampled_from(("$eq", "$ne")), scalars),
        st.tuples(st.sampled_from(("$in", "$nin")), st.lists(scalars, max_size=10)),
        st.tuples(st.sampled_from(("$lt", "$lte", "$gt", "$gte")), st.sampled_from(RANGE_OPERANDS)),
        st.tuples(st.just("$exists"), st.booleans()),
    )
    objects = st.lists(operator, min_size=1, max_size=2, unique_by=lambda pair: pair[0]).map(dict)
    return st.one_of(scalars, objects)


def _document_conditions() -> st.SearchStrategy[dict[str, Any]]:
    ids = st.one_of(
        _ids_pool,
        st.dictionaries(st.sampled_from(("$eq", "$ne")), _ids_pool, min_size=1),
        st.dictionaries(st.sampled_from(("$in", "$nin")), st.lists(_ids_pool, max_size=3), min_size=1),
    )
    statuses = st.one_of(
        st.sampled_from(STATUSES),
        st.dictionaries(st.sampled_from(("$eq", "$ne")), st.sampled_from(STATUSES), min_size=1),
        st.dictionaries(st.sampled_from(("$in", "$nin")), st.lists(st.sampled_from(STATUSES)), min_size=1),
    )
    tags = st.one_of(
        st.sampled_from(TAGS),
        st.dictionaries(
            st.sampled_from(("$any", "$all")), st.lists(st.sampled_from(TAGS), max_size=3), min_size=1
        ),
    )
    times = st.dictionaries(
        st.sampled_from(("$lt", "$lte", "$gt", "$gte")),
        st.sampled_from(TIME_OPERANDS),
        min_size=1,
        max_size=2,
    )
    return st.one_of(
        ids.map(lambda x: {"document_id": x}),
        statuses.map(lambda x: {"status": x}),
        tags.map(lambda x: {"tags": x}),
        times.map(lambda x: {"created_at": x}),
    )


def leaf_filters() -> st.SearchStrategy[dict[str, Any]]:
    """A filter object of one field (metadata most often)."""
    metadata = st.tuples(st.sampled_from(PATHS), _metadata_operators()).map(
        lambda pair: {f"metadata.{pair[0]}": pair[1]}
    )
    return st.one_of(metadata, metadata, _document_conditions())


def filters(depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """Valid filters, nested at most ``depth`` logical levels (so within every limit)."""
    leaf = leaf_filters()
    if depth == 0:
        return st.one_of(st.just({}), leaf)
    sub = filters(depth - 1)
    return st.one_of(
        leaf,
        st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"$and": xs}),
        st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"$or": xs}),
        sub.map(lambda x: {"$not": x}),
        st.tuples(leaf, sub).map(_merged),
    )


def _merged(pair: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """Two filters in one object (its keys are ANDed), or in $and where their keys clash."""
    first, second = pair
    return {**first, **second} if not first.keys() & second.keys() else {"$and": [first, second]}
