"""The API's routers: their routes authenticate before reading a body, and decode JSON strictly.

A protected route checks credentials before the body is parsed, so an unauthenticated
request answers 401 whatever its body, rather than revealing how bodies are validated.
A query parameter the route does not declare is a 422, as an unknown body field is:
``?stauts=failed`` must not silently list every document.

JSON is decoded without NaN or Infinity and without lone surrogates. Python's ``json``
module accepts both, but neither survives the way back out: NaN is not JSON, and a
string holding a lone surrogate (``"\\ud800"``) cannot be encoded as UTF-8, so it
would fail in the database driver or the response encoder as a 500. Refusing them
while decoding makes them a 422 that names the body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.http.auth import authenticate, authenticate_request


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises ``json.JSONDecodeError`` on NaN, Infinity and lone surrogates."""
    try:
        source = text if isinstance(text, str) else text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError("the body is not UTF-8", "", exc.start) from None
    value = json.loads(source, parse_constant=_no_constant(source))
    if not _encodable(value):
        raise json.JSONDecodeError("strings must be valid Unicode (no lone surrogates)", source, 0)
    return value


def _no_constant(source: str) -> Any:
    def refuse(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not JSON", source, source.find(name))

    return refuse


def _encodable(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """An APIRoute that authenticates first (when it needs a principal) and decodes JSON strictly."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()
        protected = _depends_on(self.dependant, authenticate)
        known_query = frozenset(_query_names(self.dependant))

        async def strict_handler(request: Request) -> Response:
            strict = StrictJsonRequest(request.scope, request.receive)
            if protected:
                await authenticate_request(strict)
            for name in strict.query_params:
                if name not in known_query:
                    raise InvalidInput(name, "is not a query parameter of this operation")
            response: Response = await handler(strict)
            return response

        return strict_handler


def _query_names(dependant: Dependant) -> Iterator[str]:
    yield from (field.alias for field in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


def api_router(*, prefix: str, tag: str) -> APIRouter:
    """A resource's router: its path prefix and OpenAPI tag, with :class:`StrictJsonRoute`'s rules."""
    return APIRouter(prefix=prefix, tags=[tag], route_class=StrictJsonRoute)
