"""Search queries (vector, full-text, hybrid), filters, hits, and their fusion.

Three modes, one hit type:

- **vector** (:class:`VectorQuery`): top-k by cosine similarity. Backends agree within
  tolerance, not bit for bit: scores within 1e-6 of the exact cosine, rankings the same
  except between near-ties (PostgreSQL's HNSW plan for large tenants aside); the contract
  suite holds them to an exact NumPy cosine.
- **text** (:class:`TextQuery`): the chunks matching the text (:class:`TextMatch`: any of
  its words by default, or the websearch syntax; the backends read it with
  ``adapters/sql/fulltext_query.py``), ranked by BM25 with the tenant's own statistics
  (``adapters/sql/bm25.py``), the same on both backends within float tolerance.
- **hybrid** (:class:`HybridQuery`): both rankings fused (:func:`fuse`, methods and
  defaults in ``domain/fusion.py``): each list's top ``Fusion.depth(k)`` candidates.

Filters apply in every mode, before ranking. Ties are broken by chunk id everywhere.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import And, Filter, never_matches, parse_filter, pinned_documents
from tenantrag.domain.fusion import MAX_CANDIDATES, Fusion
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document

MAX_K = 1000
MAX_QUERY_TEXT_LENGTH = 1000


def check_k(value: object, *, limit: int = MAX_K) -> int:
    """``k`` as a caller gives it: an integer from 1 to ``limit`` (MAX_K), or InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InvalidInput("k", f"must be an integer from 1 to {limit}, got {value!r}")
    return value


def _k(value: object) -> int:
    return check_k(value)


def _list_k(value: object) -> int:
    # One ranked list may be a hybrid's or a grouped search's candidates: up to MAX_CANDIDATES.
    # Callers are held to MAX_K by the use case (``check_k``) before a query is built.
    return check_k(value, limit=MAX_CANDIDATES)


def _query_embedding(values: Iterable[float]) -> tuple[float, ...]:
    return v.embedding("embedding", values)


def _where(value: Filter | None) -> Filter | None:
    # ``{}`` parses to an empty And: no condition, the same as none at all.
    return None if isinstance(value, And) and not value.filters else value


@attrs.frozen(kw_only=True)
class SearchFilter:
    """Which chunks may be returned: a filter of the filter language
    (``tenantrag.domain.filtering``), or none. ``from_json`` builds one from its JSON form;
    the earlier JSON form is translated by ``filtering.from_legacy`` at the edges."""

    where: Filter | None = attrs.field(
        default=None,
        converter=_where,
        validator=attrs.validators.optional(attrs.validators.instance_of(Filter)),
    )

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SearchFilter:
        """The filter a JSON object of the filter language describes (errors name ``filter.*``)."""
        return cls(where=parse_filter(obj))

    def to_json(self) -> dict[str, Any]:
        """What the filter says, as JSON (for query logs): ``{}`` or ``{"where": ...}``."""
        return {} if self.where is None else {"where": self.where.to_json()}

    @property
    def is_empty(self) -> bool:
        """No condition at all: every chunk of the tenant may be returned."""
        return self.where is None

    @property
    def matches_nothing(self) -> bool:
        """A condition no chunk can meet (an empty ``$in`` of document ids, ``$any`` of no
        tags...): the backends answer it without a query."""
        return self.where is not None and never_matches(self.where)

    @property
    def document_ids(self) -> frozenset[uuid.UUID] | None:
        """The documents the filter confines hits to, when it names them (None: any)."""
        return None if self.where is None else pinned_documents(self.where)

    def matches(self, chunk: Chunk, document: Document) -> bool:
        return self.where is None or self.where.matches(chunk, document)


@attrs.frozen(kw_only=True)
class VectorQuery:
    embedding: tuple[float, ...] = attrs.field(converter=_query_embedding)
    k: int = attrs.field(default=10, converter=_list_k)
    filter: SearchFilter = attrs.field(factory=SearchFilter)

    def __attrs_post_init__(self) -> None:
        if norm(self.embedding) == 0.0:
            raise InvalidInput("embedding", "must not be the zero vector (cosine is undefined)")


class TextMatch(enum.StrEnum):
    """How a text (or hybrid) search reads its text.

    - ``any`` (the default): natural language. A chunk matches when it holds any of the
      text's words (stop words dropped, words stemmed), and ranks by BM25, so a question
      finds the chunks that answer it. Quotes, ``-`` and ``or`` are plain punctuation.
    - ``websearch``: the precise syntax (PostgreSQL's ``websearch_to_tsquery``): every word
      is needed, ``"a phrase"`` needs its words in order, ``-word`` excludes, ``or``
      separates alternatives. The matches rank by BM25 too.
    """

    ANY = "any"
    WEBSEARCH = "websearch"

    @classmethod
    def parse(cls, value: object, *, field: str = "match") -> TextMatch:
        return v.choice(field, cls, value)


class SearchMode(enum.StrEnum):
    VECTOR = "vector"
    TEXT = "text"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, value: object, *, field: str = "mode") -> SearchMode:
        return v.choice(field, cls, value)


def _match(value: object) -> TextMatch:
    return TextMatch.parse(value)


def _query_text(text: object) -> str:
    # What no backend could search; the syntax itself is the backends' to read.
    return v.text("text", text, max_length=MAX_QUERY_TEXT_LENGTH)


@attrs.frozen(kw_only=True)
class TextQuery:
    """The k chunks that best match ``text``, a query of the full-text language. A text left
    with nothing to look for once stop words are dropped matches nothing."""

    text: str = attrs.field(converter=_query_text)
    k: int = attrs.field(default=10, converter=_list_k)
    filter: SearchFilter = attrs.field(factory=SearchFilter)
    match: TextMatch = attrs.field(default=TextMatch.ANY, converter=_match)


@attrs.frozen(kw_only=True)
class HybridQuery:
    """The k chunks with the best fused rank: near ``embedding`` and matching ``text``.

    A text with nothing to look for once stop words are dropped leaves the text list empty
    (the vector list alone ranks); one that is malformed is refused, as in text mode.
    """

    embedding: tuple[float, ...] = attrs.field(converter=_query_embedding)
    text: str = attrs.field(converter=_query_text)
    k: int = attrs.field(default=10, converter=_k)
    filter: SearchFilter = attrs.field(factory=SearchFilter)
    fusion: Fusion = attrs.field(factory=Fusion)
    match: TextMatch = attrs.field(default=TextMatch.ANY, converter=_match)

    def __attrs_post_init__(self) -> None:
        if norm(self.embedding) == 0.0:
            raise InvalidInput("embedding", "must not be the zero vector (cosine is undefined)")

    @property
    def depth(self) -> int:
        return self.fusion.depth(self.k)

    def vector_part(self) -> VectorQuery:
        return VectorQuery(embedding=self.embedding, k=self.depth, filter=self.filter)

    def text_part(self) -> TextQuery:
        return TextQuery(text=self.text, k=self.depth, filter=self.filter, match=self.match)


SearchQuery = VectorQuery | TextQuery | HybridQuery


def mode_of(query: SearchQuery) -> SearchMode:
    if isinstance(query, TextQuery):
        return SearchMode.TEXT
    return SearchMode.HYBRID if isinstance(query, HybridQuery) else SearchMode.VECTOR


@attrs.frozen(kw_only=True)
class SearchHit:
    """One chunk found. ``score``: cosine (vector), the backend's relevance (text), the fused
    score (hybrid). ``vector_rank``/``text_rank``: a hybrid hit's 1-based places in the two
    lists (None where it is not in one, and outside hybrid search)."""

    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_version: int
    ordinal: int
    content: str
    metadata: Mapping[str, Any] = attrs.field(hash=False)
    score: float
    vector_rank: int | None = None
    text_rank: int | None = None


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def hit_order(hit: SearchHit) -> tuple[float, str]:
    """Best score first; ties broken by chunk id so every backend agrees on order."""
    return (-hit.score, str(hit.chunk_id))


def fuse(
    vector_hits: Sequence[SearchHit], text_hits: Sequence[SearchHit], fusion: Fusion, k: int
) -> list[SearchHit]:
    """The fusion (``domain/fusion.py``) of two chunk rankings, each best first as
    ``hit_order`` sorts them: the best k, each with its fused score and places."""
    found: dict[uuid.UUID, SearchHit] = {}
    for hit in (*vector_hits, *text_hits):
        found.setdefault(hit.chunk_id, hit)
    fused = fusion.fused(
        [(hit.chunk_id, hit.score) for hit in vector_hits], [(hit.chunk_id, hit.score) for hit in text_hits]
    )
    hits = [
        attrs.evolve(found[chunk_id], score=f.score, vector_rank=f.vector_rank, text_rank=f.text_rank)
        for chunk_id, f in fused.items()
    ]
    hits.sort(key=hit_order)
    return hits[:k]


class EmptyCode(enum.StrEnum):
    """Why a search (or a hybrid search's text list) found nothing."""

    NO_CHUNKS = "no_chunks"  # the tenant has no searchable chunks
    FILTER_EXCLUDES_ALL = "filter_excludes_all"  # the filter admits none of its chunks
    NO_MATCHING_WORDS = "no_matching_words"  # no admitted chunk matches the text
    ONLY_STOP_WORDS = "only_stop_words"  # the text has nothing to look for


_EMPTY_MESSAGES = {
    EmptyCode.NO_CHUNKS: "the tenant has no searchable chunks (no document has been ingested yet)",
    EmptyCode.FILTER_EXCLUDES_ALL: "the filter admits none of the tenant's chunks",
    EmptyCode.ONLY_STOP_WORDS: "the text has only stop words (such as 'the', 'and'): nothing to look for",
}


@attrs.frozen
class EmptyReason:
    """A short machine-readable ``code`` and a message for people."""

    code: EmptyCode
    message: str

    @classmethod
    def of(cls, code: EmptyCode, match: TextMatch = TextMatch.ANY) -> EmptyReason:
        if code is not EmptyCode.NO_MATCHING_WORDS:
            return cls(code, _EMPTY_MESSAGES[code])
        if match is TextMatch.WEBSEARCH:
            return cls(code, "no chunk the filter admits matches the text (websearch: every word is needed)")
        return cls(code, "no chunk the filter admits holds any of the text's words")
