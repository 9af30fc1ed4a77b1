"""An embedder for any OpenAI-compatible ``POST /embeddings`` endpoint.

OpenAI itself, Azure-style gateways, vLLM, Ollama, LiteLLM, Text Embeddings Inference...
all speak the same request (``model``, a list of ``input`` texts) and answer a ``data``
list of ``{index, embedding}``. Such services fail in ordinary ways (rate limits, restarts,
slow replies), so transient failures (connection errors, timeouts, 429, 5xx) are retried with
exponential backoff and jitter, honouring ``Retry-After``; anything else fails at once, since
sending the same request again gets the same answer.

Every failure is a domain error, so the HTTP API and the CLI report it like any other:
``Unavailable`` when the service cannot answer, ``InvalidInput("embedding_dimension", ...)``
when it answers with vectors of the wrong length for the store. Messages name the service
by its URL with any credentials replaced by ``***``; the API key is never in a message or a
log line, even when the service quotes it back in an error body.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Sequence
from typing import Any, Self
from urllib.parse import urlsplit

import attrs
import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from tenantrag.domain.errors import InvalidInput, Unavailable
from tenantrag.domain.model.embedding_model import MAX_DIMENSION

__all__ = ["DEFAULT_BASE_URL", "MAX_BATCH_SIZE", "Backoff", "OpenAICompatibleEmbedder", "redacted_url"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_BATCH_SIZE = 2048  # OpenAI's limit on inputs per request

# OpenAI's own models, so that a wrong dimension fails when the embedder is built rather than
# on the first document. Other names (local models, gateways' aliases) are checked per reply.
_NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_SHORTENABLE = frozenset({"text-embedding-3-small", "text-embedding-3-large"})
# How much of a service's error explanation a message quotes.
_QUOTE_LIMIT = 300


@attrs.frozen(kw_only=True)
class Backoff:
    """How long to wait between attempts: ``initial * 2**(n-1)`` capped at ``maximum``, plus jitter.

    The jitter (uniform in ``[0, jitter]``) keeps many workers that failed together from
    retrying together. A ``Retry-After`` from the service wins over the schedule, up to
    ``retry_after_cap`` so that a service asking for an hour does not hang ingestion.
    """

    initial: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    maximum: float = attrs.field(default=20.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    retry_after_cap: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        scheduled = min(self.maximum, self.initial * 2.0 ** min(attempt - 1, 32))
        return scheduled + random.uniform(0, self.jitter)  # noqa: S311 - jitter, not a secret


class _Transient(Exception):
    """A failure worth retrying; ``reason`` is safe to show (no key, no credentials)."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class OpenAICompatibleEmbedder:
    """An :class:`~tenantrag.domain.ports.embedder.Embedder` calling ``{base_url}/embeddings``.

    Texts go in batches of ``batch_size``, one batch at a time (a service's rate limit is
    per client, so parallel batches would only meet it sooner). Each request may take
    ``timeout`` seconds in all and is tried ``1 + max_retries`` times. With
    ``request_dimensions`` the request asks for ``dimension``-long vectors, for models that
    can shorten theirs (OpenAI's text-embedding-3 family).

    Vectors are checked to have ``dimension`` numbers and scaled to unit length, as every
    tenantrag embedder's are, so that inner-product search ranks like cosine whatever the
    server does.

    The embedder owns the HTTP client it makes and closes it in :meth:`aclose`; a ``client``
    passed in stays the caller's to close. ``transport`` replaces the network (tests).
    """

    def __init__(
        self,
        *,
        model: str,
        dimension: int,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        batch_size: int = 64,
        timeout: float = 30.0,
        max_retries: int = 5,
        request_dimensions: bool = False,
        backoff: Backoff | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        _check_arguments(model, dimension, batch_size, timeout, max_retries)
        _check_known_model(model, dimension, request_dimensions)
        self._url = _endpoint(base_url)
        self._shown_url = redacted_url(base_url)
        self._model = model
        self._dimension = dimension
        self._api_key = api_key or None
        self._batch_size = batch_size
        self._timeout = timeout
        self._max_retries = max_retries
        self._request_dimensions = request_dimensions
        self._backoff = backoff or Backoff()
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        return (
            f"OpenAICompatibleEmbedder(model={self._model!r}, dimension={self._dimension},"
            f" base_url={self._shown_url!r})"
        )

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def closed(self) -> bool:
        return self._client.is_closed

    async def aclose(self) -> None:
        """Close the HTTP client's connections, if the embedder made the client."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        batch = list(texts)
        vectors: list[tuple[float, ...]] = []
        for start in range(0, len(batch), self._batch_size):
            vectors.extend(await self._embed_batch(batch[start : start + self._batch_size]))
        return vectors

    async def embed_query(self, text: str) -> tuple[float, ...]:
        return (await self._embed_batch([text]))[0]

    # --- one batch ---------------------------------------------------------------------------

    async def _embed_batch(self, texts: list[str]) -> list[tuple[float, ...]]:
        body: dict[str, Any] = {"model": self._model, "input": texts, "encoding_format": "float"}
        if self._request_dimensions:
            body["dimensions"] = self._dimension
        response = await self._post_with_retries(body)
        return self._vectors(response, len(texts))

    async def _post_with_retries(self, body: dict[str, Any]) -> httpx.Response:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._post(body)
        except _Transient as failure:
            attempts = retrying.statistics.get("attempt_number", self._max_retries + 1)
            raise Unavailable(
                f"the embedding service at {self._shown_url} failed {attempts} time(s);"
                f" last: {failure.reason}",
                details={"service": self._shown_url, "status": failure.status, "attempts": attempts},
            ) from failure
        raise AssertionError("unreachable: tenacity returns the result or re-raises the last error")

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            # httpx's timeout bounds each read and write; this bounds the whole request.
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(
                    self._url, json=body, headers=headers, timeout=self._timeout
                )
        except (TimeoutError, httpx.TimeoutException) as error:
            raise _Transient(f"no answer within {self._timeout:g}s (timed out)") from error
        except (httpx.NetworkError, httpx.RemoteProtocolError) as error:
            raise _Transient(
                f"could not connect ({self._scrub(str(error)) or type(error).__name__})"
            ) from error
        except httpx.HTTPError as error:
            raise Unavailable(
                f"the embedding service at {self._shown_url} could not be called: {type(error).__name__}",
                details={"service": self._shown_url},
            ) from error
        self._check_status(response)
        return response

    def _check_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        shown = f"{status} {response.reason_phrase}".strip()
        explanation = self._explanation(response)
        if status >= 500 or (status == 429 and "insufficient_quota" not in explanation):
            raise _Transient(f"{shown}: {explanation}", status=status, retry_after=_retry_after(response))
        # Another 4xx (or a quota that retrying cannot refill): the same request gets the same answer.
        hint = "; check the API key" if status in (401, 403) else ""
        raise Unavailable(
            f"the embedding service at {self._shown_url} refused the request with {shown}:"
            f" {explanation}{hint}",
            details={"service": self._shown_url, "status": status, "attempts": 1},
        )

    def _vectors(self, response: httpx.Response, count: int) -> list[tuple[float, ...]]:
        try:
            payload = response.json()
        except ValueError:
            raise self._malformed("the body is not JSON") from None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != count:
            got = len(data) if isinstance(data, list) else "no"
            raise self._malformed(f"{got} embeddings for {count} texts")
        ordered: list[tuple[float, ...] | None] = [None] * count
        for item in data:
            index = item.get("index") if isinstance(item, dict) else None
            embedding = item.get("embedding") if isinstance(item, dict) else None
            # The API documents an index per item; nothing promises the list is in order.
            if type(index) is not int or not 0 <= index < count or ordered[index] is not None:
                raise self._malformed(f"embedding indexes must be 0 to {count - 1}, each once")
            if not isinstance(embedding, list):
                raise self._malformed(f"embedding {index} is not a list of numbers")
            if len(embedding) != self._dimension:
                raise InvalidInput(
                    "embedding_dimension",
                    f"the model {self._model!r} returned {len(embedding)}-dimensional vectors,"
                    f" expected {self._dimension}",
                )
            ordered[index] = self._unit(embedding, index)
        return [vector for vector in ordered if vector is not None]

    def _unit(self, embedding: list[Any], index: int) -> tuple[float, ...]:
        # type() rather than isinstance(): JSON true/false would pass as 1 and 0.
        if not all(type(x) is float or type(x) is int for x in embedding):
            raise self._malformed(f"embedding {index} is not a list of numbers")
        norm = math.sqrt(math.fsum(x * x for x in embedding))
        if not math.isfinite(norm) or norm == 0.0:
            raise self._malformed(f"embedding {index} is zero or not finite")
        return tuple(x / norm for x in embedding)

    # --- retries and messages ----------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, self._backoff.retry_after_cap)
        return self._backoff.delay(state.attempt_number)

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        reason = failure.reason if isinstance(failure, _Transient) else "failed"
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "embedding request to %s failed (%s); attempt %d of %d, next in %.2fs",
            self._shown_url,
            reason,
            state.attempt_number,
            self._max_retries + 1,
            wait,
        )

    def _explanation(self, response: httpx.Response) -> str:
        """The service's own words for an error, key scrubbed and shortened."""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            text = " ".join(str(error[key]) for key in ("message", "code") if error.get(key))
        elif isinstance(error, str):
            text = error
        else:
            text = response.text
        return self._scrub(" ".join(text.split()))[:_QUOTE_LIMIT] or "no explanation"

    def _scrub(self, text: str) -> str:
        # A service may quote the key back ("Incorrect API key provided: sk-..."); never repeat it.
        return text.replace(self._api_key, "***") if self._api_key else text

    def _malformed(self, problem: str) -> Unavailable:
        return Unavailable(
            f"the embedding service at {self._shown_url} sent a malformed reply: {problem}",
            details={"service": self._shown_url},
        )


def redacted_url(url: str) -> str:
    """``url`` safe to show: user and password become ``***``, and so does a query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address lost its brackets
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    userinfo = "***@" if parts.username or parts.password else ""
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{userinfo}{host}{port}{parts.path.rstrip('/')}{query}"


def _endpoint(base_url: str) -> httpx.URL:
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidInput("base_url", f"must be an http:// or https:// URL (got {redacted_url(base_url)!r})")
    # Joined on the path, so that a query (an Azure-style ?api-version=) is kept.
    return url.copy_with(path=url.path.rstrip("/") + "/embeddings")


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, from a number or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _check_arguments(model: str, dimension: int, batch_size: int, timeout: float, max_retries: int) -> None:
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput("model", "must be a model name")
    for field, value, low, high in (
        ("dimension", dimension, 1, MAX_DIMENSION),
        ("batch_size", batch_size, 1, MAX_BATCH_SIZE),
        ("max_retries", max_retries, 0, 100),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(field, f"must be an integer from {low} to {high} (got {value!r})")
    if not timeout > 0:
        raise InvalidInput("timeout", f"must be more than 0 seconds (got {timeout!r})")


def _check_known_model(model: str, dimension: int, request_dimensions: bool) -> None:
    native = _NATIVE_DIMENSIONS.get(model)
    if native is None:
        return
    if request_dimensions and model not in _SHORTENABLE:
        raise InvalidInput("request_dimensions", f"{model} cannot shorten its {native}-dimensional vectors")
    if request_dimensions and dimension > native:
        raise InvalidInput(
            "embedding_dimension", f"{model} makes at most {native} dimensions (got {dimension})"
        )
    if not request_dimensions and dimension != native:
        shorten = ", or request shortened vectors" if model in _SHORTENABLE else ""
        raise InvalidInput(
            "embedding_dimension",
            f"{model} makes {native}-dimensional vectors, not {dimension}: use {native}{shorten}",
        )
