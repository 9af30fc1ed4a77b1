"""env.py outside the Python API: the URL from DATABASE_URL or the default, ``-x`` options,
offline SQL, and the ``alembic`` command line of a checkout (alembic.ini at the root)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from tenantrag.adapters.sql.migrations import head, make_config
from tenantrag.domain.errors import InvalidInput

REPO_ROOT = Path(__file__).resolve().parents[2]


def _version(path: Path) -> str | None:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    connection.close()
    return None if row is None else str(row[0])


def test_without_a_url_the_database_comes_from_DATABASE_URL(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")

    command.upgrade(make_config(), "head")

    assert _version(tmp_path / "from-env.db") == head()
    assert not (tmp_path / "tenantrag.db").exists()


def test_without_a_url_or_DATABASE_URL_the_default_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default is ./tenantrag.db: here, in a temporary folder
    monkeypatch.delenv("DATABASE_URL", raising=False)

    command.upgrade(make_config(), "head")

    assert _version(tmp_path / "tenantrag.db") == head()


def test_a_url_in_the_config_wins_over_DATABASE_URL(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")

    command.upgrade(make_config(database_url), "head")

    assert _version(Path(database_url.removeprefix("sqlite:///"))) == head()
    assert not (tmp_path / "from-env.db").exists()


def _with_x(config: Config, *options: str) -> Config:
    config.cmd_opts = argparse.Namespace(x=list(options))
    return config


def test_the_embedding_dimension_can_come_from_x_options(database_url: str) -> None:
    config = _with_x(make_config(database_url), "embedding_dimension=768")

    command.upgrade(config, "head")

    assert config.attributes["embedding_dimension"] == 768


def test_a_bad_embedding_dimension_from_x_options_is_invalid_input(database_url: str) -> None:
    config = _with_x(make_config(database_url), "embedding_dimension=lots")

    with pytest.raises(InvalidInput, match="embedding_dimension: must be a whole number"):
        command.upgrade(config, "head")


def test_offline_mode_writes_the_sql_in_one_transaction(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(database_url)
    config.stdout = sys.stdout
    config.output_buffer = sys.stdout

    command.upgrade(config, "head", sql=True)

    sql = capsys.readouterr().out
    assert sql.lstrip().startswith("BEGIN")
    assert sql.rstrip().endswith("COMMIT;")
    assert "CREATE TABLE tenants" in sql
    assert "ON DELETE CASCADE" in sql
    assert not Path(database_url.removeprefix("sqlite:///")).exists()


# --- the alembic command line of a checkout --------------------------------------------------------


def _alembic(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, (
        f"alembic {' '.join(args)} failed ({completed.returncode}):\n"
        f"--- stdout ---\n{completed.stdout}\n--- stderr ---\n{completed.stderr}"
    )
    return completed


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return env | extra


@pytest.mark.slow
def test_the_alembic_cli_migrates_the_database_named_by_DATABASE_URL(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = _environment(DATABASE_URL=f"sqlite:///{database}")
    default_database_existed = (REPO_ROOT / "tenantrag.db").exists()

    _alembic("upgrade", "head", cwd=REPO_ROOT, env=env)
    assert _version(database) == head()

    # From anywhere, with -c: script_location is relative to the ini file.
    assert (
        "No new upgrade operations detected"
        in _alembic("-c", str(REPO_ROOT / "alembic.ini"), "check", cwd=tmp_path, env=env).stdout
    )
    assert head() in _alembic("-c", str(REPO_ROOT / "alembic.ini"), "current", cwd=tmp_path, env=env).stdout

    _alembic("-c", str(REPO_ROOT / "alembic.ini"), "downgrade", "base", cwd=tmp_path, env=env)
    assert _version(database) is None
    assert (REPO_ROOT / "tenantrag.db").exists() == default_database_existed


@pytest.mark.slow
def test_alembic_revision_names_files_by_date_and_renders_the_template(tmp_path: Path) -> None:
    # On a copy of the checkout's migrations: the real versions folder is left alone.
    shutil.copy(REPO_ROOT / "alembic.ini", tmp_path / "alembic.ini")
    shutil.copytree(
        REPO_ROOT / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    database = tmp_path / "rev.db"
    env = _environment(DATABASE_URL=f"sqlite:///{database}")
    _alembic("upgrade", "head", cwd=tmp_path, env=env)

    versions = tmp_path / "migrations" / "versions"
    existing = set(versions.glob("*.py"))
    _alembic("revision", "--autogenerate", "-m", "Nothing to do", cwd=tmp_path, env=env)

    created = sorted(set(versions.glob("*.py")) - existing)
    assert len(created) == 1, created
    assert re.fullmatch(r"\d{4}_\d{2}_\d{2}_\d{4}-[0-9a-f]{12}_nothing_to_do\.py", created[0].name)
    source = created[0].read_text(encoding="utf-8")
    assert f'down_revision: str | Sequence[str] | None = "{head()}"' in source
    assert re.search(r"def upgrade\(\) -> None:\n(\s*#.*\n)*\s*pass\n", source), source
    compile(source, str(created[0]), "exec")
