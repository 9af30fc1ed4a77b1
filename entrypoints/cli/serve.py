"""``tenantrag serve``: the HTTP API under uvicorn, on the container the settings describe.

The port is bound first, so a port in use is refused (exit code 5, conflict) before
anything else happens, and what is announced is the address really listened on (the
port the system chose, with ``--port 0``). The backend is opened before uvicorn starts, so
a database that is unreachable or behind on migrations stops the command with its own
message and exit code instead of a traceback from the ASGI lifespan. The application's
lifespan then finds it open and closes it at shutdown. The HTTP package is imported only
here, so the other commands do not pay for FastAPI's import.
"""

from __future__ import annotations

import errno
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from tenantrag.domain.errors import Conflict, InvalidInput, PermissionDenied
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, execute, load_settings
from tenantrag.entrypoints.container import Container, container_for
from tenantrag.entrypoints.settings import Settings

if TYPE_CHECKING:
    import uvicorn

Host = Annotated[str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")]
Port = Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")]


def public_url(host: str, port: int) -> str:
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - only for display
    return f"http://{shown}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``, or the reason there can be none, named."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except PermissionError:
        raise PermissionDenied(
            f"not allowed to listen on {host}:{port} (ports below 1024 need privileges):"
            " choose another --port"
        ) from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise Conflict(
                f"port {port} on {host} is in use by another program: choose another --port"
            ) from None
        raise InvalidInput("host", f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def listening_url(host: str, listener: socket.socket) -> str:
    return public_url(host, listener.getsockname()[1])


async def serve_container(
    container: Container,
    settings: Settings,
    *,
    host: str,
    listener: socket.socket,
    announce: Callable[[], None] | None = None,
) -> None:
    """Open the backend, ``announce``, then serve the API on ``listener`` until interrupted
    (Ctrl-C, SIGTERM)."""
    import uvicorn

    from tenantrag.entrypoints.http.app import create_app
    from tenantrag.entrypoints.observability.logs import logging_config

    try:
        started = container.init_resources()
        if started is not None:
            await started
        app = create_app(container)
        config = uvicorn.Config(
            app,
            host=host,
            port=listener.getsockname()[1],
            log_level=settings.log_level.lower(),
            # LOG_FORMAT (text or JSON lines), with the request id; uvicorn's loggers included.
            log_config=logging_config(settings.log_format, settings.log_level),
            lifespan="on",
            server_header=False,
        )
        if announce is not None:
            announce()
        await _serve_until_stopped(uvicorn.Server(config), listener)
    finally:
        listener.close()
        stopped = container.shutdown_resources()
        if stopped is not None:
            await stopped


async def _serve_until_stopped(server: uvicorn.Server, listener: socket.socket) -> None:
    """Serve; Ctrl-C and SIGTERM are a requested stop (exit 0), not an error.

    uvicorn shuts down gracefully on either signal, then raises it again with the handler
    it found. asyncio.run's SIGINT handler would turn that into a cancelled task and exit
    130, and SIGTERM's default would kill the process before our own clean-up (disposing
    the engine), so while serving both raise KeyboardInterrupt here, which ends serving.
    """
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.default_int_handler) for number in stop_signals}
    try:
        await server.serve(sockets=[listener])
    except KeyboardInterrupt:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the HTTP API (docs at /docs, liveness at /health)."""

    async def body() -> None:
        settings = load_settings(database_url)
        listener = listen(host, port)
        where = f"tenantrag: {settings.redacted_database_url} on {listening_url(host, listener)}"
        await serve_container(
            container_for(settings),
            settings,
            host=host,
            listener=listener,
            announce=lambda: typer.echo(where, err=True),
        )

    execute(body)
