"""Usage errors as JSON when ``--json`` is asked for, and ``tenantrag --version``.

Click reports a bad option or argument itself (a box on stderr, exit code 2) before any
command runs, so a script that parses ``--json`` errors would get text. The application's
group runs non-standalone when ``--json`` is among the arguments and reports those errors
as every other error is reported with ``--json``: one object on stderr,
``{"error": {"code": "usage", "message", "details"}}``, still exit code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

import tenantrag
from tenantrag.entrypoints.cli.exit_codes import ExitCode

# Click's exception classes, whichever Click Typer runs on (newer Typer releases carry their own).
_UsageError: type[Exception] = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "UsageError")
_ClickException: type[Exception] = next(
    k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException"
)


class JsonUsageGroup(TyperGroup):
    def main(self, args: Sequence[str] | None = None, *rest: Any, **options: Any) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        if "--json" not in arguments or not options.get("standalone_mode", True):
            return super().main(arguments, *rest, **options)
        options["standalone_mode"] = False
        try:
            result = super().main(arguments, *rest, **options)
        except _ClickException as error:
            param = getattr(error, "param", None)
            details = {"param": None if param is None else param.name}
            _print_error("usage", error.format_message(), details)  # type: ignore[attr-defined]
            sys.exit(ExitCode.USAGE if isinstance(error, _UsageError) else error.exit_code)  # type: ignore[attr-defined]
        except typer.Abort:
            print(
                json.dumps({"error": {"code": "interrupted", "message": "aborted", "details": {}}}),
                file=sys.stderr,
            )
            sys.exit(ExitCode.INTERRUPTED)
        sys.exit(result if isinstance(result, int) else ExitCode.OK)


def _print_error(code: str, message: str, details: dict[str, Any]) -> None:
    print(json.dumps({"error": {"code": code, "message": message, "details": details}}), file=sys.stderr)


def show_version(value: bool) -> None:
    """``--version``: print the installed version and stop."""
    if value:
        typer.echo(f"tenantrag {tenantrag.__version__}")
        raise typer.Exit
