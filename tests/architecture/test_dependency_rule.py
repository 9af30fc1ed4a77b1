"""The dependency rule: entrypoints -> adapters -> domain, and the domain stays pure.

Two independent checks:

* import-linter runs the contracts in ``.importlinter`` (the layers contract and the
  list of third-party packages the domain must not import).
* an AST walk over every ``.py`` file under ``domain/`` that accepts only the standard
  library, ``attrs``, ``__future__`` and ``tenantrag.domain`` itself. It needs nothing
  installed, so it also catches an import of a package that is not installed (which
  import-linter cannot see) or that is missing from the forbidden list.
"""

from __future__ import annotations

import ast
import logging.config
import re
import sys
from pathlib import Path

import pytest
from importlinter import cli

REPO_ROOT = Path(__file__).resolve().parents[2]
IMPORTLINTER_CONFIG = REPO_ROOT / ".importlinter"
DOMAIN_DIR = REPO_ROOT / "domain"
DOMAIN_PACKAGE = "tenantrag.domain"

# Third-party packages the domain may import, by top-level import name.
ALLOWED_THIRD_PARTY = frozenset({"attrs"})
ALLOWED_TOP_LEVEL = frozenset(sys.stdlib_module_names) | ALLOWED_THIRD_PARTY | {"__future__"}


def test_import_linter_contracts_are_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # lint_imports puts the working directory on sys.path and calls logging.config.dictConfig,
    # which would disable every logger created so far in this process (and so break caplog in
    # other tests). Run it from the repository root and keep both side effects inside this test.
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)

    exit_code = cli.lint_imports(config_filename=str(IMPORTLINTER_CONFIG), no_cache=True, no_logo=True)

    report = capsys.readouterr().out
    assert exit_code == cli.EXIT_STATUS_SUCCESS, f"import-linter contracts broken:\n{report}"
    # Guard against a config that silently checks nothing.
    summary = re.search(r"Contracts: (\d+) kept, 0 broken", report)
    assert summary, f"no contract summary in the import-linter report:\n{report}"
    assert int(summary.group(1)) >= 2, f"expected at least the two contracts to be checked:\n{report}"


def _module_name(path: Path) -> str:
    """The dotted name ``tenantrag.domain...`` of a file under ``domain/``."""
    parts = list(path.relative_to(DOMAIN_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([DOMAIN_PACKAGE, *parts])


def _is_allowed_absolute(module: str) -> bool:
    return (
        module.split(".", maxsplit=1)[0] in ALLOWED_TOP_LEVEL
        or module == DOMAIN_PACKAGE
        or module.startswith(DOMAIN_PACKAGE + ".")
    )


def _resolve_relative(module_name: str, is_package: bool, level: int, target: str | None) -> str | None:
    """The absolute name of a relative import, or None if it climbs above the top package."""
    package = module_name.split(".") if is_package else module_name.split(".")[:-1]
    if level - 1 >= len(package):
        return None
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, target] if target else base)


def forbidden_imports(source: str, module_name: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, description) for every import in ``source`` that the domain may not make."""
    problems: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            problems.extend(
                (node.lineno, f"import {alias.name}")
                for alias in node.names
                if not _is_allowed_absolute(alias.name)
            )
        elif isinstance(node, ast.ImportFrom):
            names = ", ".join(alias.name for alias in node.names)
            statement = f"from {'.' * node.level}{node.module or ''} import {names}"
            if node.level:
                resolved = _resolve_relative(module_name, is_package, node.level, node.module)
                if resolved is None or not (
                    resolved == DOMAIN_PACKAGE or resolved.startswith(DOMAIN_PACKAGE + ".")
                ):
                    problems.append((node.lineno, f"{statement}  (resolves outside {DOMAIN_PACKAGE})"))
            elif node.module == "tenantrag":
                # `from tenantrag import domain` is fine, `from tenantrag import adapters` is not.
                if any(alias.name != "domain" for alias in node.names):
                    problems.append((node.lineno, statement))
            elif node.module is not None and not _is_allowed_absolute(node.module):
                problems.append((node.lineno, statement))
    return problems


def _domain_files() -> list[Path]:
    return sorted(p for p in DOMAIN_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def test_domain_imports_only_stdlib_attrs_and_itself() -> None:
    files = _domain_files()
    assert files, f"no .py files found under {DOMAIN_DIR}"

    violations: list[str] = []
    for path in files:
        module_name = _module_name(path)
        problems = forbidden_imports(
            path.read_text(encoding="utf-8"), module_name, is_package=path.name == "__init__.py"
        )
        violations.extend(
            f"{path.relative_to(REPO_ROOT)}:{line}: {statement}" for line, statement in problems
        )

    assert not violations, (
        "domain/ may import only the standard library, attrs, __future__ and tenantrag.domain;"
        " found:\n  " + "\n  ".join(violations)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import sqlalchemy", ["import sqlalchemy"], id="third-party"),
        pytest.param("import os, not_installed_pkg.sub", ["import not_installed_pkg.sub"], id="uninstalled"),
        pytest.param("from pydantic import BaseModel", ["from pydantic import BaseModel"], id="from-import"),
        pytest.param(
            "from tenantrag.adapters import memory", ["from tenantrag.adapters import memory"], id="up"
        ),
        pytest.param(
            "from tenantrag import adapters", ["from tenantrag import adapters"], id="tenantrag-from"
        ),
        pytest.param("from ... import adapters", ["from ... import adapters"], id="relative-escape"),
        pytest.param("if True:\n    import numpy as np", ["import numpy"], id="nested"),
        pytest.param(
            "from __future__ import annotations\nimport typing\nimport attrs\nfrom attrs import frozen\n"
            "from datetime import UTC\nfrom tenantrag.domain.errors import NotFound\n"
            "from tenantrag import domain\nfrom . import ids\nfrom ..errors import Conflict\n",
            [],
            id="allowed",
        ),
    ],
)
def test_ast_checker_flags_what_it_should(source: str, expected: list[str]) -> None:
    found = [statement for _, statement in forbidden_imports(source, "tenantrag.domain.model.chunk")]
    assert [statement.split("  (")[0] for statement in found] == expected
