"""Building the app under test, and the assertions the HTTP tests share."""

from __future__ import annotations

import httpx
import pytest

from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.entrypoints.container import Container, container_for
from tenantrag.entrypoints.settings import MEMORY_URL, Settings

DIMENSION = 64
SECRET = "http-tests-secret-" + "0123456789abcdef" * 4  # long enough for HS512 too
BASE_URL = "http://testserver"

# For what does not depend on the backend (the OpenAPI document, the envelope): memory://
# only (SQLite on an in-memory database).
memory_only = pytest.mark.parametrize(
    "database_url", [pytest.param(MEMORY_URL, marks=pytest.mark.memory, id="memory")]
)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "environment": "test",
        "jwt_secret_key": SECRET,
        # Hashing: fast, deterministic, and at a dimension of the tests' choosing.
        "embedder": "hashing",
        "embedding_dimension": DIMENSION,
        # Tests run queued jobs themselves (test_embedded_worker runs it on purpose).
        "embedded_worker": False,
        **overrides,
    }
    return Settings(**values)


def make_container(settings: Settings) -> Container:
    container = container_for(settings)
    # Cheap Argon2 parameters: these tests check behaviour, not hash strength.
    container.hasher.override(PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return container


def assert_problem(response: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    """The response is an RFC 9457 problem with this status and code (and field)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:tenantrag:problem:{code}"
    assert body["instance"] == response.request.url.path
    if field is not None:
        assert body["field"] == field
