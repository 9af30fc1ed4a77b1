"""Signed isolation bindings: what a transaction is bound to, which SQL inside it cannot forge.

Row-level security admits rows by values bound per transaction: the tenant
(``current_tenant_id``), system work (``system``), and the narrow directory values
(``directory_user_id``, ``directory_api_key_prefix``, ``directory_invitee_email``,
``job_queue``). A plain ``set_config`` would let any SQL that runs in the transaction
(an injection) bind itself to another tenant. So (migration c4e8b2d6f913):

- the database keeps an HMAC-SHA256 key in ``tenantrag_binding_key``, which only the owner
  reads; the service reads it once, when it opens, through DATABASE_URL;
- the service binds with ``tenantrag_bind(names, values, tokens)``, a token being the HMAC of
  ``name=value``; the definer function checks it and stores ``value|HMAC(name=value@tx)``,
  ``tx`` being this transaction (backend pid and ``transaction_timestamp()``);
- policies call ``(SELECT tenantrag_claim(name))``, which returns the value only when that
  HMAC matches this transaction: a ``set_config`` from inside gains nothing, and a value
  copied into a session setting is worthless in the next transaction.

The key also derives the runtime role's login password (``login_password``), so the service
can connect as that role with no configuration beyond DATABASE_URL.
"""

from __future__ import annotations

import hashlib

import attrs
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.domain.errors import TenantRagError

KEY_TABLE = "tenantrag_binding_key"
# What the policies read: setting "app.<name>" (see the migration).
NAMES = frozenset(
    {
        "current_tenant_id",
        "system",
        "directory_user_id",
        "directory_api_key_prefix",
        "directory_invitee_email",
        "job_queue",
    }
)


class BindingKeyUnavailable(TenantRagError):
    code = "deployment_invalid"


@attrs.frozen(repr=False)
class BindingKey:
    """The HMAC key as the database stores it (inner and outer pads), and the schema it
    lives in (the functions are called by that name, never through the search_path)."""

    inner: bytes
    outer: bytes
    schema: str

    def sign(self, message: str) -> str:
        inner = hashlib.sha256(self.inner + message.encode()).digest()
        return hashlib.sha256(self.outer + inner).hexdigest()

    def token(self, name: str, value: str) -> str:
        if name not in NAMES:  # pragma: no cover - a programming error in this package
            raise ValueError(f"no such binding: {name!r}")
        return "" if value == "" else self.sign(f"{name}={value}")

    def login_password(self, role: str) -> str:
        return self.sign(f"login:{role}")

    @property
    def quoted_schema(self) -> str:
        return '"' + self.schema.replace('"', '""') + '"'


async def load_key(connection: AsyncConnection) -> BindingKey:
    """Read the key, as its owner (or a superuser); otherwise say what to do."""
    try:
        row = (
            await connection.execute(
                text(f"SELECT k.inner_pad, k.outer_pad, current_schema() FROM {KEY_TABLE} k WHERE k.id = 1")  # noqa: S608
            )
        ).first()
    except DBAPIError as error:
        first = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise BindingKeyUnavailable(
            f"cannot read the isolation key ({KEY_TABLE}): {first}. DATABASE_URL must log in as"
            " the schema's owner (who ran `tenantrag init`) or a superuser; the service itself"
            " then connects as the runtime role (see README, 'PostgreSQL roles')"
        ) from error
    if row is None:
        raise BindingKeyUnavailable(f"{KEY_TABLE} is empty: run `tenantrag init` again")
    return BindingKey(bytes(row[0]), bytes(row[1]), str(row[2]))


def bind_params(key: BindingKey, values: dict[str, str]) -> dict[str, list[str]]:
    """The parameters of ``tenantrag_bind`` for ``values`` ('' unbinds a name)."""
    names = sorted(values)
    return {
        "names": names,
        "values": [values[name] for name in names],
        "tokens": [key.token(name, values[name]) for name in names],
    }


def bind_call(key: BindingKey) -> str:
    arrays = "CAST(:names AS text[]), CAST(:values AS text[]), CAST(:tokens AS text[])"
    return f"{key.quoted_schema}.tenantrag_bind({arrays})"


async def bind(connection: AsyncConnection, key: BindingKey, **values: str) -> None:
    """Bind ``values`` for the rest of this transaction (store copies, tests, benchmarks)."""
    await connection.execute(text(f"SELECT {bind_call(key)}"), bind_params(key, values))
