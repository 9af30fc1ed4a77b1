"""A real server: uvicorn in a subprocess, serving the app on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.http.helpers import SECRET

pytestmark = [pytest.mark.slow, pytest.mark.sqlite]
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_uvicorn_serves_health_and_shuts_down_cleanly(tmp_path: Path) -> None:
    """On SQLite: the schema is created at start-up and the engine disposed of at shutdown."""
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "JWT_SECRET_KEY": SECRET,
        "EMBEDDER": "hashing",
        "EMBEDDING_DIMENSION": "64",
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "tenantrag.entrypoints.http.app:app_from_environment",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "on",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/health", server)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        protected = httpx.get(f"http://127.0.0.1:{port}/v1/me", timeout=5)
        assert protected.status_code == 401
        assert protected.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=STARTUP_SECONDS)
    log = output.decode(errors="replace")
    # Recent uvicorn re-raises the signal once it has shut down gracefully.
    assert server.returncode in {0, -signal.SIGTERM}, log
    assert "Application shutdown complete" in log
    assert "Traceback" not in log


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.poll() is not None:
            output = server.stdout.read().decode(errors="replace") if server.stdout else ""
            pytest.fail(f"the server exited with {server.returncode}:\n{output}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
