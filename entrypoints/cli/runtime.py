"""What every command shares: its options, its settings, its TenantRag, and its failures.

A command body is a coroutine run by ``execute``, which turns every error into one line
on stderr (a JSON object with ``--json``) and the exit code of ``exit_codes``, with any
password in the message hidden. Commands that read or change data open the container
with ``open_rag``, which refuses a SQLite file that does not exist rather than creating
an empty database as a side effect of, say, a search.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tenantrag.domain.errors import TenantRagError
from tenantrag.domain.model.user import User
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.backends import DatabaseUnavailable
from tenantrag.entrypoints.cli.exit_codes import ExitCode, for_code
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings

logger = logging.getLogger("tenantrag.cli")

T = TypeVar("T")

#: The CLI is the operators' tool: it acts as the system, which is owner everywhere.
SYSTEM = Principal.system()

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="The database (default: $DATABASE_URL, else sqlite:///./tenantrag.db); memory:// is throwaway.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TenantArgument = Annotated[str, typer.Argument(help="Tenant slug or id.")]

# user:password@ in any URL-looking text.
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def load_settings(database_url: str | None) -> Settings:
    """The environment's settings, with ``--database-url`` winning when given."""
    return Settings() if database_url is None else Settings(database_url=database_url)


def execute(body: Callable[[], Awaitable[T]], *, json_output: bool = False) -> T:
    """Run an async command body, turning failures into a message and an exit code."""
    with guarded(json_output=json_output):
        return asyncio.run(_awaited(body))


async def _awaited(body: Callable[[], Awaitable[T]]) -> T:
    return await body()


@contextmanager
def guarded(*, json_output: bool = False) -> Iterator[None]:
    """Map exceptions to exit codes; Typer's own (usage errors, Exit) pass through."""
    try:
        yield
    except (typer.TyperException, typer.Exit, typer.Abort):
        raise
    except TenantRagError as error:
        fail(error.code, error.message, for_code(error.code), json_output=json_output, details=error.details)
    except DBAPIError as error:
        message = f"the database refused or could not be reached: {error.orig}"
        fail(DatabaseUnavailable.code, message, ExitCode.DATABASE, json_output=json_output)
    except SQLAlchemyError as error:
        fail(DatabaseUnavailable.code, f"database error: {error}", ExitCode.DATABASE, json_output=json_output)
    except KeyboardInterrupt:
        fail("interrupted", "interrupted", ExitCode.INTERRUPTED, json_output=json_output)
    except Exception as error:
        logger.debug("unexpected error", exc_info=True)
        message = f"unexpected {type(error).__name__}: {error} (run with -vv for the traceback)"
        fail("unexpected", message, ExitCode.UNEXPECTED, json_output=json_output)


def fail(
    code: str,
    message: str,
    exit_code: ExitCode,
    *,
    json_output: bool = False,
    details: dict[str, object] | None = None,
) -> None:
    """Print the error to stderr and leave with ``exit_code``."""
    message = scrub(message)
    if json_output:
        error = {"code": code, "message": message, "details": details or {}}
        print(json.dumps({"error": error}, default=str), file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(int(exit_code))


def scrub(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ***."""
    return _PASSWORD_IN_URL.sub(r"\1***@", text)


def require_existing_database(settings: Settings) -> None:
    """Refuse a SQLite file that is not there: commands other than init must not create one."""
    path = settings.sqlite_path
    if path is not None and not path.exists():
        raise DatabaseUnavailable(
            f"no database at {settings.redacted_database_url}: run `tenantrag init` to create it,"
            " or point --database-url (or DATABASE_URL) at an existing one"
        )


@asynccontextmanager
async def open_rag(settings: Settings, *, must_exist: bool = True) -> AsyncIterator[TenantRag]:
    """The TenantRag of a container on ``settings``, shut down (engine disposed) afterwards."""
    if must_exist:
        require_existing_database(settings)
    async with running(container_for(settings)) as rag:
        yield rag


async def all_pages(fetch: Callable[[PageRequest], Awaitable[Page[T]]], page_size: int) -> list[T]:
    """Every item of a paged listing, fetching ``page_size`` at a time."""
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = await fetch(PageRequest(limit=page_size, after=cursor))
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


async def find_user(rag: TenantRag, ref: str) -> User:
    """A user by id or email."""
    try:
        return await rag.users.get(uuid.UUID(ref))
    except ValueError:
        return await rag.users.get_by_email(ref)
