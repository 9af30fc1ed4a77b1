"""The README's quick start runs and finds the cat document first."""

from __future__ import annotations

import io

from tenantrag.entrypoints.quickstart import main


async def test_quickstart_ingests_and_finds_the_right_document() -> None:
    out = io.StringIO()
    await main(out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("tenant demo-workspace (")
    assert "ingested cats.md: completed, 1 chunk(s)" in lines
    assert "ingested rockets.md: completed, 1 chunk(s)" in lines
    first_hit = lines[3]
    assert "A cat purrs" in first_hit
