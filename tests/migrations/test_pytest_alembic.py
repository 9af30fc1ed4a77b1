"""pytest-alembic's built-in tests, run by a plain ``python -m pytest`` (no --test-alembic).

- one head; the history upgrades from empty; each revision downgrades and upgrades again;
- the schema the migrations build is the one ``schema.metadata`` describes
  (``test_model_definitions_match_ddl``: autogenerate finds nothing to do);
- and ``alembic check`` agrees.
"""

from __future__ import annotations

from pytest_alembic import MigrationContext
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]


def test_alembic_check_finds_no_drift(alembic_runner: MigrationContext) -> None:
    alembic_runner.migrate_up_to("heads")

    output = alembic_runner.raw_command("check")  # raises (RuntimeError) on any difference

    assert any("No new upgrade operations detected" in line for line in output), output


def test_the_history_ends_at_the_packaged_head(alembic_runner: MigrationContext) -> None:
    from tenantrag.adapters.sql.migrations import head

    assert alembic_runner.heads == [head()]
    assert alembic_runner.current == "base"
    alembic_runner.migrate_up_to("heads")
    assert alembic_runner.current == head()
