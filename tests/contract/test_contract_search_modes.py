"""Full-text and hybrid search: the same matches on every backend, isolated, filtered.

Both backends rank text by BM25 with the tenant's statistics (test_contract_bm25.py holds
the scores to a reference); here, which chunks match in each ``match`` mode, and an order
where it is unambiguous: more occurrences of the one query word in chunks of one length,
and equal scores by chunk id. Hybrid search is held to the domain's fusion (``fuse``) of
an exact cosine ranking and the backend's own text ranking, on rows where each is
unambiguous.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from tenantrag.adapters.sql.fulltext_query import read
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import HybridQuery, SearchFilter, SearchHit, TextMatch, TextQuery, fuse
from tests.contract.factories import DIMENSION, Seeded, basis, make_chunk, make_document
from tests.search_reference import exact_top_k, legacy

TEXTS = (
    "cats purr softly",  # 0
    "dogs bark at night",  # 1
    "the cat chased the dog",  # 2
    "a purring cat sleeps",  # 3
    "rockets launch into space",  # 4
    "cats and dogs play together",  # 5
)


@attrs.frozen
class Stored:
    tenant_id: uuid.UUID
    rows: tuple[tuple[Chunk, Document], ...]

    def ordinals(self, hits: Sequence[SearchHit]) -> list[int]:
        by_id = {chunk.id: chunk for chunk, _ in self.rows}
        return [by_id[hit.chunk_id].metadata["n"] for hit in hits]


def chunk_of(document: Document, ordinal: int, content: str, embedding: Sequence[float], n: int) -> Chunk:
    metadata = {"n": n, "parity": n % 2, **document.metadata}  # as ingestion stamps them
    chunk = make_chunk(document, ordinal, embedding, metadata=metadata)
    return attrs.evolve(chunk, content=content, content_sha256=sha256_hex(content))


async def store(
    backend: UnitOfWorkFactory,
    seeded: Seeded,
    texts: Sequence[str],
    *,
    embeddings: Sequence[Sequence[float]] | None = None,
    per_document: int = 2,
) -> Stored:
    """``texts`` as chunks, ``per_document`` to a document; chunk i has metadata n=i, and its
    document's (group: which document)."""
    tenant_id = seeded.tenant.id
    rows: list[tuple[Chunk, Document]] = []
    async with backend.tenant(tenant_id) as uow:
        for start in range(0, len(texts), per_document):
            tags = ("even",) if start % 4 == 0 else ("odd",)
            document = make_document(tenant_id, tags=tags, metadata={"group": start // per_document})
            document = attrs.evolve(document, version=3)
            await uow.documents.add(document)
            chunks = [
                chunk_of(
                    document,
                    i - start,
                    texts[i],
                    embeddings[i] if embeddings else basis(i % DIMENSION),
                    i,
                )
                for i in range(start, min(start + per_document, len(texts)))
            ]
            await uow.chunks.add_many(chunks)
            rows += [(chunk, document) for chunk in chunks]
        await uow.commit()
    return Stored(tenant_id, tuple(rows))


async def text_hits(backend: UnitOfWorkFactory, stored: Stored, text: str, **options: Any) -> list[SearchHit]:
    async with backend.tenant(stored.tenant_id) as uow:
        return list(await uow.chunks.search(TextQuery(text=text, **options)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cat", {0, 2, 3, 5}),
        ("Cats", {0, 2, 3, 5}),
        ("cats purr", {0}),  # Snowball stems purring to "pur", purr to "purr"
        ("purring cats", {3}),
        ("the cat", {0, 2, 3, 5}),  # "the" is a stop word everywhere
        ('"cat chased"', {2}),
        ('"chased cat"', set()),
        ("cat -dog", {0, 3}),
        ('cat -"purring cat"', {0, 2, 5}),
        ("rocket or purr", {0, 4}),
        ("rocket or cat dog", {2, 4, 5}),
        ("zebra", set()),
    ],
)
async def test_websearch_matching_is_the_same_on_every_backend(
    backend: UnitOfWorkFactory, tenant_a: Seeded, text: str, expected: set[int]
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    hits = await text_hits(backend, stored, text, k=20, match=TextMatch.WEBSEARCH)
    assert set(stored.ordinals(hits)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cat", {0, 2, 3, 5}),
        ("cats purr", {0, 2, 3, 5}),  # any of the words
        ("Which animals chased the dogs?", {1, 2, 5}),  # a question: "chased" and "dogs" occur
        ("cat -dog", {0, 1, 2, 3, 5}),  # no syntax: "-" is punctuation
        ('"chased cat"', {2, 0, 3, 5}),
        ("rocket or purr", {0, 4}),  # "or" is a stop word
        ("zebra unicorn", set()),
    ],
)
async def test_natural_language_matches_any_word_on_every_backend(
    backend: UnitOfWorkFactory, tenant_a: Seeded, text: str, expected: set[int]
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    assert set(stored.ordinals(await text_hits(backend, stored, text, k=20))) == expected


async def test_a_chunk_holding_more_of_the_question_s_words_ranks_first(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    hits = await text_hits(backend, stored, "do cats purr softly at night?", k=20)
    assert stored.ordinals(hits)[0] == 0  # cats, purr, softly: three of the words


async def test_text_search_sees_only_the_tenant_s_chunks(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    mine = await store(backend, tenant_a, TEXTS)
    theirs = await store(backend, tenant_b, [*TEXTS, "cats cats cats"])
    hits = await text_hits(backend, mine, "cat", k=50)
    assert {hit.chunk_id for hit in hits} <= {chunk.id for chunk, _ in mine.rows}
    assert len(await text_hits(backend, theirs, "cat", k=50)) == 5
    async with backend.tenant(mine.tenant_id) as uow:
        hybrid = await uow.chunks.search(HybridQuery(embedding=basis(0), text="cat", k=50))
    assert {hit.chunk_id for hit in hybrid} == {chunk.id for chunk, _ in mine.rows}


async def test_hits_carry_the_document_version_ordinal_content_and_metadata(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    rows = {chunk.id: (chunk, document) for chunk, document in stored.rows}
    async with backend.tenant(stored.tenant_id) as uow:
        text = await uow.chunks.search(TextQuery(text="rocket"))
        hybrid = await uow.chunks.search(HybridQuery(embedding=basis(4), text="rocket"))
    for hit in (*text, hybrid[0]):
        chunk, document = rows[hit.chunk_id]
        assert (hit.document_id, hit.document_version, hit.ordinal) == (document.id, 3, chunk.ordinal)
        assert (hit.content, dict(hit.metadata)) == (chunk.content, chunk.metadata)
    assert (hybrid[0].chunk_id, hybrid[0].vector_rank, hybrid[0].text_rank) == (text[0].chunk_id, 1, 1)


async def test_more_occurrences_rank_first_and_equal_scores_go_by_chunk_id(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    texts = ["frog bird fish cat newt", "cat cat cat cat newt", "cat cat bird fish newt", "eel", "eel", "eel"]
    texts += ["cat bird fish frog newt", "frog bird fish cat newt"]
    stored = await store(backend, tenant_a, texts)
    hits = await text_hits(backend, stored, "cat", k=10)
    assert stored.ordinals(hits)[:2] == [1, 2]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    tied = hits[2:]  # one occurrence each, same length: equal scores on every backend
    assert {h.score for h in tied} == {tied[0].score}
    assert [h.chunk_id for h in tied] == sorted((h.chunk_id for h in tied), key=str)


async def test_k_is_respected(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    every = await text_hits(backend, stored, "cat", k=10)
    first = await text_hits(backend, stored, "cat", k=2)
    assert len(first) == 2
    assert {h.chunk_id for h in first} <= {h.chunk_id for h in every}
    async with backend.tenant(stored.tenant_id) as uow:
        assert len(await uow.chunks.search(HybridQuery(embedding=basis(0), text="cat", k=3))) == 3


@pytest.mark.parametrize(
    ("search_filter", "expected"),
    [
        (SearchFilter.from_json({"metadata.n": {"$gte": 3}}), {3, 5}),
        (SearchFilter.from_json({"$or": [{"metadata.parity": 1}, {"tags": "even"}]}), {0, 3, 5}),
        (SearchFilter.from_json({"$not": {"metadata.group": {"$in": [0, 2]}}}), {2, 3}),
        (legacy(tags_any=["odd"]), {2, 3}),
        (legacy(metadata={"parity": 0}), {0, 2}),
        (legacy(metadata={"parity": False}), set()),  # JSON equality: false is not 0
        (SearchFilter.from_json({"tags": {"$all": ["even"]}, "metadata.n": 5}), {5}),
        (legacy(tags_any=[]), set()),
        (legacy(document_ids=[]), set()),
    ],
)
async def test_filters_apply_in_every_mode(
    backend: UnitOfWorkFactory, tenant_a: Seeded, search_filter: SearchFilter, expected: set[int]
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    assert (
        set(stored.ordinals(await text_hits(backend, stored, "cat", k=20, filter=search_filter))) == expected
    )
    admitted = {
        chunk.metadata["n"] for chunk, document in stored.rows if search_filter.matches(chunk, document)
    }
    async with backend.tenant(stored.tenant_id) as uow:
        hybrid = await uow.chunks.search(
            HybridQuery(embedding=basis(1), text="cat", k=20, filter=search_filter)
        )
    assert set(stored.ordinals(hybrid)) == admitted
    # Filtered chunks are absent from both rankings, so ranks count admitted chunks only.
    text_ranks = sorted(h.text_rank for h in hybrid if h.text_rank is not None)
    assert text_ranks == list(range(1, len(expected) + 1))


def near(*weights: float) -> tuple[float, ...]:
    return tuple(weights) + (0.0,) * (DIMENSION - len(weights))


HYBRID_EMBEDDINGS = [basis(i % DIMENSION) for i in range(len(TEXTS))]


@pytest.mark.parametrize(
    ("embedding", "text", "fusion", "search_filter"),
    [
        (near(1.0, 0.5), "rocket", Fusion(), SearchFilter()),
        (near(1.0, 0.5), "rocket", Fusion(rrf_k=1, vector_weight=2.0, text_weight=0.5), SearchFilter()),
        (near(0.2, 1.0, 0.1), "rocket", Fusion(rrf_k=5), SearchFilter()),
        (near(1.0, 0.5), "the and of", Fusion(), SearchFilter()),  # only stop words: no text list
        (near(1.0, 0.5), "rocket", Fusion(candidates=2), SearchFilter.from_json({"metadata.n": {"$ne": 0}})),
        (near(0.0, 0.0, 1.0), "rocket", Fusion(text_weight=0.0), SearchFilter()),
    ],
)
async def test_hybrid_search_is_the_domains_fusion_where_rankings_are_unambiguous(
    backend: UnitOfWorkFactory,
    tenant_a: Seeded,
    embedding: tuple[float, ...],
    text: str,
    *,
    fusion: Fusion,
    search_filter: SearchFilter,
) -> None:
    """Vector ranks: distinct cosines, then ties by chunk id, alike everywhere; each text
    alternative matches one chunk, so text ranks are unambiguous too."""
    stored = await store(backend, tenant_a, TEXTS, embeddings=HYBRID_EMBEDDINGS)
    query = HybridQuery(embedding=embedding, text=text, k=5, fusion=fusion, filter=search_filter)
    text_query = query.text_part()
    async with backend.tenant(stored.tenant_id) as uow:
        hits = list(await uow.chunks.search(query))
        wordless = read(text, query.match, text_mode=False).is_empty  # stop words only: no text list
        texts = [] if wordless else list(await uow.chunks.search(text_query))
    expected = fuse(exact_top_k(query.vector_part(), stored.rows), texts, query.fusion, query.k)
    assert [(h.chunk_id, h.vector_rank, h.text_rank) for h in hits] == [
        (h.chunk_id, h.vector_rank, h.text_rank) for h in expected
    ]
    assert [h.score for h in hits] == pytest.approx([h.score for h in expected], abs=1e-6)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: TextQuery(text=""), "text"),
        (lambda: TextQuery(text="  "), "text"),
        (lambda: TextQuery(text="cat", k=0), "k"),
        (lambda: HybridQuery(embedding=basis(0), text=""), "text"),
        (lambda: HybridQuery(embedding=[0.0] * DIMENSION, text="cat"), "embedding"),
        (lambda: HybridQuery(embedding=basis(0), text="cat", fusion=Fusion(rrf_k=-1)), "hybrid.rrf_k"),
        (lambda: TextQuery(text="cat", filter=SearchFilter.from_json({"metadata.x": {"$gt": []}})), None),
    ],
)
def test_empty_and_malformed_queries_are_refused_naming_the_field(make: Any, field: str | None) -> None:
    with pytest.raises(InvalidInput) as raised:
        make()
    assert raised.value.field == (field or "filter.metadata.x.$gt")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("-cat", TextMatch.WEBSEARCH),
        ("the", TextMatch.WEBSEARCH),
        ("the", TextMatch.ANY),
        ('"', TextMatch.WEBSEARCH),
        ("?!", TextMatch.ANY),
        ("cat or -dog", TextMatch.WEBSEARCH),
    ],
)
async def test_queries_that_say_nothing_searchable_are_refused_alike(
    backend: UnitOfWorkFactory, tenant_a: Seeded, text: str, match: TextMatch
) -> None:
    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(InvalidInput) as raised:
            await uow.chunks.search(TextQuery(text=text, match=match))
        assert raised.value.field == "text"
        hybrid = HybridQuery(embedding=basis(0), text=text, match=match)
        if text != "the":  # malformed in hybrid mode too; stop words only leave the text list empty
            with pytest.raises(InvalidInput):
                await uow.chunks.search(hybrid)
        else:
            assert await uow.chunks.search(hybrid) == []
