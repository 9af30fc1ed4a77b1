"""tenantrag serve binds its port before anything else: a port in use is a conflict (exit 5)
named at once, and --port 0 announces the port the system chose."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Console
from tests.cli.test_console_script import stop

pytestmark = pytest.mark.slow


def test_a_port_in_use_is_a_conflict_named_before_any_work(console: Console, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = console("serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'x.db'}")

    assert result.returncode == 5, result.stderr
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "tenantrag:" not in result.stderr  # no banner for a server that never listened
    assert not (tmp_path / "x.db").exists()  # nothing was opened or created
    assert time.monotonic() - started < 60


def test_port_0_announces_the_port_it_listens_on(console: Console, tmp_path: Path) -> None:
    process = console.start("serve", "--port", "0", "--database-url", f"sqlite:///{tmp_path / 'srv.db'}")
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"on (http://127\.0\.0\.1:(\d+))", line)
            if found:
                url = found.group(1)
                assert found.group(2) != "0"
        assert url is not None, "no banner"
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"{url}/health").json()["status"] == "ok"
    finally:
        stop(process)
