"""Turning pydantic's validation errors into messages that name environment variables.

pydantic reports ``db_pool_size: Input should be a valid integer``; an operator set
``DB_POOL_SIZE`` (or ``DATABASE_POOL_SIZE``) and needs to read that name, what is accepted,
and what they gave, except where what they gave is a secret or holds a password.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pydantic import AliasChoices, ValidationError
from pydantic.fields import FieldInfo

from tenantrag.domain.errors import TenantRagError


class SettingsError(TenantRagError):
    """One or more settings are invalid; ``problems`` pairs each variable with what is wrong."""

    code = "invalid_settings"

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            variable, problem = self.problems[0]
            message = f"invalid setting {variable}: {problem}"
        else:
            lines = "".join(f"\n  {variable}: {problem}" for variable, problem in self.problems)
            message = f"invalid settings:{lines}"
        super().__init__(message, details={"variables": [variable for variable, _ in self.problems]})


def variable_names(field: str, info: FieldInfo) -> list[str]:
    """The variables a field is read from, the main one first."""
    if isinstance(info.validation_alias, AliasChoices):
        return [str(choice) for choice in info.validation_alias.choices]
    return [field.upper()]


def variable_label(field: str, info: FieldInfo) -> str:
    """``DB_POOL_SIZE (or DATABASE_POOL_SIZE)``: how messages name a field."""
    names = variable_names(field, info)
    return names[0] if len(names) == 1 else f"{names[0]} (or {', '.join(names[1:])})"


def settings_error(
    error: ValidationError, fields: Mapping[str, FieldInfo], *, unshown: Collection[str] = ()
) -> SettingsError:
    """``error`` with variables for field names; the values of ``unshown`` fields are not quoted."""
    problems = []
    for item in error.errors():
        location = item["loc"][0] if item["loc"] else None
        field = next(
            (name for name, info in fields.items() if location in (name, *variable_names(name, info))), None
        )
        label = variable_label(field, fields[field]) if field else str(location or "settings")
        message = str(item["msg"]).removeprefix("Value error, ")
        value = item.get("input")
        hidden = field in unshown or value is None or isinstance(value, dict)
        problems.append((label, message if hidden else f"{message} (got {value!r:.80})"))
    return SettingsError(problems)
