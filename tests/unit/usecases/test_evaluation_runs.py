"""EvaluationService: runs measured through the real search, stored per tenant, listed by
admins; bad collections refused before anything is searched or stored. Through bootstrap on
SQLite and PostgreSQL (``-m sqlite`` selects the in-process SQLite store)."""

from __future__ import annotations

import pytest

from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.evaluation import MRR, NDCG, RECALL, Qrels, QuerySet
from tenantrag.domain.model.document import Document
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.search import MAX_QUERY_TEXT_LENGTH
from tenantrag.domain.usecases.app import TenantRag
from tests.unit.usecases.workspace import Workspace

TEXTS = {
    "walrus.md": "Walruses haul out on the arctic ice floes to rest between their long dives.",
    "penguin.md": "Emperor penguins huddle together through the antarctic winter darkness.",
    "bread.md": "Sourdough bread needs a lively starter, flour, water, salt and patience.",
}
QUERIES = QuerySet(
    {"q1": "walruses resting on arctic ice", "q2": "penguins in the antarctic winter", "q3": "unjudged"},
    name="queries.jsonl",
)


async def ingest(app: TenantRag, workspace: Workspace) -> dict[str, Document]:
    member = workspace.actor(Role.MEMBER)
    return {
        name: await app.ingestion.add_text(
            member, workspace.tenant.id, filename=name, text=text, source_key=name
        )
        for name, text in TEXTS.items()
    }


async def test_a_run_scores_every_mode_and_is_stored_for_the_tenant(
    app: TenantRag, workspace: Workspace
) -> None:
    documents = await ingest(app, workspace)
    # q1 judged by source key, q2 by document id; q2's bread judgement is not relevant.
    qrels = Qrels(
        {"q1": {"walrus.md": 1}, "q2": {str(documents["penguin.md"].id): 2, "bread.md": 0}},
        name="qrels.tsv",
        format="beir",
    )
    admin = workspace.actor(Role.ADMIN)
    run = await app.evaluations.run(
        admin,
        workspace.tenant.id,
        queries=QUERIES,
        qrels=qrels,
        modes=["text", "vector", "hybrid", "text"],
        k=10,
    )
    assert run.modes == ("text", "vector", "hybrid")
    assert run.user_id == workspace.users[Role.ADMIN].id
    for mode in run.modes:
        assert set(run.per_query[mode]) == {"q1", "q2"}  # q3 has no judgement: not run
        assert run.metrics[mode]["queries"] == 2
        for metric in (NDCG, RECALL, MRR):
            assert run.metrics[mode][metric] == pytest.approx(1.0), (mode, metric)
        assert run.per_query[mode]["q1"]["hits"] >= 1
    parameters = run.parameters
    assert parameters["matched_by"] == {"source_key": 2, "id": 1}
    assert parameters["grouping"] == "documents"
    assert parameters["k"] == 10
    assert parameters["embedder"] == {"name": app.embedder.name, "dimension": app.embedder.dimension}
    assert parameters["queries"]["file"] == "queries.jsonl"
    assert parameters["queries_run"] == 2
    assert parameters["queries_without_judgements"] == 1
    assert parameters["warnings"] == []

    owner = workspace.actor(Role.OWNER)
    assert await app.evaluations.get(owner, workspace.tenant.id, run.id) == run
    page = await app.evaluations.list(owner, workspace.tenant.id, PageRequest(limit=10))
    assert [r.id for r in page.items] == [run.id]
    # Invisible to another tenant, even to its owner.
    assert (await app.evaluations.list(workspace.stranger, workspace.other_tenant.id)).items == ()
    with pytest.raises(NotFound):
        await app.evaluations.get(workspace.stranger, workspace.other_tenant.id, run.id)
    with pytest.raises(NotFound):
        await app.evaluations.list(workspace.stranger, workspace.tenant.id)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
async def test_members_and_viewers_may_neither_run_nor_read(
    app: TenantRag, workspace: Workspace, role: Role
) -> None:
    await ingest(app, workspace)
    actor = workspace.actor(role)
    with pytest.raises(PermissionDenied):
        await app.evaluations.run(
            actor, workspace.tenant.id, queries=QUERIES, qrels=Qrels({"q1": {"walrus.md": 1}})
        )
    with pytest.raises(PermissionDenied):
        await app.evaluations.list(actor, workspace.tenant.id)


async def test_bad_collections_are_refused_and_nothing_is_stored(
    app: TenantRag, workspace: Workspace
) -> None:
    await ingest(app, workspace)
    admin = workspace.actor(Role.ADMIN)
    tenant = workspace.tenant.id
    missing = Qrels({"q1": {"walrus.md": 1, "nope-1.md": 1, "nope-2.md": 0}})
    with pytest.raises(
        InvalidInput, match=r"2 document id\(s\) match no document.*'nope-1.md', 'nope-2.md'"
    ) as caught:
        await app.evaluations.run(admin, tenant, queries=QUERIES, qrels=missing)
    assert caught.value.field == "qrels"
    assert caught.value.details["missing_count"] == 2
    with pytest.raises(InvalidInput, match="mode") as caught:
        await app.evaluations.run(
            admin, tenant, queries=QUERIES, qrels=Qrels({"q1": {"walrus.md": 1}}), modes=["bm25"]
        )
    assert caught.value.field == "mode"
    with pytest.raises(InvalidInput, match="k"):
        await app.evaluations.run(admin, tenant, queries=QUERIES, qrels=Qrels({"q1": {"walrus.md": 1}}), k=0)
    with pytest.raises(InvalidInput, match="no query of"):
        await app.evaluations.run(admin, tenant, queries=QUERIES, qrels=Qrels({"q9": {"walrus.md": 1}}))
    assert (await app.evaluations.list(admin, tenant)).items == ()


async def test_unknown_query_ids_and_long_queries_are_warnings(app: TenantRag, workspace: Workspace) -> None:
    await ingest(app, workspace)
    long_text = "walrus " * (MAX_QUERY_TEXT_LENGTH // 7 + 20)
    queries = QuerySet({"q1": long_text})
    qrels = Qrels({"q1": {"walrus.md": 1}, "q7": {"bread.md": 1}})
    run = await app.evaluations.run(
        workspace.actor(Role.OWNER), workspace.tenant.id, queries=queries, qrels=qrels
    )
    assert run.modes == ("hybrid",)
    assert run.parameters["k"] == 100
    warnings = run.parameters["warnings"]
    assert len(warnings) == 2
    assert "1 query id(s) of qrels are not in queries: 'q7'" in warnings[0]
    assert "were cut" in warnings[1]
    assert run.metrics["hybrid"][MRR] == 1.0
