"""The installed ``tenantrag`` console script, run as a user runs it: every command, bad
arguments, a missing database, and the servers (``serve``, ``demo``) answering over HTTP.

Each process costs an interpreter start, so commands that do not depend on each other run
concurrently; all of these tests start processes and are marked slow.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tenantrag.adapters.sql import migrations
from tests.cli.conftest import Console

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_all(console: Console, commands: Sequence[Sequence[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Run independent commands at once; results in the order given."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda command: console(*command), commands))


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    return result


def test_every_command_through_the_console_script(console: Console, tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'rag.db'}"]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "cats.md").write_text("# Cats\n\nA cat purrs when it is content.\n", encoding="utf-8")

    assert "at revision" in ok(console("init", *db)).stdout
    ok(console("seed", "--samples", *db))
    ok(console("user", "create", "ada@example.com", "--password-stdin", *db, input="a long passphrase\n"))
    ok(console("tenant", "create", "Acme", "--owner", "ada@example.com", *db))

    status, current, history, tenants, added, issued, ingested = run_all(
        console,
        [
            ["status", "--json", *db],
            ["db", "current", "--json", *db],
            ["db", "history", "--json"],
            ["tenant", "list", "--json", *db],
            ["member", "add", "acme", "demo@example.com", "--role", "member", *db],
            ["apikey", "create", "acme", "--user", "ada@example.com", "--name", "ci", *db],
            ["ingest", "acme", str(notes), "--tag", "pets", "--json", *db],
        ],
    )
    assert json.loads(ok(status).stdout)["row_counts"]["tenants"] == 2
    assert json.loads(ok(current).stdout)["up_to_date"] is True
    assert json.loads(ok(history).stdout)[-1]["id"] == migrations.head()
    assert [t["slug"] for t in json.loads(ok(tenants).stdout)] == ["demo-workspace", "acme"]
    assert "added demo@example.com as member" in ok(added).stdout
    plaintext = ok(issued).stdout.strip()
    assert plaintext.startswith("trk_")
    assert json.loads(ok(ingested).stdout)["status"] == "created"

    members, keys, hits, documents, role = run_all(
        console,
        [
            ["member", "list", "acme", "--json", *db],
            ["apikey", "list", "acme", "--json", *db],
            ["search", "acme", "why does a cat purr", "-k", "1", "--json", *db],
            ["documents", "list", "acme", "--status", "completed", "--json", *db],
            ["member", "set-role", "acme", "demo@example.com", "viewer", *db],
        ],
    )
    assert len(json.loads(ok(members).stdout)) == 2
    assert plaintext not in ok(keys).stdout
    assert json.loads(ok(hits).stdout)[0]["filename"] == "notes/cats.md"
    assert [d["filename"] for d in json.loads(ok(documents).stdout)] == ["notes/cats.md"]
    assert "viewer" in ok(role).stdout

    removed, revoked, backed_up = run_all(
        console,
        [
            ["member", "remove", "acme", "demo@example.com", *db],
            ["apikey", "revoke", "acme", plaintext, *db],
            ["backup", str(tmp_path / "backup.db"), *db],
        ],
    )
    assert "removed demo@example.com" in ok(removed).stdout
    assert "revoked API key 'ci'" in ok(revoked).stdout
    assert "backed up" in ok(backed_up).stdout

    assert "dropped everything" in ok(console("reset", "--yes", *db)).stdout
    assert "restored" in ok(console("restore", str(tmp_path / "backup.db"), *db)).stdout
    down = console("db", "downgrade", "base", "--yes", "--json", *db)
    assert json.loads(ok(down).stdout)["revision"] is None
    assert json.loads(ok(console("db", "upgrade", "--json", *db)).stdout)["up_to_date"] is True


def test_db_revision_writes_a_migration_named_by_date(console: Console, tmp_path: Path) -> None:
    # Into a copy of the migrations: the checkout's versions folder is left alone.
    location = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", location, ignore=shutil.ignore_patterns("__pycache__"))
    db = ["--database-url", f"sqlite:///{tmp_path / 'rev.db'}"]
    ok(console("init", *db))

    result = ok(
        console(
            "db", "revision", "-m", "Nothing to do", "--autogenerate", *db, "--script-location", str(location)
        )
    )

    created = Path(result.stdout.strip())
    assert created.parent == location / "versions"
    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]{12}_nothing_to_do\.py", created.name)
    assert f'down_revision: str | Sequence[str] | None = "{migrations.head()}"' in created.read_text()
    assert "Generating" in result.stderr  # Alembic's progress, kept off stdout


def test_bad_arguments_and_a_missing_database(console: Console, tmp_path: Path) -> None:
    # The in-process tests cover each refusal; here, that the script exits with the codes.
    missing = ["--database-url", f"sqlite:///{tmp_path / 'missing.db'}"]
    results = run_all(
        console,
        [
            [],
            ["search", "demo-workspace", "x", "-k", "zero"],
            ["search", "demo-workspace", "x", *missing],
            ["tenant", "list", "--json", *missing],
            ["status", "--database-url", "mysql://root:pw@db/x"],
        ],
    )
    assert [result.returncode for result in results] == [2, 2, 9, 9, 8]
    assert "Usage: tenantrag" in results[0].stdout + results[0].stderr
    assert "run `tenantrag init` to create it" in results[2].stderr
    assert json.loads(results[3].stderr)["error"]["code"] == "database_unavailable"
    assert "invalid setting DATABASE_URL" in results[4].stderr
    assert "pw@" not in results[4].stderr
    assert not (tmp_path / "missing.db").exists()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_health(process: subprocess.Popen[str], url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the server exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    pytest.fail("the server did not answer /health in time")


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, stderr
    return stdout, stderr


def test_serve_answers_health_on_a_loopback_port(console: Console, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = console.start(
        "serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'srv.db'}"
    )
    try:
        wait_for_health(process, url)
        assert httpx.get(f"{url}/health").json()["status"] == "ok"
        assert httpx.get(f"{url}/v1/me").status_code == 401
    finally:
        _, stderr = stop(process)
    assert f"on {url}" in stderr


def test_serve_refuses_an_outdated_schema_before_listening(console: Console, tmp_path: Path) -> None:
    (tmp_path / "old.db").touch()
    production = {
        "ENVIRONMENT": "production",
        "JWT_SECRET_KEY": "p" * 64,
        "PASSWORD_HASH_MEMORY_COST": "19456",
        "PASSWORD_HASH_TIME_COST": "2",
    }
    result = console(
        "serve",
        "--port",
        str(free_port()),
        "--database-url",
        f"sqlite:///{tmp_path / 'old.db'}",
        env=production,
    )
    assert result.returncode == 9
    assert "has no tenantrag schema" in result.stderr


def test_demo_serves_the_sample_documents_as_the_readme_says(console: Console, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = console.start("demo", "--port", str(port))
    try:
        wait_for_health(process, url)
        token = httpx.post(
            f"{url}/v1/auth/token", data={"username": "demo@example.com", "password": "demo123"}
        ).json()["access_token"]
        response = httpx.post(
            f"{url}/v1/tenants/demo-workspace/search",
            json={"text": "How are tenants isolated?", "k": 3},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert "row-level security" in response.json()["hits"][0]["content"]
    finally:
        stdout, _ = stop(process)
    assert "sample documents: 4 created" in stdout
    assert f"{url}/v1/auth/token" in stdout
    assert "demo@example.com / demo123" in stdout
    assert (tmp_path / "tenantrag.db").exists()

    again = ok(console("demo", "--no-serve"))
    assert "sample documents: 4 unchanged" in again.stdout
