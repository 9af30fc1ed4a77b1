"""--json makes usage errors JSON too; --version prints the installed version."""

from __future__ import annotations

import json

import pytest

import tenantrag
from tests.cli.conftest import Cli


@pytest.mark.parametrize(
    ("arguments", "message", "param"),
    [
        (["search", "--json"], "Missing argument 'tenant'.", "tenant"),
        (["search", "t", "q", "-k", "many", "--json"], "Invalid value for '-k'", "k"),
        (["nosuchcommand", "--json"], "No such command 'nosuchcommand'.", None),
        (["tenant", "list", "--bogus", "--json"], "No such option: --bogus", None),
    ],
)
def test_usage_errors_are_one_json_object_with_json(
    cli: Cli, arguments: list[str], message: str, param: str | None
) -> None:
    result = cli(*arguments)

    assert result.exit_code == 2
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "usage"
    assert error["message"].startswith(message)
    assert error["details"]["param"] == param


def test_usage_errors_stay_text_without_json(cli: Cli) -> None:
    result = cli("search")

    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
    assert not result.stderr.lstrip().startswith("{")


def test_a_command_that_succeeds_with_json_still_exits_0(cli: Cli) -> None:
    result = cli("tenant", "list", "--json", "--database-url", "memory://")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_version(cli: Cli) -> None:
    result = cli("--version")

    assert result.exit_code == 0
    assert result.stdout == f"tenantrag {tenantrag.__version__}\n"
