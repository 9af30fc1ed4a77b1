"""Printing results: aligned text for people, JSON for scripts.

Entities become JSON through ``to_data``: ids and timestamps as strings, enums as their
values, and fields that must never leave the process (password and key hashes) or that
nobody wants on a terminal (embeddings) dropped. Text tables are plain aligned columns,
not box drawings, so they survive pipes, ``grep`` and narrow terminals alike.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
import typer

# Never printed, whatever the command.
_HIDDEN_FIELDS = frozenset({"password_hash", "secret_hash", "embedding"})


def to_data(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """``value`` as plain JSON-ready data."""
    if attrs.has(type(value)):
        return {
            field.name: to_data(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if field.name not in _HIDDEN_FIELDS
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items() if key not in _HIDDEN_FIELDS}
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    return value


def print_json(value: Any) -> None:
    typer.echo(json.dumps(to_data(value), indent=2, ensure_ascii=False))


def print_json_line(value: Any) -> None:
    """One compact JSON document per line (JSON Lines), for streaming results."""
    typer.echo(json.dumps(to_data(value), ensure_ascii=False))


def print_result(json_output: bool, data: Any, text: str) -> None:
    """``data`` as JSON with ``--json``, else the sentence ``text``."""
    if json_output:
        print_json(data)
    else:
        typer.echo(text)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str = "(none)") -> None:
    if not rows:
        typer.echo(empty)
        return
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    for row in [list(headers), *cells]:
        typer.echo("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


def print_fields(fields: Mapping[str, object]) -> None:
    """A record as ``name: value`` lines, names aligned."""
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        typer.echo(f"{name.ljust(width)}  {_cell(value)}")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(_cell(item) for item in value) or "-"
    return str(value)
