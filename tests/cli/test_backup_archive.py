"""tenantrag backup and restore on SQLite: one archive with the database, the originals and the
development secret, verified on restore; a damaged archive is refused with nothing written."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

from tests.cli.conftest import PRODUCTION, Cli, error_json, output_json

SECRET_FILE = ".tenantrag-jwt-secret"


def _with_an_original(cli: Cli, database: Path) -> Path:
    note = database.parent / "cats.md"
    note.write_text("# Cats\n\nCats purr when they are content.", encoding="utf-8")
    assert cli("ingest", "demo-workspace", str(note)).exit_code == 0
    return database.parent / "tenantrag-blobs"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    """A copy of ``archive`` with some members' bytes replaced (manifest untouched unless named)."""
    members = _members(archive)
    members.update(change)
    with tarfile.open(target, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_backup_holds_the_database_the_originals_and_the_secret_and_restores_into_a_fresh_place(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    blobs = _with_an_original(cli, database)
    archive = tmp_path / "store.tar"
    made = output_json(cli("backup", str(archive), "--json"))
    assert made["bytes"] == archive.stat().st_size
    assert made["blobs"] == len(_files(blobs)) >= 2  # each original and its checksum file
    assert made["jwt_secret"] is True
    assert made["tables"]["documents"] == 5

    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "tenantrag-backup"
    assert manifest["backend"] == "sqlite"
    assert manifest["tables"]["tenants"] == 1
    for entry in [manifest["database"], manifest["jwt_secret"], *manifest["blobs"]["files"]]:
        assert hashlib.sha256(members[entry["name"]]).hexdigest() == entry["sha256"]
    assert {name.removeprefix("blobs/") for name in members if name.startswith("blobs/")} == set(
        _files(blobs)
    )
    assert members["jwt-secret"] == (tmp_path / SECRET_FILE).read_bytes()

    fresh = tmp_path / "elsewhere"
    target = f"sqlite:///{fresh / 'copy.db'}"
    restored = output_json(cli("restore", str(archive), "--database-url", target, "--json"))
    assert restored["revision"] == restored["head"]
    assert restored["tables"] == manifest["tables"]
    assert _files(fresh / "tenantrag-blobs") == _files(blobs)
    assert (fresh / SECRET_FILE).read_bytes() == (tmp_path / SECRET_FILE).read_bytes()
    assert (fresh / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    hits = output_json(
        cli("search", "demo-workspace", "cats purr", "-k", "1", "--database-url", target, "--json")
    )
    assert hits[0]["filename"] == "cats.md"
    assert not [p for p in fresh.iterdir() if p.name.startswith(".tenantrag-blobs.")]  # no staging left


def test_restore_refuses_live_data_unless_forced_and_reset_then_restore_brings_everything_back(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    blobs = _with_an_original(cli, database)
    originals = _files(blobs)
    archive = tmp_path / "store.tar"
    assert cli("backup", str(archive)).exit_code == 0
    again = cli("backup", str(archive))
    assert again.exit_code == 5
    assert "add --force" in again.stderr

    over_data = cli("restore", str(archive), "--json")
    assert over_data.exit_code == 5
    assert "holds data" in error_json(over_data)["message"]

    assert "removed the blob folder" in cli("reset", "--yes").stdout
    assert not blobs.exists()
    restored = cli("restore", str(archive))
    assert "verified" in restored.stdout, restored.output
    assert _files(blobs) == originals

    cli("user", "create", "late@example.com", "--no-password")
    (blobs / "stray.txt").write_text("not in the archive", encoding="utf-8")
    assert cli("restore", str(archive), "--force").exit_code == 0
    assert _files(blobs) == originals  # the folder is the archive's again
    assert cli("user", "create", "late@example.com", "--no-password").exit_code == 0  # gone with the restore


def test_a_damaged_archive_is_refused_and_nothing_is_written(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    _with_an_original(cli, database)
    archive = tmp_path / "store.tar"
    assert cli("backup", str(archive)).exit_code == 0
    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    blob = next(name for name in members if name.startswith("blobs/") and name.endswith(".md"))
    wrong_counts = {**manifest, "tables": {**manifest["tables"], "chunks": manifest["tables"]["chunks"] + 1}}
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    cases: list[tuple[str, dict[str, bytes] | None, str]] = [
        ("flipped.tar", {blob: members[blob][:-1] + b"!"}, "does not match its checksum"),
        ("counts.tar", {"manifest.json": json.dumps(wrong_counts).encode()}, "row counts differ"),
        ("database.tar", {"database.sqlite": b"SQLite format 3\x00" + b"\x00" * 100}, "is 116 bytes"),
        ("truncated.tar", None, "the archive"),
        ("escape.tar", {"../escape.txt": b"outside"}, "names a member outside itself"),
        ("extra.tar", {"blobs/extra.txt": b"unlisted"}, "which its manifest does not list"),
    ]
    for name, change, message in cases:
        damaged = tmp_path / name
        if change is not None:
            _rewrite(archive, damaged, change)
        fresh = tmp_path / f"fresh-{name}"
        refused = cli("restore", str(damaged), "--database-url", f"sqlite:///{fresh / 'db.db'}", "--json")
        assert refused.exit_code == 6, (name, refused.output)
        assert message in error_json(refused)["message"], name
        assert error_json(refused)["details"]["field"] == "file"
        # Nothing written: no database, no blob folder, no staging folder left behind.
        left = sorted(p.name for p in fresh.iterdir()) if fresh.exists() else []
        assert left in ([], [SECRET_FILE]), (name, left)  # the settings made a secret file, nothing else
        assert not (tmp_path / "escape.txt").exists()


def test_an_older_backup_still_restores_the_database_alone(cli: Cli, database: Path, tmp_path: Path) -> None:
    old = tmp_path / "old-backup.db"  # what `tenantrag backup` wrote before archives: a SQLite copy
    with sqlite3.connect(database) as source, sqlite3.connect(old) as copy:
        source.backup(copy)
    target = f"sqlite:///{tmp_path / 'restored' / 'db.db'}"
    (tmp_path / "restored").mkdir()
    restored = output_json(cli("restore", str(old), "--database-url", target, "--json"))
    assert restored["legacy_format"] is True
    assert "database only" in restored["notes"][0]
    assert (
        output_json(cli("tenant", "list", "--database-url", target, "--json"))[0]["slug"] == "demo-workspace"
    )

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello", encoding="utf-8")
    refused = cli("restore", str(not_a_backup), "--force", "--json")
    assert refused.exit_code == 6
    assert "not a SQLite database nor a tenantrag backup archive" in error_json(refused)["message"]
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert (
        "not a tenantrag backup" in error_json(cli("restore", str(foreign), "--force", "--json"))["message"]
    )


def test_backup_refusals_and_production_leaves_the_secret_out(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    assert cli("restore", str(tmp_path / "missing.tar")).exit_code == 2
    assert cli("backup", str(tmp_path / "b.tar"), "--database-url", "memory://").exit_code == 6
    missing = cli("backup", str(tmp_path / "b.tar"), "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.exit_code == 9
    assert not (tmp_path / "none.db").exists()
    assert cli("backup", str(tmp_path / "no" / "folder" / "b.tar")).exit_code == 9
    assert cli("backup").exit_code == 2

    archive = tmp_path / "production.tar"
    made: dict[str, Any] = output_json(cli("backup", str(archive), "--json", env=PRODUCTION))
    assert made["jwt_secret"] is False
    assert "jwt-secret" not in _members(archive)
    shutil.rmtree(tmp_path / "tenantrag-blobs", ignore_errors=True)
