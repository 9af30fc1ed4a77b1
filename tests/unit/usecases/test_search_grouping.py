"""SearchService with ``group`` (documents or chunks), ``match``, and why nothing was found,
through bootstrap on SQLite and PostgreSQL.

The HashingEmbedder is lexical, so a query sharing a chunk's words is near it; texts scores
are not asserted (the backends' ranking is being changed), only which documents come back.
"""

from __future__ import annotations

import uuid

import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import CHUNKS_PER_DOCUMENT, ResultUnit
from tenantrag.domain.model.document import Document
from tenantrag.domain.policy import Role
from tenantrag.domain.search import EmptyCode, SearchFilter, TextMatch
from tenantrag.domain.usecases.app import TenantRag
from tests.unit.usecases.workspace import Workspace

# One long document of many chunks, each about walruses; two short ones mention walruses once.
PARAGRAPH = "Walruses haul out on the ice floes of the arctic sea to rest between their dives. "
LONG = "\n\n".join(f"Part {n}. " + PARAGRAPH * 5 for n in range(30))
SHORT = {
    "notes.md": "A walrus was seen near the harbour. Boats waited.",
    "zoo.md": "The zoo keeps a walrus, two penguins and a sleepy seal.",
}


async def add(app: TenantRag, workspace: Workspace) -> dict[str, Document]:
    member = workspace.actor(Role.MEMBER)
    added = {
        "long.md": await app.ingestion.add_text(member, workspace.tenant.id, filename="long.md", text=LONG)
    }
    for filename, text in SHORT.items():
        added[filename] = await app.ingestion.add_text(
            member, workspace.tenant.id, filename=filename, text=text
        )
    return added


async def test_documents_count_toward_k_each_once_with_their_chunks(
    app: TenantRag, workspace: Workspace
) -> None:
    documents = await add(app, workspace)
    viewer = workspace.actor(Role.VIEWER)
    # The first CHUNKS_PER_DOCUMENT * k chunks all belong to the long document: grouping must widen.
    wanted = CHUNKS_PER_DOCUMENT * 3
    assert documents["long.md"].chunk_count > wanted
    chunks = await app.search.run(viewer, workspace.tenant.id, text=PARAGRAPH, k=wanted, mode="vector")
    assert {hit.document_id for hit in chunks.hits} == {documents["long.md"].id}
    assert (chunks.group, chunks.documents) == (ResultUnit.CHUNKS, ())

    # Text: one word, so that matching every word or any word finds the same documents.
    for mode, text in (("vector", PARAGRAPH), ("hybrid", PARAGRAPH), ("text", "walrus")):
        grouped = await app.search.run(
            viewer, workspace.tenant.id, text=text, k=3, mode=mode, group="documents"
        )
        ids = [document.document_id for document in grouped.documents]
        assert len(ids) == len(set(ids)) == 3, mode  # widened until three documents came back
        if mode != "text":  # text scores are the backend's to choose
            assert ids[0] == documents["long.md"].id, mode
        assert set(ids) == {document.id for document in documents.values()}
        assert grouped.hits == tuple(document.best for document in grouped.documents)
        scores = [document.score for document in grouped.documents]
        assert scores == sorted(scores, reverse=True)
        [long_hit] = [d for d in grouped.documents if d.document_id == documents["long.md"].id]
        assert len(long_hit.chunks) > 1
        assert long_hit.best == long_hit.chunks[0]
        assert {chunk.document_id for chunk in long_hit.chunks} == {long_hit.document_id}
        assert long_hit.document_version == documents["long.md"].version
        assert grouped.empty_reason is None


async def test_hybrid_documents_are_fused_per_document(app: TenantRag, workspace: Workspace) -> None:
    documents = await add(app, workspace)
    viewer = workspace.actor(Role.VIEWER)
    fusion = Fusion(method="rrf", rrf_k=5)
    outcome = await app.search.run(
        viewer,
        workspace.tenant.id,
        text="walrus harbour",
        k=3,
        mode="hybrid",
        fusion=fusion,
        group="documents",
    )
    assert outcome.documents[0].document_id == documents["notes.md"].id
    for document in outcome.documents:
        ranks = (document.vector_rank, document.text_rank)
        assert document.score == pytest.approx(sum(1 / (5 + r) for r in ranks if r is not None))
        assert document.vector_rank is not None  # every document is somewhere in the vector list
    # Each document's ranks are its places among documents, not among chunks: at most 3 here.
    assert sorted(d.vector_rank for d in outcome.documents if d.vector_rank) == [1, 2, 3]


async def test_the_query_log_keeps_the_grouping_the_match_and_the_documents_best_chunks(
    app: TenantRag, workspace: Workspace
) -> None:
    await add(app, workspace)
    viewer = workspace.actor(Role.VIEWER)
    outcome = await app.search.run(
        viewer, workspace.tenant.id, text="walrus", k=2, mode="hybrid", group="documents", match="websearch"
    )
    assert outcome.match is TextMatch.WEBSEARCH
    assert outcome.query_log_id is not None
    log = await app.query_logs.get(viewer, workspace.tenant.id, outcome.query_log_id)
    assert [(s.chunk_id, s.score) for s in log.sources] == [
        (d.best.chunk_id, d.score) for d in outcome.documents
    ]
    assert (log.metadata["search"]["group"], log.metadata["search"]["match"]) == ("documents", "websearch")
    vector = await app.search.run(viewer, workspace.tenant.id, text="walrus", k=2)
    assert vector.match is None
    vector_log = await app.query_logs.get(viewer, workspace.tenant.id, vector.query_log_id)  # type: ignore[arg-type]
    assert vector_log.metadata["search"]["group"] == "chunks"
    assert "match" not in vector_log.metadata["search"]


@pytest.mark.parametrize("group", ["chunks", "documents"])
async def test_an_empty_answer_says_why(app: TenantRag, workspace: Workspace, group: str) -> None:
    viewer = workspace.actor(Role.VIEWER)
    tenant = workspace.tenant.id

    async def reason(**options: object) -> EmptyCode | None:
        outcome = await app.search.run(viewer, tenant, group=group, **options)  # type: ignore[arg-type]
        assert (outcome.empty_reason is None) == bool(outcome.hits)
        if outcome.empty_reason is not None:
            assert outcome.empty_reason.message
        return None if outcome.empty_reason is None else outcome.empty_reason.code

    for mode in ("vector", "text", "hybrid"):
        assert await reason(text="walrus", mode=mode) is EmptyCode.NO_CHUNKS
    await add(app, workspace)
    nothing = SearchFilter.from_json({"tags": "missing"})
    pinned_to_nothing = SearchFilter.from_json({"document_id": {"$in": []}})
    for mode in ("vector", "text", "hybrid"):
        assert await reason(text="walrus", mode=mode, filter=nothing) is EmptyCode.FILTER_EXCLUDES_ALL
        assert (
            await reason(text="walrus", mode=mode, filter=pinned_to_nothing) is EmptyCode.FILTER_EXCLUDES_ALL
        )
        assert await reason(text="walrus", mode=mode) is None
    assert await reason(text="zebra", mode="text") is EmptyCode.NO_MATCHING_WORDS
    assert await reason(text="zebra", mode="text", match="websearch") is EmptyCode.NO_MATCHING_WORDS


@pytest.mark.parametrize("group", ["chunks", "documents"])
async def test_a_hybrid_search_whose_text_found_nothing_says_so(
    app: TenantRag, workspace: Workspace, group: str
) -> None:
    await add(app, workspace)
    viewer = workspace.actor(Role.VIEWER)
    tenant = workspace.tenant.id
    unmatched = await app.search.run(viewer, tenant, text="zebra", mode="hybrid", group=group)
    assert unmatched.hits
    assert unmatched.empty_reason is None
    assert unmatched.text_empty is not None
    assert unmatched.text_empty.code is EmptyCode.NO_MATCHING_WORDS
    stop_words = await app.search.run(viewer, tenant, text="the and of", mode="hybrid", group=group)
    assert stop_words.hits
    assert stop_words.text_empty is not None
    assert stop_words.text_empty.code is EmptyCode.ONLY_STOP_WORDS
    matched = await app.search.run(viewer, tenant, text="walrus", mode="hybrid", group=group)
    assert matched.text_empty is None
    with pytest.raises(InvalidInput) as raised:  # malformed, not stop words: refused in both groupings
        await app.search.run(viewer, tenant, text='"', mode="hybrid", group=group, match="websearch")
    assert raised.value.field == "text"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"group": "pages"}, "group"),
        ({"match": "fuzzy"}, "match"),
        ({"k": 1001, "group": "documents"}, "k"),
        ({"k": 0}, "k"),
    ],
)
async def test_bad_options_are_refused_naming_the_field(
    app: TenantRag, workspace: Workspace, options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await app.search.run(workspace.actor(Role.VIEWER), workspace.tenant.id, text="walrus", **options)  # type: ignore[arg-type]
    assert raised.value.field == field


async def test_search_keeps_returning_hits_and_accepts_the_new_options(
    app: TenantRag, workspace: Workspace
) -> None:
    documents = await add(app, workspace)
    hits = await app.search.search(
        workspace.actor(Role.VIEWER), workspace.tenant.id, text=PARAGRAPH, k=3, group="documents"
    )
    assert len({hit.document_id for hit in hits}) == 3
    assert isinstance(hits[0].document_id, uuid.UUID)
    assert hits[0].document_id == documents["long.md"].id


@pytest.mark.parametrize("group", ["chunks", "documents"])
async def test_hybrid_candidates_may_exceed_max_k(app: TenantRag, workspace: Workspace, group: str) -> None:
    """k=300 asks each list for 1200 candidates, more than MAX_K: a single list may hold them."""
    await add(app, workspace)
    viewer = workspace.actor(Role.VIEWER)
    outcome = await app.search.run(
        viewer, workspace.tenant.id, text="walrus", k=300, mode="hybrid", group=group
    )
    assert outcome.hits
    assert len({hit.chunk_id for hit in outcome.hits}) == len(outcome.hits)
