"""Schemathesis against the app's own OpenAPI document: the document is what the API does.

Two runs over every operation, each bounded (a few examples per operation) so the
suite stays fast:

- without credentials: no 5xx, and every operation that declares security answers 401;
- as the owner of a seeded tenant, with that tenant in every ``{tenant}`` path, so
  generated bodies and parameters reach the use cases: no 5xx, every status, media
  type and body as documented, schema-invalid input refused (schemathesis' checks).

Schemathesis drives the ASGI app itself, on its own event loop thread, and starts
the app's lifespan there; the seeding runs inside that lifespan so the tenant and
the token live in the loop the requests are served from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.http.context import ApiContext
from tenantrag.entrypoints.settings import MEMORY_URL
from tests.http.helpers import make_container, make_settings
from tests.http.world import build_world

EXAMPLES = 8
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
CONFIG = {
    # Examples and fuzzing; the coverage phase enumerates every boundary of every field, which
    # is thorough but takes minutes on this many operations.
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    # "Schema-valid data is accepted" cannot hold for values only the domain can judge: an
    # opaque cursor, a blank name, an email, a 64 KiB metadata cap. They answer a documented
    # 422 naming the field. Schema-invalid data must still be refused, 413 (an oversized
    # body) being one way of refusing it.
    "checks": {
        "positive_data_acceptance": {"enabled": False},
        "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422]},
    },
    # Multipart fields are text: a "number" in a form field is the string "0.0", a valid tag.
    "operations": [
        {
            "include-path": "/v1/tenants/{tenant}/documents/upload",
            "checks": {"negative_data_rejection": {"enabled": False}},
        }
    ],
    # The seeded tenant, by its slug: negative cases then mutate everything but the tenant.
    "parameters": {"path.tenant": "acme-research"},
}


class Seeded:
    """What the lifespan seeded: filled in on the app's loop, read by the tests."""

    headers: dict[str, str] | None = None


def _seeding(app: FastAPI, seeded: Seeded) -> None:
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with serve(app) as state:
            context = app.state.tenantrag
            assert isinstance(context, ApiContext)
            world = await build_world(context.rag, context.config.tokens)
            seeded.headers = world.owner_headers()
            await context.rag.ingestion.add_text(
                world.owner, world.tenant.id, filename="a.md", text="Cats purr."
            )
            yield state

    app.router.lifespan_context = lifespan


# Built at import, as schemathesis parametrizes at collection (its fixture-based loader,
# schemathesis.pytest.from_fixture, sets Node._nodeid, which pytest 9 no longer has). Nothing
# runs until a request starts the lifespan; memory:// leaves nothing to clean up.
SEEDED = Seeded()
APP = create_app(make_container(make_settings(MEMORY_URL, max_upload_bytes=64 * 1024)))
_seeding(APP, SEEDED)
schema = schemathesis.openapi.from_dict(APP.openapi(), config=SchemathesisConfig.from_dict(CONFIG))
schema.app = APP

pytestmark = pytest.mark.memory


@schema.parametrize()
@FUZZ_SETTINGS
def test_without_credentials_protected_operations_answer_401(case: Any) -> None:
    response = case.call_and_validate()
    if case.operation.definition.raw.get("security"):
        # 413 comes first for an oversized body: the size limit is checked before anything is read.
        assert response.status_code in {401, 413}, response.text


@schema.parametrize()
@FUZZ_SETTINGS
def test_an_owner_gets_no_server_errors_and_only_documented_answers(case: Any) -> None:
    # call_and_validate runs schemathesis' checks (response schemas included) and raises on failure.
    response = case.call_and_validate(headers=SEEDED.headers)
    assert response.status_code < 500, response.text
    documented = set(case.operation.definition.raw["responses"])
    assert str(response.status_code) in documented or "default" in documented, (
        response.status_code,
        sorted(documented),
    )
