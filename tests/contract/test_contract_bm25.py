"""Text ranking: BM25 with each tenant's own statistics, the same on every backend.

Scores are held to a reference computed in the test (``bm25_reference``) on plain English
words, where PostgreSQL's parser and the shared analysis agree. A tenant's statistics
depend on its chunks alone: whatever other tenants hold, and whatever it stored and
deleted before, its scores are those of a tenant holding exactly its chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import Document
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import SearchFilter, SearchHit, TextMatch, TextQuery
from tests.contract.factories import Seeded, basis, seed_tenant
from tests.contract.test_contract_search_modes import Stored, chunk_of, store, text_hits
from tests.search_reference import bm25_reference

TEXTS = (
    "library catalogues list books",
    "the library lends books and journals to readers",
    "journals publish research papers",
    "readers borrow books from the public library every week",
    "indexing papers helps readers find research",
    "a catalogue of catalogues",
    "rockets launch satellites",
    "books books books",
)
QUERIES = (
    "library",
    "How do readers find books in a library?",
    "catalogue of research journals",
    "satellites",
    "books",
    "books about books for readers of books",  # a word said three times weighs three times
)


def scores_by_text(stored: Stored, hits: Sequence[SearchHit]) -> dict[int, float]:
    return dict(zip(stored.ordinals(hits), (h.score for h in hits), strict=True))


@pytest.mark.parametrize("text", QUERIES)
async def test_scores_are_bm25_with_the_tenant_s_statistics(
    backend: UnitOfWorkFactory, tenant_a: Seeded, text: str
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    hits = await text_hits(backend, stored, text, k=50)
    expected = bm25_reference(TEXTS, text)
    assert scores_by_text(stored, hits) == pytest.approx(expected, rel=1e-9)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_another_tenant_s_text_moves_no_score(
    backend: UnitOfWorkFactory, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    """The side channel FTS5's table-wide statistics opened: a word's score told whether
    another tenant's text held it."""
    stored = await store(backend, tenant_a, TEXTS)
    before = {text: scores_by_text(stored, await text_hits(backend, stored, text, k=50)) for text in QUERIES}
    await store(backend, tenant_b, ["library " * 40, "satellites satellites", "books", *TEXTS, "zebra"] * 3)
    after = {text: scores_by_text(stored, await text_hits(backend, stored, text, k=50)) for text in QUERIES}
    assert after == before  # identical, not merely close


async def test_statistics_follow_ingest_delete_and_reingest(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    churned = await store(backend, tenant_a, TEXTS)
    # A document stored and deleted, and one replaced by new chunks, leave no trace.
    extra = await store(backend, tenant_a, ["library library library", "books galore"], per_document=2)
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.delete(extra.rows[0][1].id)
        first = churned.rows[0][1]
        await uow.chunks.delete_for_document(first.id)
        await uow.commit()
    again = await _store_into(backend, churned, first, TEXTS[:2])
    fresh_tenant = await seed_tenant(backend)
    fresh = await store(backend, fresh_tenant, TEXTS)
    for text in QUERIES:
        got = scores_by_text(again, await text_hits(backend, again, text, k=50))
        want = scores_by_text(fresh, await text_hits(backend, fresh, text, k=50))
        assert got == pytest.approx(want, rel=1e-12)


async def _store_into(
    backend: UnitOfWorkFactory, stored: Stored, document: Document, texts: Sequence[str]
) -> Stored:
    """``texts`` as the new chunks of ``document`` (as a re-ingest writes them)."""
    chunks = [chunk_of(document, i, t, basis(i), i) for i, t in enumerate(texts)]
    async with backend.tenant(stored.tenant_id) as uow:
        await uow.chunks.add_many(chunks)
        await uow.commit()
    kept = [row for row in stored.rows if row[1].id != document.id]
    return attrs.evolve(stored, rows=(*[(c, document) for c in chunks], *kept))


async def test_a_filter_narrows_what_ranks_never_the_scores(
    backend: UnitOfWorkFactory, tenant_a: Seeded
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    everything = scores_by_text(stored, await text_hits(backend, stored, "library books readers", k=50))
    odd = SearchFilter.from_json({"metadata.parity": 1})
    narrowed = scores_by_text(
        stored, await text_hits(backend, stored, "library books readers", k=50, filter=odd)
    )
    assert narrowed == {n: s for n, s in everything.items() if n % 2 == 1}


@pytest.mark.parametrize(
    "question",
    [
        "What is the history of zebras, unicorns and satellites?",  # one word of ten occurs
        "Which methods exist for the automatic indexing of documents?",
    ],
)
async def test_a_question_finds_the_chunks_holding_any_of_its_words(
    backend: UnitOfWorkFactory, tenant_a: Seeded, question: str
) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    found = set(stored.ordinals(await text_hits(backend, stored, question, k=50)))
    assert found == set(bm25_reference(TEXTS, question))
    assert found  # each question has a word that occurs


async def test_websearch_ranks_its_matches_by_bm25_too(backend: UnitOfWorkFactory, tenant_a: Seeded) -> None:
    stored = await store(backend, tenant_a, TEXTS)
    hits = await text_hits(backend, stored, "books -catalogues readers", k=50, match=TextMatch.WEBSEARCH)
    reference = bm25_reference(TEXTS, "books readers")
    assert scores_by_text(stored, hits) == pytest.approx({1: reference[1], 3: reference[3]}, rel=1e-9)
    with pytest.raises(InvalidInput, match="any or websearch"):
        TextQuery(text="books", match="exact")
