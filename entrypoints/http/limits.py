"""The deployment's size limits (settings), and the middleware that bounds request bodies.

The body limit is enforced before anything reads the body: a declared
``Content-Length`` over the limit is answered 413 at once, and a body streamed
without one is counted as it arrives and cut off at the limit, so no request can
make the server buffer more than the limit. The document routes then check the
exact upload (file bytes, or text as UTF-8) against ``max_upload_bytes``.
"""

from __future__ import annotations

import attrs
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.http.errors import problem_response

DEFAULT_PAGE_SIZE = 50
DEFAULT_K = 10
# Room for what surrounds an upload: multipart boundaries and form fields, JSON framing.
ENVELOPE_BYTES = 64 * 1024


@attrs.frozen(kw_only=True)
class Limits:
    max_page_size: int
    max_k: int
    max_upload_bytes: int

    @property
    def default_page_size(self) -> int:
        return min(DEFAULT_PAGE_SIZE, self.max_page_size)

    @property
    def default_k(self) -> int:
        return min(DEFAULT_K, self.max_k)

    @property
    def max_body_bytes(self) -> int:
        return self.max_upload_bytes + ENVELOPE_BYTES

    def page_size(self, requested: int | None) -> int:
        if requested is None:
            return self.default_page_size
        if not 1 <= requested <= self.max_page_size:
            raise InvalidInput("limit", f"must be from 1 to {self.max_page_size}, got {requested}")
        return requested

    def k(self, requested: int | None) -> int:
        if requested is None:
            return self.default_k
        if not 1 <= requested <= self.max_k:
            raise InvalidInput("k", f"must be from 1 to {self.max_k}, got {requested}")
        return requested

    def check_upload(self, size: int) -> None:
        if size > self.max_upload_bytes:
            raise PayloadTooLarge(
                f"the document is {size} bytes; at most {self.max_upload_bytes} are accepted"
            )


class PayloadTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through to the problem handler."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


class BodySizeLimit:
    """Pure ASGI middleware: refuse request bodies over ``max_bytes`` with a 413 problem."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = problem_response(
                scope["path"],
                status=413,
                code="payload_too_large",
                detail=self._detail(f"is {declared} bytes"),
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self._detail(f"exceeds {self.max_bytes} bytes"))
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self, size: str) -> str:
        return f"the request body {size}; at most {self.max_bytes} are accepted"


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None
