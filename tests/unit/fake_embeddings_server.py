"""A fake OpenAI-compatible embeddings server on loopback, scripted to misbehave, and what the
embedder tests build on it: the fixtures (a running server, no proxy variables) and embedder_for.

The fake server speaks just enough of ``POST /v1/embeddings``: it records every request
(path, headers, body, time) and answers from a script of replies (an error status with
Retry-After, a slow reply, shuffled indexes, the wrong dimension...), then, once the script
runs out, with well-formed embeddings. Nothing leaves 127.0.0.1. A test module uses the fixtures
by importing them: ``from tests.unit.fake_embeddings_server import _no_proxies, server_fixture``.
"""

from __future__ import annotations

import json
import math
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tenantrag.adapters.embedders.openai_compatible import Backoff, OpenAICompatibleEmbedder

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


@pytest.fixture(name="server")
def server_fixture() -> Iterator[FakeEmbeddingsServer]:
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
