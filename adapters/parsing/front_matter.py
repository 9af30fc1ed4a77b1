"""Markdown front matter: a YAML (``---``) or TOML (``+++``) block opening the file.

python-frontmatter finds and splits the block (its YAML handler loads with PyYAML's safe
loader); TOML is read with the standard library's ``tomllib`` through a handler of the
same shape, since the library's own TOML handler needs the unmaintained ``toml`` package.
The values become JSON: dates and times as ISO 8601 strings, other keys as strings, so
they can be stored as document metadata and filtered on (``metadata.year``).
"""

from __future__ import annotations

import datetime
import math
import re
import tomllib
from collections.abc import Mapping
from typing import Any

import attrs
import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.parser import UnparseableDocument


class _TomlHandler(BaseHandler):
    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_HANDLERS: tuple[tuple[BaseHandler, str], ...] = ((YAMLHandler(), "YAML"), (_TomlHandler(), "TOML"))


@attrs.frozen
class FrontMatter:
    values: dict[str, Any]  # JSON
    lines: int  # how many lines of the file it takes, closing fence included


def read_front_matter(text: str, filename: str) -> FrontMatter | None:
    """The front matter opening ``text``, or None if there is none.

    A fenced block whose content is not a mapping (a Markdown file opening with a ``---``
    rule, then a paragraph, then another rule) is not front matter. A block that is not
    valid YAML or TOML is refused with :class:`UnparseableDocument`, naming the line.
    """
    for handler, language in _HANDLERS:
        if not handler.detect(text):
            continue
        try:
            block, content = handler.split(text)
        except ValueError:  # no closing fence
            return None
        try:
            loaded: object = {} if not block.strip() else handler.load(block)
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as error:
            raise UnparseableDocument(
                filename, f"its front matter is not valid {language}: {_problem(error)}"
            ) from None
        if not isinstance(loaded, Mapping):
            return None
        try:
            values = v.json_object("front matter", _json(loaded))
        except InvalidInput as error:
            raise UnparseableDocument(filename, error.message) from None
        taken = text[: len(text) - len(content)]
        return FrontMatter(values, taken.count("\n") + (0 if taken.endswith("\n") else 1))
    return None


def _problem(error: Exception) -> str:
    """The parser's complaint, with lines counted in the file (the opening fence is line 1)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(error).split())


def _json(value: object) -> Any:
    if isinstance(value, Mapping):
        return {_key(key): _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _key(key: object) -> str:
    if isinstance(key, datetime.date | datetime.time):
        return key.isoformat()
    return key if isinstance(key, str) else str(key)
