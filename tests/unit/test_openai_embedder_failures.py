"""OpenAICompatibleEmbedder when the service fails, against a fake server on loopback: server
errors and rate limits are retried (waiting as Retry-After says, capped) until the retries run out,
other client errors and an exhausted quota are not, time-outs and refused connections end as
Unavailable; and the API key and credentials in the base URL never appear in errors or logs."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from tenantrag.adapters.embedders.openai_compatible import Backoff, OpenAICompatibleEmbedder, redacted_url
from tenantrag.domain.errors import Unavailable
from tests.unit.fake_embeddings_server import (
    DIMENSION,
    FAST,
    KEY,
    MODEL,
    FakeEmbeddingsServer,
    Reply,
    _no_proxies,  # noqa: F401 - a fixture, found by name
    embedder_for,
    fake_vector,
    server_fixture,  # noqa: F401 - a fixture, found by name
)

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
