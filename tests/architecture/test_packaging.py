"""The wheel ships every package of every layer, and the migrations.

The layers live in root folders (domain/, adapters/, entrypoints/) mapped to tenantrag.<layer>
through ``[tool.setuptools] package-dir``, and so do the Alembic migrations (migrations/ ->
tenantrag.migrations). The packages are listed one by one, so a new subpackage that is not added
to ``packages`` would silently be left out of the wheel while every test still passes against the
checkout. These tests catch that, and check that the installed wheel can migrate a database
without the checkout's alembic.ini (env.py and script.py.mako are shipped).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "adapters", "entrypoints", "integrations")
# Root folders mapped to tenantrag.<folder>: the layers, and the Alembic migrations.
PACKAGE_FOLDERS = (*LAYERS, "migrations")
TOP_PACKAGE = "tenantrag"
# Files that cannot be imported as plain modules: Alembic loads env.py by path (it needs a running
# Alembic environment), and `python -m tenantrag.entrypoints.cli` runs the CLI. The wheel must still
# ship them; the wheel test finds them without importing.
LOADED_NOT_IMPORTED = frozenset({"tenantrag.migrations.env", "tenantrag.entrypoints.cli.__main__"})
# Non-Python files the installed package needs.
# (package, pattern in [tool.setuptools.package-data], a file the pattern must bring)
DATA = (
    ("tenantrag.migrations", "script.py.mako", "script.py.mako"),
    ("tenantrag.entrypoints", "samples/*.md", "samples/getting-started.md"),
)
DATA_FILES = tuple(f"{package.replace('.', '/')}/{example}" for package, _pattern, example in DATA)


def _source_dirs(layer: str, root: Path = REPO_ROOT) -> list[Path]:
    return sorted(
        d
        for d in [root / layer, *(root / layer).rglob("*")]
        if d.is_dir() and "__pycache__" not in d.parts and not d.name.startswith(".")
    )


def _packages_in_folders() -> set[str]:
    packages = {TOP_PACKAGE}
    for layer in PACKAGE_FOLDERS:
        packages.update(
            ".".join([TOP_PACKAGE, layer, *d.relative_to(REPO_ROOT / layer).parts])
            for d in _source_dirs(layer)
            if (d / "__init__.py").is_file()
        )
    return packages


def _modules_in_folders(root: Path) -> set[str]:
    """Every module the wheel should hold: one per .py file under the package folders."""
    modules = {TOP_PACKAGE}
    for layer in PACKAGE_FOLDERS:
        for path in (root / layer).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = [TOP_PACKAGE, layer, *path.relative_to(root / layer).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules.add(".".join(parts))
    return modules


def _folder_of(package: str) -> Path | None:
    """The folder of a listed tenantrag.<folder>... package, or None if it names no such folder."""
    parts = package.split(".")
    if len(parts) < 2 or parts[0] != TOP_PACKAGE or parts[1] not in PACKAGE_FOLDERS:
        return None
    return REPO_ROOT.joinpath(*parts[1:])


def test_pyproject_lists_exactly_the_packages_in_the_package_folders() -> None:
    setuptools_config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    listed = set(setuptools_config["packages"])
    on_disk = _packages_in_folders()

    problems = [f'  add line     "{name}",' for name in sorted(on_disk - listed)]
    for name in sorted(listed - on_disk):
        folder = _folder_of(name)
        if folder is not None and folder.is_dir():
            problems.append(
                f'  "{name}" is listed but {folder.relative_to(REPO_ROOT)}/ has no __init__.py:'
                " create it, or remove the line"
            )
        else:
            problems.append(f'  remove line  "{name}",   (no such folder)')
    assert not problems, (
        "[tool.setuptools] packages in pyproject.toml does not match the package folders:\n"
        + "\n".join(problems)
    )

    # Every layer (and the migrations) must stay mapped to its root folder.
    package_dir = setuptools_config["package-dir"]
    expected_dirs = {TOP_PACKAGE: TOP_PACKAGE} | {
        f"{TOP_PACKAGE}.{folder}": folder for folder in PACKAGE_FOLDERS
    }
    assert package_dir == expected_dirs, f"[tool.setuptools] package-dir should be {expected_dirs}"


def test_the_package_data_the_migrations_need_is_declared() -> None:
    setuptools_config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    package_data = setuptools_config.get("package-data", {})
    for package_name, pattern, example in DATA:
        assert pattern in package_data.get(package_name, []), (
            f'[tool.setuptools.package-data] should have "{package_name}" = ["{pattern}"]'
        )
        folder = _folder_of(package_name)
        assert folder is not None
        assert (folder / example).is_file(), f"{folder.relative_to(REPO_ROOT)}/{example} is missing"


def test_the_top_package_links_to_every_package_folder() -> None:
    # mypy and editors resolve tenantrag.<folder> through these symlinks (see ARCHITECTURE.md).
    for folder in PACKAGE_FOLDERS:
        link = REPO_ROOT / TOP_PACKAGE / folder
        assert link.is_symlink(), f"{TOP_PACKAGE}/{folder} should be a symlink to ../{folder}"
        assert link.resolve() == (REPO_ROOT / folder).resolve(), f"{link} points elsewhere"


def test_every_folder_holding_python_code_is_a_package() -> None:
    # A folder with .py files but no __init__.py would be a namespace package: it imports from the
    # checkout but is never put in the wheel.
    missing = [
        f"{d.relative_to(REPO_ROOT)}/__init__.py"
        for layer in PACKAGE_FOLDERS
        for d in _source_dirs(layer)
        if any(d.glob("*.py")) and not (d / "__init__.py").is_file()
    ]
    assert not missing, "create these files so the folders are packages:\n  " + "\n  ".join(missing)


# Run by the throwaway venv's interpreter, from a directory outside the repository, in isolated
# mode (-I), so that only the installed wheel can be imported.
_IMPORT_EVERYTHING = """
import importlib, importlib.util, json, pkgutil, sys, traceback
from pathlib import Path

LOADED_NOT_IMPORTED = set(sys.argv[1].split(","))
top = importlib.import_module("tenantrag")
result = {"modules": {"tenantrag": top.__file__}, "errors": {}, "py_typed": []}

def failed(name):
    result["errors"][name] = traceback.format_exc()

for layer in sys.argv[2].split(","):
    try:
        package = importlib.import_module(layer)
    except Exception:
        failed(layer)
        continue
    result["modules"][layer] = package.__file__
    for info in pkgutil.walk_packages(package.__path__, prefix=layer + ".", onerror=failed):
        try:
            if info.name in LOADED_NOT_IMPORTED:
                result["modules"][info.name] = importlib.util.find_spec(info.name).origin
            else:
                result["modules"][info.name] = importlib.import_module(info.name).__file__
        except Exception:
            failed(info.name)

root = Path(top.__file__).parent
result["root"] = str(root)
result["py_typed"] = sorted(p.relative_to(root.parent).as_posix() for p in root.rglob("py.typed"))
result["files"] = sorted(
    p.relative_to(root.parent).as_posix()
    for p in root.rglob("*")
    if p.is_file() and "__pycache__" not in p.parts
)
print(json.dumps(result))
"""

# Run the same way: migrate a new SQLite file with the installed migrations, without alembic.ini.
_MIGRATE = """
import json, sys
from tenantrag.adapters.sql import migrations

url = "sqlite:///" + sys.argv[1]
before = migrations.current(url)
migrations.upgrade(url)
migrations.check(url)
print(json.dumps({
    "before": before,
    "after": migrations.current(url),
    "head": migrations.head(),
    "history": [revision.id for revision in migrations.history()],
    "script_location": str(migrations.packaged_script_location()),
}))
"""


def _run(args: list[str | Path], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    completed = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, (
        f"command failed ({completed.returncode}): {' '.join(map(str, args))}\n"
        f"--- stdout ---\n{completed.stdout}\n--- stderr ---\n{completed.stderr}"
    )
    return completed


def _copy_source_tree(destination: Path) -> None:
    # Build from a clean copy: the setuptools build/ folder of the checkout may hold stale modules
    # that would end up in the wheel, and other builds may be running in the checkout.
    shutil.copytree(
        REPO_ROOT,
        destination,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git",
            "build",
            "dist",
            "*.egg-info",
            ".venv",
            ".ci-venv",
            "__pycache__",
            ".*_cache",
            ".hypothesis",
            "tests",
            "*.db",
            "*.db-*",
        ),
    )


@pytest.mark.slow
def test_wheel_installs_and_imports_every_module(tmp_path: Path) -> None:
    source = tmp_path / "source"
    dist = tmp_path / "dist"
    venv = tmp_path / "venv"
    outside = tmp_path / "outside"
    outside.mkdir()
    _copy_source_tree(source)

    _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, source], cwd=outside, timeout=600)
    wheels = list(dist.glob("tenantrag-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {dist}, found {wheels}"

    _run([sys.executable, "-m", "venv", venv], cwd=outside, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # A normal install: the wheel's dependencies come from the package index. With the postgres
    # extra, since tenantrag.adapters.postgres imports psycopg and pgvector, and the extras of
    # the integrations that import their framework (tenantrag.integrations.langchain, llamaindex).
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            f"{wheels[0]}[postgres,langchain,llamaindex]",
        ],
        cwd=outside,
        timeout=600,
    )

    completed = _run(
        [
            python,
            "-I",
            "-c",
            _IMPORT_EVERYTHING,
            ",".join(sorted(LOADED_NOT_IMPORTED)),
            ",".join(f"{TOP_PACKAGE}.{folder}" for folder in PACKAGE_FOLDERS),
        ],
        cwd=outside,
        timeout=300,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])

    assert not result["errors"], "modules failed to import from the installed wheel:\n" + "\n".join(
        f"--- {name} ---\n{error}" for name, error in sorted(result["errors"].items())
    )

    installed_root = Path(result["root"]).resolve()
    assert venv.resolve() in installed_root.parents, (
        f"tenantrag was imported from {installed_root}, not from the throwaway venv"
    )
    not_from_wheel = {
        name: path
        for name, path in result["modules"].items()
        if path is None or installed_root not in Path(path).resolve().parents
    }
    assert not not_from_wheel, f"modules imported from outside the installed wheel: {not_from_wheel}"

    imported = set(result["modules"])
    # Compared with the copy the wheel was built from, so that files being edited in the
    # checkout meanwhile cannot make the comparison flaky.
    expected = _modules_in_folders(source)
    assert imported == expected, (
        "the installed wheel does not match the .py files in the repository:\n"
        f"  missing from the wheel: {sorted(expected - imported)}\n"
        f"  only in the wheel:      {sorted(imported - expected)}\n"
        "(a missing package usually means a line is missing from [tool.setuptools] packages)"
    )

    expected_markers = {"tenantrag/py.typed"} | {
        f"{TOP_PACKAGE}/{p.relative_to(source).as_posix()}"
        for layer in PACKAGE_FOLDERS
        for p in (source / layer).rglob("py.typed")
    }
    missing_markers = expected_markers - set(result["py_typed"])
    assert not missing_markers, (
        f"py.typed markers missing from the installed package: {sorted(missing_markers)}"
        f" (installed: {result['py_typed']})"
    )

    missing_data = set(DATA_FILES) - set(result["files"])
    assert not missing_data, (
        f"data files missing from the installed package: {sorted(missing_data)}"
        " (declare them in [tool.setuptools.package-data])"
    )

    # The installed migrations build a database from nothing, with no alembic.ini around.
    database = outside / "from-the-wheel.db"
    migrated = json.loads(
        _run([python, "-I", "-c", _MIGRATE, database], cwd=outside, timeout=300)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert installed_root in Path(migrated["script_location"]).resolve().parents, migrated
    assert migrated["before"] is None, migrated
    assert migrated["after"] == migrated["head"] == migrated["history"][-1], migrated
    assert not any(outside.glob("alembic.ini")), "the wheel test must not rely on an ini file"
