"""Running the CLI in-process (fast) and through the installed console script (real).

``cli(...)`` invokes the Typer application with CliRunner in a clean environment (none of
tenantrag's variables, the test's folder as working directory). ``database`` is a SQLite
file holding the demo workspace and its sample documents, copied from a template that is
seeded once per session, and named by DATABASE_URL.

``console(...)`` runs the ``tenantrag`` console script installed next to this Python, the
way a user does; those tests start processes and are marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tenantrag.entrypoints.cli.main import app
from tenantrag.entrypoints.settings import variables
from tests.entrypoints.conftest import clear_environment

SECRET = "s" * 64
#: What a production deployment must set (and cheap-hashing tests must raise back).
PRODUCTION = {
    "ENVIRONMENT": "production",
    "JWT_SECRET_KEY": SECRET,
    "PASSWORD_HASH_MEMORY_COST": "19456",
    "PASSWORD_HASH_TIME_COST": "2",
}
# Argon2 at its cheapest: the tests hash passwords in milliseconds instead of 0.1 s each.
CHEAP_HASHING = {
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_COST": "8",
    "PASSWORD_HASH_PARALLELISM": "1",
}


class Cli:
    """Invoke ``tenantrag ARGS...`` in this process."""

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


def output_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_json(result: Result) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(result.stderr)["error"]
    return error


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    clear_environment(monkeypatch)
    for name, value in CHEAP_HASHING.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return Cli()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seeded")
    with pytest.MonkeyPatch.context() as patch:
        clear_environment(patch)
        for name, value in CHEAP_HASHING.items():
            patch.setenv(name, value)
        patch.chdir(folder)
        result = Cli()("seed", "--samples", "--database-url", f"sqlite:///{folder / 'rag.db'}")
        assert result.exit_code == 0, result.output
    return folder / "rag.db"


@pytest.fixture
def database(cli: Cli, tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A seeded SQLite database with its originals, named by DATABASE_URL for every command of the test."""
    path = tmp_path / "rag.db"
    shutil.copy(seeded_template, path)
    shutil.copytree(seeded_template.parent / "tenantrag-blobs", tmp_path / "tenantrag-blobs")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


# --- the console script ---------------------------------------------------------------------


def console_script() -> str:
    """The installed ``tenantrag`` script of the Python running the tests."""
    script = Path(sys.executable).parent / "tenantrag"
    if not script.exists():
        found = shutil.which("tenantrag")
        if found is None:
            pytest.fail("the tenantrag console script is not installed: pip install -e .")
        return found
    return str(script)


def clean_process_environment(**extra: str) -> dict[str, str]:
    names = {name for group in variables().values() for name in group}
    environment = {key: value for key, value in os.environ.items() if key not in names}
    environment.update(extra)
    return environment


class Console:
    """Run the console script as a user would, in the test's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.script = console_script()

    def __call__(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.script, *args],
            input=input,
            cwd=self.folder,
            env=clean_process_environment(**{**CHEAP_HASHING, **(env or {})}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.script, *args],
            cwd=self.folder,
            env=clean_process_environment(**{**CHEAP_HASHING, **(env or {})}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return Console(tmp_path)
