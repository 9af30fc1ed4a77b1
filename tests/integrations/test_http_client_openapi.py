"""The HTTP clients checked against the API they talk to, so that drift fails the suite:

- every request the client sends (each public method, with every option) targets an
  operation of the app's OpenAPI document, with query parameters, JSON fields and form
  fields the operation declares, and is answered with a status it declares;
- the sync and async clients offer the same methods with the same parameters;
- every error code the server maps to a status is raised as the domain class declaring it.
"""

from __future__ import annotations

import inspect
import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import httpx
import pytest

from tenantrag.domain.errors import TenantRagError
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.http.context import ApiContext
from tenantrag.entrypoints.http.errors import DOMAIN_STATUS, HTTP_CODES
from tenantrag.entrypoints.settings import MEMORY_URL
from tenantrag.integrations.http_client import AsyncTenantragClient, TenantragClient
from tenantrag.integrations.http_client_errors import ApiProblem, error_class, error_from
from tests.http.helpers import BASE_URL, make_container, make_settings

pytestmark = pytest.mark.memory
PASSWORD = "a long passphrase"


@attrs.frozen
class Recorded:
    exchanges: list[tuple[httpx.Request, httpx.Response]]
    called: set[str]
    openapi: dict[str, Any]


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in {"close", "aclose"}
    }


@pytest.fixture
async def recorded() -> AsyncIterator[Recorded]:
    """Every public method of the async client called once, every option given, on memory://."""
    app = create_app(make_container(make_settings(MEMORY_URL)))
    exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        await response.request.aread()  # a multipart body is a stream: keep its bytes
        exchanges.append((response.request, response))

    async with app.router.lifespan_context(app):
        context = app.state.tenantrag
        assert isinstance(context, ApiContext)
        user = await context.rag.users.register(email="owner@example.com", password=PASSWORD)
        tenant = await context.rag.tenants.create(Principal.user(user.id), name="Acme")
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), event_hooks={"response": [keep]})
        async with (
            http,
            AsyncTenantragClient(BASE_URL, email="owner@example.com", password=PASSWORD, http=http) as client,
        ):
            called = await _call_everything(client, tenant.slug)
        yield Recorded(exchanges, called, app.openapi())


async def _call_everything(client: AsyncTenantragClient, tenant: str) -> set[str]:
    called: set[str] = set()

    def use(name: str) -> Callable[..., Awaitable[Any]]:
        called.add(name)
        method: Callable[..., Awaitable[Any]] = getattr(client, name)
        return method

    await use("me")()
    await use("my_tenants")()
    made = await use("create_tenant")("Scratch", slug="scratch", settings={"tier": "free"})
    await use("get_tenant")(made.id)
    await use("update_tenant")(made.slug, name="Scratch Two", settings={"tier": "paid"})
    await use("delete_tenant")(made.slug)
    added = await use("add_text")(
        tenant, filename="cats.md", text="Cats purr.", title="Cats", media_type="text/markdown",
        metadata={"year": 2024}, tags=["pets"], source_key="kb/cats.md", wait=True,
    )  # fmt: skip
    uploaded = await use("upload")(
        tenant, b"Dogs bark.", filename="dogs.txt", media_type="text/plain", title="Dogs",
        metadata={"year": 2023}, tags=["pets", "dogs"], source_key="kb/dogs.txt", wait=True,
    )  # fmt: skip
    document = added.document.id
    await use("list_documents")(tenant, status="completed", tag="pets", limit=5, cursor=None)
    await use("get_document")(tenant, document)
    await use("document_chunks")(tenant, document, embeddings=True)
    await use("document_versions")(tenant, document)
    await use("list_jobs")(tenant, document_id=document, limit=5)
    await use("get_job")(tenant, added.job.id)
    await use("wait_for_job")(tenant, added.job.id, timeout=5, interval=0.01)
    found = await use("search")(
        tenant, "cats", embedding=None, mode="hybrid", k=3, filter={"tags": {"$any": ["pets"]}},
        match="websearch", group="documents",
        hybrid={"method": "rrf", "rrf_k": 10, "vector_weight": 1.0, "text_weight": 2.0, "candidates": 20},
    )  # fmt: skip
    await use("search")(tenant, embedding=[0.1] * 64, mode="vector", k=2)
    await use("get_query_log")(tenant, found.query_log_id)
    await use("give_feedback")(tenant, found.query_log_id, "thumbs_up", quality_score=0.5)
    await use("delete_document")(tenant, uploaded.document.id)
    return called


def test_every_client_method_was_exercised(recorded: Recorded) -> None:
    assert recorded.called == set(_public(AsyncTenantragClient))


def test_every_request_is_an_operation_of_the_openapi_document(recorded: Recorded) -> None:
    operations = recorded.openapi["paths"]
    assert len(recorded.exchanges) > len(recorded.called)  # the login, and polling
    for request, response in recorded.exchanges:
        where = f"{request.method} {request.url.path}"
        operation = _operation(operations, request)
        assert operation is not None, f"{where}: no such operation in the OpenAPI document"
        assert str(response.status_code) in operation["responses"], (
            f"{where}: answered {response.status_code}"
        )
        assert response.is_success, f"{where}: {response.text}"

        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert set(request.url.params) <= declared, f"{where}: query {set(request.url.params) - declared}"

        media_type = request.headers.get("content-type", "").split(";")[0]
        if not request.content:
            continue
        content = operation["requestBody"]["content"]
        assert media_type in content, f"{where}: sends {media_type}, the API takes {set(content)}"
        schema = content[media_type]["schema"]
        if media_type == "application/json":
            _check_json(httpx.Response(200, content=request.content).json(), schema, recorded.openapi, where)
        else:
            fields = _form_fields(request, media_type)
            properties = set(_resolve(schema, recorded.openapi).get("properties", {}))
            assert fields <= properties, f"{where}: form fields {fields - properties}"


def _operation(paths: dict[str, Any], request: httpx.Request) -> dict[str, Any] | None:
    """The operation whose path template matches (a literal segment beats a parameter)."""
    candidates = [
        template
        for template, item in paths.items()
        if request.method.lower() in item
        and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), request.url.path)
    ]
    if not candidates:
        return None
    template = min(candidates, key=lambda t: t.count("{"))
    operation: dict[str, Any] = paths[template][request.method.lower()]
    return operation


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _check_json(value: Any, schema: dict[str, Any], document: dict[str, Any], where: str) -> None:
    """Every key of every object sent is a property its schema declares (free-form maps aside)."""
    schema = _resolve(schema, document)
    options = [_resolve(option, document) for option in schema.get("anyOf", [schema])]
    objects = [option for option in options if "properties" in option]
    if not isinstance(value, dict) or not objects:
        return
    properties: dict[str, Any] = objects[0]["properties"]
    assert set(value) <= set(properties), f"{where}: fields {set(value) - set(properties)}"
    for key, item in value.items():
        _check_json(item, properties[key], document, f"{where} {key}")


def _form_fields(request: httpx.Request, media_type: str) -> set[str]:
    if media_type == "application/x-www-form-urlencoded":
        return set(urllib.parse.parse_qs(request.content.decode()))
    return {
        name.decode()
        for name in re.findall(rb'Content-Disposition: form-data; name="([^"]+)"', request.content)
    }


def test_the_sync_and_async_clients_offer_the_same_methods() -> None:
    sync, asynchronous = _public(TenantragClient), _public(AsyncTenantragClient)
    assert set(sync) == set(asynchronous)
    for name, signature in sync.items():
        assert signature.parameters == asynchronous[name].parameters, name
        assert signature.return_annotation == asynchronous[name].return_annotation, name


@pytest.mark.parametrize("code", sorted(DOMAIN_STATUS))
def test_every_code_the_server_sends_comes_back_as_its_domain_class(code: str) -> None:
    cls = error_class(code)
    assert cls is not None
    assert issubclass(cls, TenantRagError)
    assert cls.code == code
    problem = {
        "code": code,
        "detail": "field_x: went wrong",
        "field": "field_x",
        "status": DOMAIN_STATUS[code],
    }
    response = httpx.Response(
        DOMAIN_STATUS[code], json=problem, request=httpx.Request("GET", "http://testserver/v1/x")
    )
    error = error_from(response)
    assert type(error) is cls
    assert (error.code, error.message, error.details["status"]) == (
        code,
        "field_x: went wrong",
        DOMAIN_STATUS[code],
    )


@pytest.mark.parametrize("status", sorted(HTTP_CODES))
def test_what_the_http_layer_refuses_is_its_domain_class_or_an_api_problem(status: int) -> None:
    """401, 403, 404, 422 and 503 share the domain's codes; the others (a malformed body, a
    payload too large...) name no domain error and keep their status and code."""
    code = HTTP_CODES[status]
    response = httpx.Response(
        status, json={"code": code, "detail": "no"}, request=httpx.Request("POST", "http://testserver/v1/x")
    )
    error = error_from(response)
    expected = error_class(code)
    if expected is not None:
        assert type(error) is expected
    else:
        assert isinstance(error, ApiProblem)
        assert (error.status, error.problem_code, error.message) == (status, code, "no")
    if status in {400, 405, 413, 500}:  # no domain error stands for these
        assert isinstance(error, ApiProblem)
