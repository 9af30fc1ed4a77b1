"""tenantrag backup and restore on PostgreSQL: into a brand new, empty database on a cluster
that lacks the roles the source store used (the fresh-cluster case), end to end; a manifest
whose counts disagree rolls the whole restore back."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tenantrag.entrypoints.backup import pg_binary
from tests.cli.conftest import Cli, error_json, output_json
from tests.postgres_server import Databases, admin_engine

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def roles(postgres_databases: Databases) -> Iterator[Callable[[str], str]]:
    """Runtime role names of this test's own, dropped (with what they own or were granted) after."""
    made: list[str] = []

    def role(kind: str) -> str:
        made.append(f"tenantrag_{kind}_{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield role
    engine = admin_engine(postgres_databases.server_url)
    with engine.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
    engine.dispose()


def _drop_role(database_url: str, role: str) -> None:
    engine = admin_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text(f'DROP OWNED BY "{role}"'))
        connection.execute(text(f'DROP ROLE "{role}"'))
    engine.dispose()


def _tables(database_url: str) -> set[str]:
    engine = admin_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        names = set(found.scalars())
    engine.dispose()
    return names


def _public_functions(database_url: str) -> dict[str, bool]:
    """Whether PUBLIC may execute each function of the public schema."""
    engine = admin_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT p.oid::regprocedure::text, has_function_privilege('public', p.oid, 'EXECUTE')"
                " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            )
        )
        privileges = {str(name): bool(allowed) for name, allowed in found}
    engine.dispose()
    return privileges


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_backup_restores_into_an_empty_database_without_the_sources_roles(
    roles: Callable[[str], str],  # first: its teardown (dropping the roles) comes after the databases'
    cli: Cli,
    tmp_path: Path,
    postgres_database: Callable[[int], str],
    postgres_databases: Databases,
) -> None:
    source, source_role = postgres_database(256), roles("source")  # 256: the default embedder
    at_source = {"BLOB_STORE_PATH": str(tmp_path / "source-blobs"), "POSTGRES_RUNTIME_ROLE": source_role}
    db = ["--database-url", source]
    assert cli("init", *db, env=at_source).exit_code == 0
    assert cli("user", "create", "o@example.com", "--no-password", *db, env=at_source).exit_code == 0
    assert cli("tenant", "create", "Acme", "--owner", "o@example.com", *db, env=at_source).exit_code == 0
    note = tmp_path / "cats.md"
    note.write_text("# Cats\n\nCats purr when they are content.", encoding="utf-8")
    assert cli("ingest", "acme", str(note), *db, env=at_source).exit_code == 0

    archive = tmp_path / "store.tar"
    made = output_json(cli("backup", str(archive), "--json", *db, env=at_source))
    assert made["backend"] == "postgresql"
    assert (made["tables"]["documents"], made["tables"]["tenants"]) == (1, 1)
    assert made["blobs"] == 2  # the original and its checksum file
    with tarfile.open(archive) as tar:
        dump = tar.extractfile("database.pgdump").read()  # type: ignore[union-attr]
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    (tmp_path / "dump").write_bytes(dump)
    script = subprocess.run(
        [pg_binary("pg_restore", 18), "--file=-", str(tmp_path / "dump")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"TO {source_role};" in script  # the dump has the source role's grants: restores drop them

    # The source's role is gone from the cluster, as in a fresh one; the target uses another.
    _drop_role(source, source_role)
    target, target_role = postgres_databases.create(prefix="tenantrag_restore"), roles("target")
    at_target = {"BLOB_STORE_PATH": str(tmp_path / "target-blobs"), "POSTGRES_RUNTIME_ROLE": target_role}
    restored = output_json(cli("restore", str(archive), "--database-url", target, "--json", env=at_target))
    assert restored["tables"] == manifest["tables"]
    assert restored["revision"] == restored["head"]
    assert _files(tmp_path / "target-blobs") == _files(tmp_path / "source-blobs")
    hits = output_json(
        cli("search", "acme", "cats purr", "-k", "1", "--database-url", target, "--json", env=at_target)
    )
    assert hits[0]["filename"] == "cats.md"
    status = output_json(cli("status", "--json", "--database-url", target, env=at_target))
    assert status["row_counts"]["chunks"] == manifest["tables"]["chunks"]
    # What PUBLIC may not do stays so (a migration's REVOKE ... FROM PUBLIC survives).
    assert _public_functions(target) == _public_functions(source)

    # A manifest whose counts disagree: the one restore transaction rolls back, leaving nothing.
    wrong = {**manifest, "tables": {**manifest["tables"], "chunks": manifest["tables"]["chunks"] + 1}}
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as source_tar, tarfile.open(tampered, "w") as out:
        for member in source_tar.getmembers():
            data = source_tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                data = json.dumps(wrong).encode()
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    empty = postgres_databases.create(prefix="tenantrag_restore")
    at_empty = {**at_target, "BLOB_STORE_PATH": str(tmp_path / "empty-blobs")}
    refused = cli("restore", str(tampered), "--database-url", empty, "--json", env=at_empty)
    assert refused.exit_code == 9, refused.output
    assert "restore check: chunks holds" in error_json(refused)["message"]
    assert _tables(empty) == set()
    assert not (tmp_path / "empty-blobs").exists()
    postgres_databases.drop(empty)
    postgres_databases.drop(target)
