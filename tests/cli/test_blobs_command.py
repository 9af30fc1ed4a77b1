"""``tenantrag blobs check [--repair] [--json]`` on the seeded SQLite store and its blob folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.cli.conftest import Cli, output_json

DAY = 24 * 3600


def _blob_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_consistent_store_checks_clean(cli: Cli, database: Path) -> None:
    report = output_json(cli("blobs", "check", "--json"))
    assert report["consistent"] is True
    assert report["problems"] == []
    assert report["blobs"] == report["versions"] > 0


def test_strays_missing_and_corrupted_blobs_are_reported_then_repaired(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "tenantrag-blobs"
    files = _blob_files(folder)
    tenant_folder = files[0].relative_to(folder).parts[0]
    # A stray from a submit that crashed before its transaction, an hour and more ago...
    stray = folder / tenant_folder / "documents" / "0190f3a2-0000-7000-8000-000000000099" / "x" / "lost.txt"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"nobody names me")
    _age(stray, DAY)
    # ... one from an upload still committing, which must be left alone ...
    young = stray.with_name("young.txt")
    young.write_bytes(b"just written")
    # ... a version's blob gone, and another's bytes changed (its checksum no longer matches).
    missing, corrupted = files[0], files[1]
    missing.unlink()
    corrupted.write_bytes(b"changed at rest")

    checked = cli("blobs", "check", "--json")
    assert checked.exit_code == 5, checked.output
    report = json.loads(checked.stdout)
    kinds = sorted(problem["kind"] for problem in report["problems"])
    assert kinds == ["corrupted", "missing", "stray"]
    assert report["recent_strays"] == 1
    assert all(problem["repaired"] is False for problem in report["problems"])
    assert (
        "submit the content again" in next(p for p in report["problems"] if p["kind"] == "missing")["detail"]
    )

    repaired = cli("blobs", "check", "--repair", "--json")
    report = json.loads(repaired.stdout)
    assert [p["kind"] for p in report["problems"] if p["repaired"]] == ["stray"]
    assert not stray.exists()
    assert young.exists()
    # No intact copy of those contents exists: they stay reported, with the way back.
    assert repaired.exit_code == 5


def test_the_text_report_lists_each_problem(cli: Cli, database: Path, tmp_path: Path) -> None:
    [first, *_] = _blob_files(tmp_path / "tenantrag-blobs")
    first.unlink()
    result = cli("blobs", "check")
    assert result.exit_code == 5
    assert "missing" in result.stdout
    assert "problems" in result.stdout
