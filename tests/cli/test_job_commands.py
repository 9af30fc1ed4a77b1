"""tenantrag jobs list | show | cancel | retry."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli, error_json, output_json


def test_a_queued_ingestion_is_cancelled_then_retried_to_completion(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "plan.md").write_text("# Plan\n\nShip the operator commands.\n")
    queued = output_json(
        cli("ingest", "demo-workspace", str(tmp_path / "in" / "plan.md"), "--async", "--json")
    )
    job_id = str(queued["job_id"])

    listed = output_json(cli("jobs", "list", "demo-workspace", "--status", "queued", "--json"))
    assert [job["id"] for job in listed] == [job_id]
    assert output_json(cli("jobs", "cancel", "demo-workspace", job_id, "--json"))["status"] == "cancelled"
    again = cli("jobs", "cancel", "demo-workspace", job_id, "--json")
    assert again.exit_code == 5
    assert "cancelled" in error_json(again)["message"]

    retried = output_json(cli("jobs", "retry", "demo-workspace", job_id, "--wait", "--json"))

    assert retried["outcome"] == "retried"
    assert retried["document"]["status"] == "completed"
    assert retried["job"]["status"] == "succeeded"
    shown = output_json(cli("jobs", "show", "demo-workspace", str(retried["job"]["id"]), "--json"))
    assert shown["progress"] == 100
    text = cli("jobs", "list", "demo-workspace", "--document", str(retried["document"]["id"]))
    assert text.stdout.count("ingest") == 2  # the cancelled job and its retry


def test_unknown_jobs_are_named(cli: Cli, database: Path) -> None:
    missing = cli("jobs", "show", "demo-workspace", "01a25333-eddb-7000-b338-5d674c2231fd", "--json")
    assert missing.exit_code == 3
    assert "01a25333-eddb-7000-b338-5d674c2231fd" in error_json(missing)["message"]
    bad = cli("jobs", "retry", "demo-workspace", "not-an-id", "--json")
    assert bad.exit_code == 6
    assert error_json(bad)["details"]["field"] == "job_id"
