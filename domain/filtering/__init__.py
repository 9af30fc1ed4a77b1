"""The search filter language: its JSON form, the parsed tree, and its meaning in Python.

:meth:`Filter.matches` is the meaning; the SQL backends translate the same tree
(``adapters/sql/filters.py``) and the tests hold every backend to it. The modules:
``values`` (operators, limits, checks of operands), ``tree`` (the nodes, ``matches``,
``to_json``), ``parsing`` (``parse_filter``), ``facts`` (what a filter says before any row
is read) and ``legacy`` (the earlier filter form, translated at the edges).

A filter is a JSON object whose keys are ANDed (``{}`` matches everything). Its keys:

- ``"$and": [filter, ...]`` and ``"$or": [filter, ...]`` (1 to 100 filters), ``"$not": filter``;
- ``"metadata.<path>"``: the chunk's metadata (ingestion copies the document's onto it);
  ``<path>`` is dot-separated keys into nested objects (a key holding "." cannot be named);
- ``"document_id"``, ``"tags"``, ``"status"``, ``"created_at"``: the chunk's document.

A field maps to an object of operators (ANDed) or to a bare value (a shorthand):

- ``metadata.<path>``: ``$eq``/``$ne`` a scalar, ``$in``/``$nin`` a list of scalars,
  ``$lt``/``$lte``/``$gt``/``$gte`` a number or a string, ``$exists`` true or false; bare: ``$eq``.
- ``document_id``: ``$eq``/``$ne`` a UUID, ``$in``/``$nin`` a list of UUIDs; bare: ``$eq``.
- ``status``: ``$eq``/``$ne`` a status, ``$in``/``$nin`` a list of them; bare: ``$eq``.
- ``tags``: ``$any`` (some listed tag is on the document), ``$all`` (every one is); a bare
  string ``"t"`` means ``{"$all": ["t"]}``. A bare list is refused: any or all must be said.
- ``created_at``: ``$lt``/``$lte``/``$gt``/``$gte`` an ISO-8601 time with an offset (naive
  times are refused); no shorthand.

Meaning (the same on every backend):

- Scalars are strings, numbers, true, false and null; objects and arrays are never operands.
- Equality is JSON equality: booleans are not numbers (``true`` is not ``1``), ``1`` equals
  ``1.0``, strings are equal when their code points are, ``$eq: null`` matches a stored null
  only, and a stored array equals no scalar, not even one of its elements.
- A range operator matches stored values of its operand's kind only: numbers against a
  number, strings against a string, by Unicode code point. Nulls, booleans, arrays, objects
  and the other kind never match.
- A missing key (or a path through a non-object) makes ``$eq``, ``$in``, the ranges and
  ``$exists: true`` false, so ``$ne``, ``$nin`` and ``$exists: false`` (their negations) true.
- Numbers in a filter lie within +-2**53: there, Python's exact comparison, PostgreSQL's
  numeric and SQLite's integer/double comparisons agree on every stored number.

Limits bound a filter's cost: nesting at most 8 filters deep; at most 100 conditions (every
field operator and every ``$and``, ``$or``, ``$not`` counts one); lists of at most 1000
values; metadata paths of at most 256 characters; strings of at most 4096, valid Unicode
without NUL (PostgreSQL stores neither). ``InvalidInput.field`` is the path of the
offending part, e.g. ``filter.$and[2].metadata.year.$gt``.
"""

from tenantrag.domain.filtering.facts import never_matches, pinned_documents
from tenantrag.domain.filtering.legacy import LEGACY_KEYS, from_legacy, is_legacy
from tenantrag.domain.filtering.parsing import parse_filter
from tenantrag.domain.filtering.tree import And, DocumentCondition, Filter, MetadataCondition, Not, Or
from tenantrag.domain.filtering.values import (
    FIELD_OPS,
    LISTS,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_EXACT,
    MAX_LIST,
    MAX_PATH_LENGTH,
    MAX_STRING_LENGTH,
    POSITIVE,
    RANGES,
    Op,
    Scalar,
    kind,
)

__all__ = [
    "FIELD_OPS",
    "LEGACY_KEYS",
    "LISTS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_EXACT",
    "MAX_LIST",
    "MAX_PATH_LENGTH",
    "MAX_STRING_LENGTH",
    "POSITIVE",
    "RANGES",
    "And",
    "DocumentCondition",
    "Filter",
    "MetadataCondition",
    "Not",
    "Op",
    "Or",
    "Scalar",
    "from_legacy",
    "is_legacy",
    "kind",
    "never_matches",
    "parse_filter",
    "pinned_documents",
]
