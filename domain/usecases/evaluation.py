"""Evaluation runs: a tenant's retrieval measured against a test collection, and kept.

``EvaluationService.run(actor, tenant, queries=, qrels=, modes=, k=)``:

1. checks everything before searching: the modes, ``k``, the actor's ``evaluation:run``
   (admins and owners), and that every document id of the qrels names one of the tenant's
   documents, by ``source_key`` first, else by document id (an error lists a few that do
   not). Query ids of the qrels that are not among the queries are warnings (recorded in
   the run's ``parameters["warnings"]``), not errors: the judged queries that are present
   are measured. Queries without a relevant judgement are not run (they cannot be scored);
2. runs every judged query through the real search (``SearchService.run``, documents, k
   counting documents, not recorded as query logs) in each mode, embedding each query once
   for the vector and hybrid modes; a query longer than search accepts is cut at a word
   boundary, with a warning;
3. scores each ranking (``domain/evaluation.score_ranking``) and stores the run in one
   transaction. Any error before that leaves nothing stored.

Listing and reading runs needs ``evaluation:read`` (admins and owners).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from tenantrag.domain.errors import InvalidInput, NotFound
from tenantrag.domain.evaluation import Qrels, QuerySet, mean_scores, score_ranking
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.evaluation_run import EvaluationRun
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.search import MAX_K, MAX_QUERY_TEXT_LENGTH, SearchMode
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.search import SearchService

DEFAULT_MODES = (SearchMode.HYBRID,)
DEFAULT_K = 100  # Recall@100 needs the top 100 documents
EXAMPLES = 5  # ids quoted in an error or a warning
DIGITS = 6  # per-query metrics are stored rounded


def parse_modes(modes: Iterable[SearchMode | str] | SearchMode | str) -> tuple[SearchMode, ...]:
    """The requested modes, each once, in order; an unknown one is ``InvalidInput("mode")``."""
    if isinstance(modes, str):
        modes = (modes,)
    parsed = tuple(dict.fromkeys(SearchMode.parse(mode) for mode in modes))
    if not parsed:
        raise InvalidInput("mode", "at least one mode is needed (vector, text or hybrid)")
    return parsed


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidInput("k", f"must be an integer from 1 to {MAX_K}, got {k!r}")
    return k


def _shortened(text: str) -> str:
    """The text cut to what search accepts, at the last whitespace before the limit."""
    if len(text) <= MAX_QUERY_TEXT_LENGTH:
        return text
    cut = text[: MAX_QUERY_TEXT_LENGTH + 1]
    head, _, _ = cut.rpartition(" ")
    return (head or cut[:MAX_QUERY_TEXT_LENGTH]).rstrip()


def _few(values: Iterable[str]) -> str:
    listed = sorted(values)
    shown = ", ".join(repr(value) for value in listed[:EXAMPLES])
    return shown + (f" and {len(listed) - EXAMPLES} more" if len(listed) > EXAMPLES else "")


@attrs.frozen
class _Plan:
    """What a run searches: the judged queries' texts and their judgements by document id."""

    texts: dict[str, str]
    judgements: dict[str, dict[uuid.UUID, int]]
    matched: dict[str, int]
    warnings: list[str]
    without_judgements: int


@attrs.define
class EvaluationService(Service):
    search: SearchService

    async def run(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        queries: QuerySet,
        qrels: Qrels,
        modes: Iterable[SearchMode | str] | SearchMode | str = DEFAULT_MODES,
        k: int = DEFAULT_K,
    ) -> EvaluationRun:
        """Measure each mode on the test collection and store the run (see the module)."""
        tenant = as_id("tenant_id", tenant_id)
        chosen = parse_modes(modes)
        k = _check_k(k)
        async with self.uow.tenant(tenant, read_only=True) as uow:
            await authorize(uow, actor, Permission.EVALUATION_RUN)
            documents = await _documents_named(uow, qrels.document_keys())
        plan = _plan(queries, qrels, documents)
        per_query: dict[str, dict[str, Any]] = {}
        metrics: dict[str, dict[str, Any]] = {}
        embeddings = await self._embeddings(plan.texts, chosen)
        for mode in chosen:
            per_query[mode.value], metrics[mode.value] = await self._measure(
                actor=actor, tenant=tenant, plan=plan, mode=mode, k=k, embeddings=embeddings
            )
        embedder = self.search.embedder
        parameters = {
            "modes": [mode.value for mode in chosen],
            "k": k,
            "grouping": "documents",
            "matched_by": plan.matched,
            "embedder": {"name": embedder.name, "dimension": embedder.dimension},
            "queries": {"file": queries.name, "sha256": queries.sha256, "count": len(queries)},
            "qrels": {
                "file": qrels.name,
                "format": qrels.format,
                "sha256": qrels.sha256,
                "queries": len(qrels.judgements),
                "documents": len(documents),
            },
            "queries_run": len(plan.texts),
            "queries_without_judgements": plan.without_judgements,
            "warnings": plan.warnings,
        }
        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.EVALUATION_RUN)
            run = EvaluationRun(
                id=new_id(), tenant_id=uow.tenant_id, user_id=actor.user_id, parameters=parameters,
                metrics=metrics, per_query=per_query, created_at=self.clock.now(),
            )  # fmt: skip
            await uow.repository(EvaluationRun).add(run)
            await uow.commit()
        return run

    async def get(
        self, actor: Principal, tenant_id: uuid.UUID | str, run_id: uuid.UUID | str
    ) -> EvaluationRun:
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.EVALUATION_READ)
            run_key = as_id("run_id", run_id)
            run = await uow.repository(EvaluationRun).get(run_key)
        if run is None:
            raise NotFound("evaluation run", run_key)
        return run

    async def list(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[EvaluationRun]:
        """The tenant's runs, oldest first, paged like every list."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.EVALUATION_READ)
            return await uow.repository(EvaluationRun).list(page or PageRequest())

    async def _embeddings(
        self, texts: Mapping[str, str], modes: Sequence[SearchMode]
    ) -> dict[str, tuple[float, ...]]:
        """Each query embedded once, for the modes that need a vector."""
        if not any(mode in (SearchMode.VECTOR, SearchMode.HYBRID) for mode in modes):
            return {}
        return {
            query_id: tuple(await self.search.embedder.embed_query(text)) for query_id, text in texts.items()
        }

    async def _measure(
        self,
        *,
        actor: Principal,
        tenant: uuid.UUID,
        plan: _Plan,
        mode: SearchMode,
        k: int,
        embeddings: Mapping[str, tuple[float, ...]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        per_query: dict[str, Any] = {}
        scores = []
        no_hits = 0
        started = time.perf_counter()
        match: str | None = None
        for query_id, text in plan.texts.items():
            # A vector search takes the embedding alone; hybrid both (its text is not embedded again).
            outcome = await self.search.run(
                actor, tenant, text=None if mode is SearchMode.VECTOR else text, k=k, mode=mode,
                group="documents", record=False,
                embedding=None if mode is SearchMode.TEXT else embeddings[query_id],
            )  # fmt: skip
            match = None if outcome.match is None else str(outcome.match)
            ranked = [document.document_id for document in outcome.documents]
            score = score_ranking(ranked, plan.judgements[query_id])
            assert score is not None  # only judged queries are planned
            scores.append(score)
            no_hits += not ranked
            per_query[query_id] = {name: round(value, DIGITS) for name, value in score.items()} | {
                "hits": len(ranked)
            }
        overall: dict[str, Any] = dict(mean_scores(scores))
        overall["no_hits"] = no_hits
        overall["mean_latency_ms"] = round((time.perf_counter() - started) * 1000 / max(len(scores), 1), 3)
        if match is not None:
            overall["text_match"] = match
        return per_query, overall


async def _documents_named(uow: TenantUnitOfWork, keys: Iterable[str]) -> dict[str, tuple[Document, str]]:
    """Each qrels document key's document and how it matched (``source_key`` or ``id``)."""
    found: dict[str, tuple[Document, str]] = {}
    for key in keys:
        document = await uow.documents.get_by_source_key(key)
        if document is not None:
            found[key] = (document, "source_key")
            continue
        try:
            document_id = uuid.UUID(key)
        except ValueError:
            continue
        document = await uow.documents.get(document_id)
        if document is not None:
            found[key] = (document, "id")
    return found


def _plan(queries: QuerySet, qrels: Qrels, documents: Mapping[str, tuple[Document, str]]) -> _Plan:
    missing = qrels.document_keys() - documents.keys()
    if missing:
        error = InvalidInput(
            "qrels",
            f"{qrels.name}: {len(missing)} document id(s) match no document of the tenant "
            f"(by source_key or document id): {_few(missing)}",
        )
        error.details["missing"] = sorted(missing)[:EXAMPLES]
        error.details["missing_count"] = len(missing)
        raise error
    warnings: list[str] = []
    unknown = qrels.judgements.keys() - queries.queries.keys()
    if unknown:
        warnings.append(
            f"{len(unknown)} query id(s) of {qrels.name} are not in {queries.name}: {_few(unknown)}"
        )
    judged = qrels.judged_queries()
    texts: dict[str, str] = {}
    judgements: dict[str, dict[uuid.UUID, int]] = {}
    shortened: list[str] = []
    for query_id, text in queries.queries.items():
        if query_id not in judged:
            continue
        texts[query_id] = _shortened(text)
        if texts[query_id] != text:
            shortened.append(query_id)
        by_document: dict[uuid.UUID, int] = {}
        for key, grade in qrels.judgements[query_id].items():
            document_id = documents[key][0].id
            by_document[document_id] = max(grade, by_document.get(document_id, grade))
        judgements[query_id] = by_document
    if not texts:
        raise InvalidInput(
            "qrels",
            f"no query of {queries.name} has a relevant judgement in {qrels.name} (are the ids the same?)",
        )
    if shortened:
        warnings.append(
            f"{len(shortened)} query text(s) longer than {MAX_QUERY_TEXT_LENGTH} characters were cut "
            f"to search's limit: {_few(shortened)}"
        )
    matched = {"source_key": 0, "id": 0}
    for _document, how in documents.values():
        matched[how] += 1
    return _Plan(
        texts=texts,
        judgements=judgements,
        matched=matched,
        warnings=warnings,
        without_judgements=len(queries) - len(texts),
    )
