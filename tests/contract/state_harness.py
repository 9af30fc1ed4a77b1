"""How the state machine runs a step and checks the state, on the model and every backend.

Every step runs one use case on the plain model (use_case_model) and on every backend,
each a complete tenantrag built with ``bootstrap()``, all sharing one manual clock. The
model says whether the step succeeds or which error it raises (the class, and the field
or kind it names); every backend must do the same. After each step an invariant
projects every backend's observable state (users, tenants, members, documents, jobs,
API keys) to what the model tracks, and compares it with the model's. With two backends,
what the model leaves out is compared between them: each step's results (search hits
within a score tolerance, near-ties in any order), and, after the steps that change
content, chunks, full documents and jobs, and a few fixed searches in every tenant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar, cast

from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine, invariant

from tenantrag.adapters.chunking import TextChunker
from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.adapters.sqlite import MemorySqliteUnitOfWorkFactory, open_memory_sqlite
from tenantrag.domain.errors import TenantRagError
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.bootstrap import bootstrap
from tests.contract.state_strategies import TagFilter
from tests.contract.state_views import (
    PROBE_K,
    Hit,
    Side,
    State,
    hits_differ,
    observe,
)
from tests.contract.use_case_model import Document, UseCaseModel

T = TypeVar("T")
M = TypeVar("M")
Op = Callable[[Side], Coroutine[Any, Any, T]]

DIMENSION = 16
START = datetime(2026, 1, 1, tzinfo=UTC)
# The steps after which backends compare what the model leaves out (chunks, full documents
# and jobs, probe searches): nothing else changes it.
CHANGES_CONTENT = frozenset({"add document", "reingest", "delete document", "delete tenant"})


class Stores:
    """The event loop of a run of examples, and each example's store of each backend.

    SQLite: a new in-memory database per example. PostgreSQL: the test's one database,
    emptied by ``reset_postgres`` first (much cheaper than a database per example).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        postgres: UnitOfWorkFactory | None = None,
        reset_postgres: Callable[[], None] | None = None,
    ) -> None:
        self.loop = loop
        self.postgres = postgres
        self.reset_postgres = reset_postgres
        self.opened: list[MemorySqliteUnitOfWorkFactory] = []

    def open(self, backend: str) -> UnitOfWorkFactory:
        if backend == "sqlite":
            factory = open_memory_sqlite(DIMENSION)
            self.opened.append(factory)
            return factory
        assert backend == "postgres", backend
        assert self.postgres is not None, "no PostgreSQL given"
        assert self.reset_postgres is not None, "no way to empty PostgreSQL given"
        self.reset_postgres()
        return self.postgres

    def release(self) -> None:
        """End the example: its SQLite databases are freed (PostgreSQL's is emptied next time)."""
        while self.opened:
            self.loop.run_until_complete(self.opened.pop().dispose())


def difference(found: object, expected: object, where: str = "") -> str:
    """Where two projections first differ, and how (rather than both in full)."""
    if isinstance(found, dict) and isinstance(expected, dict):
        for key in [*expected, *(k for k in found if k not in expected)]:
            if found.get(key, "(nothing)") != expected.get(key, "(nothing)"):
                return difference(
                    found.get(key, "(nothing)"), expected.get(key, "(nothing)"), f"{where}/{key}"
                )
    if isinstance(found, list) and isinstance(expected, list) and len(found) == len(expected):
        for n, (one, other) in enumerate(zip(found, expected, strict=True)):
            if one != other:
                return difference(one, other, f"{where}[{n}]")
    return f"{where}: {found!r} != {expected!r}"


def error_key(exc: Exception) -> tuple[str, object, object]:
    """What must agree between two failures: the class, and the field or kind it names."""
    return (type(exc).__name__, getattr(exc, "field", None), getattr(exc, "kind", None))


class Harness(RuleBasedStateMachine):
    """The model and ``backends``; the rules are UseCaseMachine's (state_machine.py)."""

    backends: ClassVar[tuple[str, ...]]
    stores: ClassVar[Stores]  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.loop = self.stores.loop
        self.clock = ManualClock(START)
        self.model = UseCaseModel(self.clock)
        self.content_changed = False
        try:
            self.sides = tuple(
                Side(name, index, self._app(self.stores.open(name)))
                for index, name in enumerate(self.backends)
            )
        except BaseException:
            self.stores.release()
            raise

    def _app(self, uow: UnitOfWorkFactory) -> TenantRag:
        return bootstrap(
            uow=uow,
            embedder=HashingEmbedder(dimension=DIMENSION),
            # Small chunks, so that short texts make several and ordinals matter.
            chunker=TextChunker(chunk_size=48, chunk_overlap=8),
            hasher=PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
            clock=self.clock,
        )

    def teardown(self) -> None:
        self.stores.release()

    def _track(self, label: str, ids: Sequence[Any]) -> tuple[Any, ...]:
        """Name each backend's id of a new thing by the model's label for it."""
        for side, ident in zip(self.sides, ids, strict=True):
            side.labels[ident] = label
        return tuple(ids)

    # --- one use case on the model and every backend ---

    def _step(self, what: str, model: Callable[[], M], op: Op[T]) -> tuple[M, list[T]] | None:
        """Run a use case on the model, then on every backend, a clock tick after the last step.

        Every backend fails as the model does (None is returned) or succeeds as it does
        (the model's value and the backends' are returned); anything else fails the test.
        """
        self.clock.advance(timedelta(seconds=1))
        error: TenantRagError | None = None
        try:
            expected = model()
        except TenantRagError as exc:
            error = exc
        values: list[T] = []
        for side, outcome in zip(self.sides, self._on_every_side(op), strict=True):
            if not isinstance(outcome, BaseException):
                if error is not None:
                    raise AssertionError(
                        f"{what}: the model raised {error!r} but {side.name} gave {outcome!r}"
                    )
                values.append(outcome)
            elif not isinstance(outcome, Exception) or error is None:
                raise AssertionError(
                    f"{what}: the model succeeded but {side.name} raised {outcome!r}"
                ) from outcome
            elif error_key(outcome) != error_key(error):
                raise AssertionError(
                    f"{what}: the model raised {error!r} but {side.name} {outcome!r}"
                ) from outcome
        event(f"{what}: {'ok' if error is None else type(error).__name__}")
        if error is not None:
            return None
        self.content_changed |= what in CHANGES_CONTENT
        return expected, values

    def _on_every_side(self, op: Op[T]) -> list[T | BaseException]:
        """``op`` on every backend at once (their waits overlap): what each returned or raised."""

        async def every_side() -> list[T | BaseException]:
            return await asyncio.gather(*(op(side) for side in self.sides), return_exceptions=True)

        return self.loop.run_until_complete(every_side())

    def _agree(self, what: str, model: Callable[[], object], op: Op[object]) -> None:
        """``_step``, and the backends' results must be equal."""
        result = self._step(what, model, op)
        if result is not None:
            self._same(what, result[1])

    def _same(self, what: str, values: Sequence[object]) -> None:
        for side, value in zip(self.sides[1:], values[1:], strict=True):
            assert value == values[0], f"{what}: {self.sides[0].name} has {values[0]} but {side.name} {value}"

    def _check_search(
        self, hits: list[list[Hit]], documents: dict[str, Document], k: int, tags: TagFilter
    ) -> None:
        """What the model knows of a search's hits (at most k, from the tenant's live documents
        at their current version, matching the tag filter); and backends agree on the rest."""
        for side, found in zip(self.sides, hits, strict=True):
            assert len(found) <= k, f"search: {side.name} found {len(found)} hits for k={k}"
            for hit in found:
                document = documents.get(str(hit.document))
                assert document is not None, f"search: {side.name} found {hit} outside the tenant's documents"
                assert hit.version == document.version, f"search: {side.name} found {hit} of {document}"
                if tags is not None:
                    op, wanted = tags
                    matches = (
                        set(wanted) <= set(document.tags)
                        if op == "$all"
                        else set(wanted) & set(document.tags)
                    )
                    assert matches, f"search for tags {tags}: {side.name} found {hit} of {document}"
        for side, found in zip(self.sides[1:], hits[1:], strict=True):
            problem = hits_differ(hits[0], found, k)
            assert problem is None, f"search: {self.sides[0].name} and {side.name} differ: {problem}"

    # --- the observable state ---

    @invariant()
    def backends_agree_with_the_model(self) -> None:
        details, self.content_changed = len(self.sides) > 1 and self.content_changed, False
        seen: list[tuple[State, State]] = []
        for outcome in self._on_every_side(lambda side: observe(side, details=details)):
            if isinstance(outcome, BaseException):
                raise outcome
            seen.append(outcome)
        expected = self.model.state()
        for side, (facts, _) in zip(self.sides, seen, strict=True):
            assert facts == expected, f"{side.name} (found) and the model: {difference(facts, expected)}"
        first = seen[0][1]
        for side, (_, more) in zip(self.sides[1:], seen[1:], strict=True):
            pair = f"{side.name} (found) and {self.sides[0].name}"
            assert more.keys() == first.keys(), f"{pair}: {difference(more, first)}"
            for part, value in first.items():
                if part.startswith("probe"):
                    problem = hits_differ(cast("list[Hit]", more[part]), cast("list[Hit]", value), PROBE_K)
                    assert problem is None, f"{pair}: {part}: {problem}"
                else:
                    assert more[part] == value, f"{pair}: {difference(more[part], value, part)}"
