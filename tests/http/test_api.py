"""The API's envelope: problem+json for every error, strict JSON, and a complete OpenAPI document."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from dependency_injector import providers

from tenantrag.adapters.sql.migrations import MigrationError
from tenantrag.domain.errors import Unavailable
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import MEMORY_URL
from tests.http.helpers import BASE_URL, DIMENSION, assert_problem, make_container, make_settings, memory_only
from tests.http.world import World
from tests.wrapped_store import WrappedStore


@memory_only
async def test_unknown_paths_and_methods_are_problems(client: httpx.AsyncClient, world: World) -> None:
    assert_problem(await client.get("/v1/nowhere"), 404, "not_found")
    wrong_method = await client.put(
        f"/v1/tenants/{world.tenant.id}/search", headers=world.as_role(Role.OWNER)
    )
    assert_problem(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"


async def test_bodies_that_json_cannot_carry_back_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/v1/tenants/{world.tenant.id}/query-logs"
    headers = {**world.as_role(Role.VIEWER), "content-type": "application/json"}
    for raw in (
        b'{"query": "q", "latency_ms": NaN}',
        b'{"query": "q", "latency_ms": Infinity}',
        b'{"query": "\\ud800"}',
        b'{"query": "q", "metadata": {"\\udfff": 1}}',
        b'{"query": "q", ',
        b'{"query": "\xff"}',
    ):
        response = await client.post(url, content=raw, headers=headers)
        assert_problem(response, 422, "invalid_input", field="body")


@memory_only
async def test_credentials_are_checked_before_the_body_is_read(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/v1/tenants/{world.tenant.id}/documents"
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"X-API-Key": "trk_nope"}):
        response = await client.post(
            url, content=b"not json", headers={**headers, "content-type": "application/json"}
        )
        assert_problem(response, 401, "authentication_failed")


@memory_only
async def test_an_unknown_query_parameter_is_refused_like_an_unknown_field(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/v1/tenants/{world.tenant.id}/documents"
    response = await client.get(url, params={"stauts": "failed"}, headers=world.as_role(Role.VIEWER))
    assert_problem(response, 422, "invalid_input", field="stauts")


@memory_only
async def test_path_ids_are_validated(client: httpx.AsyncClient, world: World) -> None:
    owner = world.as_role(Role.OWNER)
    bad_id = await client.get(f"/v1/tenants/{world.tenant.id}/documents/not-a-uuid", headers=owner)
    assert_problem(bad_id, 422, "invalid_input", field="document_id")
    bad_ref = await client.get("/v1/tenants/Not_A_Slug", headers=owner)
    assert_problem(bad_ref, 422, "invalid_input", field="tenant")


async def test_tenants_are_created_read_renamed_and_addressed_by_slug(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world.as_role(Role.OWNER)
    created = await client.post("/v1/tenants", json={"name": "Initech", "settings": {"a": 1}}, headers=owner)
    assert created.status_code == 201, created.text
    tenant = created.json()
    assert (tenant["slug"], tenant["settings"]) == ("initech", {"a": 1})
    assert (await client.get("/v1/tenants/initech", headers=owner)).json() == tenant
    renamed = await client.patch(f"/v1/tenants/{tenant['id']}", json={"name": "Initech Corp"}, headers=owner)
    assert (renamed.json()["name"], renamed.json()["slug"]) == ("Initech Corp", "initech")
    clash = await client.post("/v1/tenants", json={"name": "Initech"}, headers=owner)
    assert_problem(clash, 409, "conflict")
    no_slug = await client.post("/v1/tenants", json={"name": "!!!"}, headers=owner)
    assert_problem(no_slug, 422, "invalid_input", field="slug")


# --- the OpenAPI document ---------------------------------------------------------------------


async def _schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


@memory_only
async def test_every_operation_declares_its_security_and_problems(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert (
        schema["components"]["securitySchemes"]["bearer"]["flows"]["password"]["tokenUrl"] == "/v1/auth/token"
    )
    public = {
        ("/v1/auth/token", "post"),
        ("/v1/auth/signup", "post"),
        ("/health", "get"),
        ("/health/ready", "get"),
    }
    operation_ids = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            responses = operation["responses"]
            if (path, method) in public:
                assert "security" not in operation
            else:
                assert operation["security"] == [{"bearer": []}, {"apiKey": []}], path
                assert "401" in responses, (path, method)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, (path, method)
            if path.startswith("/v1/tenants/{tenant}"):
                assert "404" in responses, (path, method)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (path, method, status)
                    assert response["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }
    assert len(operation_ids) == len(set(operation_ids))
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@memory_only
async def test_documents_accept_json_and_multipart(client: httpx.AsyncClient) -> None:
    paths = (await _schema(client))["paths"]
    json_body = paths["/v1/tenants/{tenant}/documents"]["post"]["requestBody"]["content"]
    assert list(json_body) == ["application/json"]
    upload = paths["/v1/tenants/{tenant}/documents/upload"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]


@memory_only
async def test_the_limits_in_the_document_are_the_settings(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    limit = next(
        p
        for p in schema["paths"]["/v1/tenants/{tenant}/documents"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert (limit["schema"]["maximum"], limit["schema"]["default"]) == (100, 50)
    k = schema["components"]["schemas"]["SearchRequest"]["properties"]["k"]
    assert (k["maximum"], k["default"]) == (100, 10)


class _FlakyStore(WrappedStore):
    """Users can be read (so tokens work), but every tenant transaction fails as ``error`` says."""

    def __init__(self, dimension: int, error: Exception) -> None:
        super().__init__(dimension)
        self.error = error

    def tenant(self, tenant_id: uuid.UUID, *, read_only: bool = False) -> TenantUnitOfWork:
        raise self.error


async def test_store_failures_are_5xx_problems_that_reveal_nothing() -> None:
    for error, status, code in (
        (Unavailable("timeout talking to db.internal:5432 as admin"), 503, "unavailable"),
        (MigrationError("alembic failed on db.internal:5432"), 500, "migration_failed"),
    ):
        container = make_container(make_settings(MEMORY_URL))
        flaky = _FlakyStore(DIMENSION, error)
        container.uow_factory.override(providers.Object(flaky))
        app = create_app(container)
        async with app.router.lifespan_context(app):
            context = app.state.tenantrag
            user = await context.rag.users.register(email="a@example.com")
            headers = {"Authorization": f"Bearer {context.config.tokens.issue(user.id).token}"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                response = await client.get(f"/v1/tenants/{uuid.uuid4()}/documents", headers=headers)
        await flaky.dispose()  # an overriding provider is the test's to close
        assert_problem(response, status, code)
        assert "db.internal" not in response.text
        assert response.headers.get("retry-after") == ("1" if status == 503 else None)
