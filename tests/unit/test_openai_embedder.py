"""OpenAICompatibleEmbedder against a real HTTP server on loopback, scripted to misbehave.

The fake server speaks just enough of ``POST /v1/embeddings``: it records every request
(path, headers, body, time) and answers from a script of replies (an error status with
Retry-After, a slow reply, shuffled indexes, the wrong dimension...), then, once the script
runs out, with well-formed embeddings. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tenantrag.adapters.embedders.openai_compatible import Backoff, OpenAICompatibleEmbedder, redacted_url
from tenantrag.domain.errors import InvalidInput, Unavailable
from tenantrag.domain.ports.embedder import Embedder

DIMENSION = 8
MODEL = "fake-embed-1"
KEY = "sk-test-0123456789abcdefSECRET"
# Retries in tests wait milliseconds, not seconds.
FAST = Backoff(initial=0.001, maximum=0.005, jitter=0.001, retry_after_cap=5.0)


def fake_vector(text: str, dimension: int = DIMENSION, scale: float = 1.0) -> list[float]:
    """A unit vector (times ``scale``) that identifies ``text``: tests can tell which text it was."""
    angle = zlib.crc32(text.encode()) / 2**32 * 2 * math.pi
    return [scale * math.cos(angle), scale * math.sin(angle)] + [0.0] * (dimension - 2)


@dataclass
class Reply:
    """One scripted answer; the defaults are a well-formed reply."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    dimension: int | None = None
    reverse: bool = False
    scale: float = 1.0
    message: str = "scripted failure"
    code: str | None = None
    raw: bytes | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class FakeEmbeddingsServer:
    """A ThreadingHTTPServer on 127.0.0.1 and an ephemeral port, in a background thread."""

    def __init__(self, dimension: int = DIMENSION) -> None:
        self.dimension = dimension
        self.script: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # wakes slow replies when the test ends
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def then(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def __enter__(self) -> FakeEmbeddingsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[Reply, bytes]:
        body = json.loads(raw)
        with self._lock:
            self.requests.append(Recorded(path, headers, body, time.monotonic()))
            reply = self.script.popleft() if self.script else Reply()
        if reply.delay:
            self._stopping.wait(reply.delay)
        if reply.raw is not None:
            return reply, reply.raw
        if reply.status != 200:
            error = {"message": reply.message, "type": "fake_error", "code": reply.code}
            return reply, json.dumps({"error": error}).encode()
        dimension = reply.dimension or body.get("dimensions") or self.dimension
        data = [
            {"object": "embedding", "index": index, "embedding": fake_vector(text, dimension, reply.scale)}
            for index, text in enumerate(body["input"])
        ]
        if reply.reverse:
            data.reverse()
        return reply, json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reply, payload = fake._answer(self.path, dict(self.headers.items()), raw)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (the timeout tests)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables: a developer's proxy must not see (or break) loopback calls."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)


@pytest.fixture
def server() -> Iterator[FakeEmbeddingsServer]:
    with FakeEmbeddingsServer() as running:
        yield running


def embedder_for(server: FakeEmbeddingsServer, **options: Any) -> OpenAICompatibleEmbedder:
    values: dict[str, Any] = {
        "model": MODEL,
        "dimension": DIMENSION,
        "base_url": server.url,
        "api_key": KEY,
        "backoff": FAST,
        "timeout": 5.0,
    }
    return OpenAICompatibleEmbedder(**{**values, **options})


def assert_vectors(vectors: list[tuple[float, ...]], texts: list[str]) -> None:
    assert len(vectors) == len(texts)
    for vector, text in zip(vectors, texts, strict=True):
        assert vector == pytest.approx(tuple(fake_vector(text)), abs=1e-9)


# --- the happy path ------------------------------------------------------------------------


async def test_texts_go_in_batches_and_come_back_in_order(server: FakeEmbeddingsServer) -> None:
    texts = [f"text number {n}" for n in range(5)]
    async with embedder_for(server, batch_size=2) as embedder:
        vectors = await embedder.embed_documents(texts)

    assert_vectors(vectors, texts)
    assert [request.body["input"] for request in server.requests] == [texts[0:2], texts[2:4], texts[4:5]]
    assert {request.path for request in server.requests} == {"/v1/embeddings"}
    first = server.requests[0].body
    assert (first["model"], first["encoding_format"]) == (MODEL, "float")
    assert "dimensions" not in first


async def test_the_key_is_sent_as_a_bearer_token(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server) as embedder:
        await embedder.embed_query("hello")
    async with embedder_for(server, api_key=None) as anonymous:
        await anonymous.embed_query("hello")

    assert server.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert "Authorization" not in server.requests[1].headers


async def test_dimensions_are_requested_only_when_asked(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server, request_dimensions=True) as embedder:
        vector = await embedder.embed_query("shorten me")

    assert server.requests[0].body["dimensions"] == DIMENSION
    assert server.requests[0].body["input"] == ["shorten me"]
    assert vector == pytest.approx(tuple(fake_vector("shorten me")))


async def test_out_of_order_indexes_are_put_back_in_order(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(reverse=True))
    texts = ["alpha", "beta", "gamma", "delta"]
    async with embedder_for(server) as embedder:
        vectors = await embedder.embed_documents(texts)

    assert_vectors(vectors, texts)


async def test_vectors_are_scaled_to_unit_length(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(scale=3.5))
    async with embedder_for(server) as embedder:
        (vector,) = await embedder.embed_documents(["loud"])

    assert math.sqrt(math.fsum(x * x for x in vector)) == pytest.approx(1.0)
    assert vector == pytest.approx(tuple(fake_vector("loud")))


async def test_no_texts_make_no_request(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server) as embedder:
        assert await embedder.embed_documents([]) == []
    assert server.requests == []


async def test_it_is_an_embedder_named_after_its_model(server: FakeEmbeddingsServer) -> None:
    async with embedder_for(server) as embedder:
        port: Embedder = embedder
        assert (port.name, port.dimension) == (f"openai:{MODEL}", DIMENSION)
        assert KEY not in repr(embedder)


# --- retries -------------------------------------------------------------------------------


async def test_a_server_error_is_retried_until_it_succeeds(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(status=500), Reply(status=502))
    async with embedder_for(server, max_retries=3) as embedder:
        vector = await embedder.embed_query("again")

    assert len(server.requests) == 3
    assert vector == pytest.approx(tuple(fake_vector("again")))


async def test_a_rate_limit_waits_as_long_as_retry_after_says(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(status=429, headers={"Retry-After": "0.3"}, message="slow down"))
    async with embedder_for(server) as embedder:
        await embedder.embed_query("patient")

    first, second = server.requests
    assert second.at - first.at >= 0.3
    assert second.body == first.body


async def test_a_long_retry_after_is_capped(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(status=503, headers={"Retry-After": "3600"}))
    backoff = Backoff(initial=0.001, maximum=0.005, jitter=0.0, retry_after_cap=0.05)
    started = time.monotonic()
    async with embedder_for(server, backoff=backoff) as embedder:
        await embedder.embed_query("not an hour")

    assert len(server.requests) == 2
    assert time.monotonic() - started < 2.0


async def test_exhausted_retries_are_unavailable_naming_the_service_and_status(
    server: FakeEmbeddingsServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.then(*[Reply(status=503, message="overloaded")] * 3)
    async with embedder_for(server, max_retries=2) as embedder:
        with pytest.raises(Unavailable) as raised:
            await embedder.embed_query("never")

    assert len(server.requests) == 3
    message = raised.value.message
    assert server.url in message
    assert "503" in message
    assert "overloaded" in message
    assert "3 time(s)" in message
    assert raised.value.details == {"service": server.url, "status": 503, "attempts": 3}
    assert raised.value.code == "unavailable"
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2  # one per retry


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_client_errors_are_not_retried(server: FakeEmbeddingsServer, status: int) -> None:
    server.then(Reply(status=status, message="you asked for something wrong"))
    async with embedder_for(server) as embedder:
        with pytest.raises(Unavailable, match=f"refused the request with {status}") as raised:
            await embedder.embed_documents(["once"])

    assert len(server.requests) == 1
    assert "you asked for something wrong" in raised.value.message
    assert ("check the API key" in raised.value.message) is (status in (401, 403))


async def test_an_exhausted_quota_is_not_retried(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(status=429, message="You exceeded your current quota", code="insufficient_quota"))
    async with embedder_for(server) as embedder:
        with pytest.raises(Unavailable, match="429"):
            await embedder.embed_query("broke")

    assert len(server.requests) == 1


async def test_a_slow_server_times_out_and_is_unavailable(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(delay=10), Reply(delay=10))
    started = time.monotonic()
    async with embedder_for(server, timeout=0.2, max_retries=1) as embedder:
        with pytest.raises(Unavailable, match="timed out") as raised:
            await embedder.embed_query("hurry")

    assert time.monotonic() - started < 5.0
    assert len(server.requests) == 2
    assert raised.value.details["attempts"] == 2


async def test_a_refused_connection_is_retried_then_unavailable() -> None:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedder = OpenAICompatibleEmbedder(
        model=MODEL, dimension=DIMENSION, base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, backoff=FAST
    )
    async with embedder:
        with pytest.raises(Unavailable, match="could not connect") as raised:
            await embedder.embed_query("anyone?")

    assert raised.value.details["attempts"] == 3
    assert f"http://127.0.0.1:{port}/v1" in raised.value.message


# --- what comes back -----------------------------------------------------------------------


async def test_a_wrong_dimension_names_the_model_and_both_lengths(server: FakeEmbeddingsServer) -> None:
    server.then(Reply(dimension=5))
    async with embedder_for(server) as embedder:
        with pytest.raises(InvalidInput) as raised:
            await embedder.embed_documents(["too short"])

    assert raised.value.field == "embedding_dimension"
    assert MODEL in raised.value.message
    assert "returned 5-dimensional vectors, expected 8" in raised.value.message
    assert len(server.requests) == 1  # the same model answers the same way: no retry


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b'{"data": []}', "0 embeddings for 1 texts"),
        (b'{"data": [{"index": 3, "embedding": [1, 0, 0, 0, 0, 0, 0, 0]}]}', "indexes"),
        (b'{"data": [{"index": 0, "embedding": ["1", 0, 0, 0, 0, 0, 0, 0]}]}', "not a list of numbers"),
        (b'{"data": [{"index": 0, "embedding": [0, 0, 0, 0, 0, 0, 0, 0]}]}', "zero"),
    ],
)
async def test_a_malformed_reply_is_unavailable(
    server: FakeEmbeddingsServer, raw: bytes, problem: str
) -> None:
    server.then(Reply(raw=raw))
    async with embedder_for(server) as embedder:
        with pytest.raises(Unavailable, match="malformed reply") as raised:
            await embedder.embed_query("odd")

    assert problem in raised.value.message
    assert len(server.requests) == 1


# --- secrets -------------------------------------------------------------------------------


async def test_the_key_never_appears_in_errors_or_logs(
    server: FakeEmbeddingsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"Incorrect API key provided: {KEY}"
    server.then(Reply(status=500, message=echo), Reply(status=401, message=echo))
    async with embedder_for(server) as embedder:
        with pytest.raises(Unavailable) as raised:
            await embedder.embed_query("who am I")

    assert len(server.requests) == 2
    assert "Incorrect API key provided: ***" in raised.value.message
    assert KEY not in str(raised.value)
    assert KEY not in repr(raised.value.details)
    assert KEY not in caplog.text
    assert "Incorrect API key provided: ***" in caplog.text


async def test_credentials_in_the_base_url_are_redacted(server: FakeEmbeddingsServer) -> None:
    base_url = server.url.replace("http://", "http://alice:hunter2@") + "?api-key=topsecret"
    server.then(Reply(status=400))
    async with embedder_for(server, base_url=base_url) as embedder:
        with pytest.raises(Unavailable) as raised:
            await embedder.embed_query("hi")
        shown = repr(embedder)

    assert server.requests[0].path == "/v1/embeddings?api-key=topsecret"  # the query is kept
    for secret in ("alice", "hunter2", "topsecret"):
        assert secret not in raised.value.message
        assert secret not in shown
    assert server.url.replace("http://", "http://***@") + "?***" in raised.value.message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        ("https://u:p@gw.example.com:8443/openai?key=k", "https://***@gw.example.com:8443/openai?***"),
        ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
    ],
)
def test_redacted_url(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


# --- building it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "problem"),
    [
        ({"model": " "}, "model", "model name"),
        ({"dimension": 0}, "dimension", "from 1 to 16000"),
        ({"batch_size": 4096}, "batch_size", "from 1 to 2048"),
        ({"max_retries": -1}, "max_retries", "from 0"),
        ({"timeout": 0}, "timeout", "more than 0"),
        ({"base_url": "ftp://files.example.com"}, "base_url", "http:// or https://"),
        ({"model": "text-embedding-3-small", "dimension": 384}, "embedding_dimension", "use 1536"),
        (
            {"model": "text-embedding-3-large", "dimension": 4096, "request_dimensions": True},
            "embedding_dimension",
            "at most 3072",
        ),
        (
            {"model": "text-embedding-ada-002", "dimension": 256, "request_dimensions": True},
            "request_dimensions",
            "cannot shorten",
        ),
    ],
)
def test_bad_arguments_are_refused_when_built(options: dict[str, Any], field: str, problem: str) -> None:
    values: dict[str, Any] = {"model": MODEL, "dimension": DIMENSION, "base_url": "http://127.0.0.1:9/v1"}
    with pytest.raises(InvalidInput) as raised:
        OpenAICompatibleEmbedder(**{**values, **options})
    assert raised.value.field == field
    assert problem in raised.value.problem


def test_openai_models_with_their_own_or_a_shortened_dimension_are_accepted() -> None:
    native = OpenAICompatibleEmbedder(model="text-embedding-3-small", dimension=1536)
    short = OpenAICompatibleEmbedder(model="text-embedding-3-large", dimension=256, request_dimensions=True)
    assert (native.dimension, short.dimension) == (1536, 256)
    assert short.name == "openai:text-embedding-3-large"


async def test_aclose_closes_its_own_client_but_not_an_injected_one(server: FakeEmbeddingsServer) -> None:
    own = embedder_for(server)
    await own.aclose()
    assert own.closed

    async with httpx.AsyncClient(trust_env=False) as client:
        borrowed = embedder_for(server, client=client)
        await borrowed.embed_query("via the caller's client")
        await borrowed.aclose()
        assert not client.is_closed
    assert len(server.requests) == 1


async def test_an_injected_transport_replaces_the_network() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": fake_vector("x")}]})

    embedder = OpenAICompatibleEmbedder(
        model=MODEL, dimension=DIMENSION, base_url="https://embeddings.invalid/v1",
        transport=httpx.MockTransport(handle),
    )  # fmt: skip
    async with embedder:
        vector = await embedder.embed_query("x")

    assert str(seen[0].url) == "https://embeddings.invalid/v1/embeddings"
    assert vector == pytest.approx(tuple(fake_vector("x")))
